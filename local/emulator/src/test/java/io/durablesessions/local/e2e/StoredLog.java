package io.durablesessions.local.e2e;

import io.durablesessions.events.Event;
import io.durablesessions.local.EmbeddedStack;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** The stored log of a session, read page by page from the store: what every client must end up with. */
final class StoredLog {
    private StoredLog() {}

    static List<String> raw(EmbeddedStack stack, String session) {
        List<String> all = new ArrayList<>();
        stack.services().sessions().forEachAfter(session, 0, e -> all.add(e.json()));
        return all;
    }

    static List<Event> events(EmbeddedStack stack, String session) {
        return raw(stack, session).stream().map(Event::fromJson).toList();
    }

    /** Every item of {@code table} under one partition key, read consistently: the rows as stored, every attribute. */
    static List<Map<String, AttributeValue>> rows(EmbeddedStack stack, String table, String keyName, String key) {
        return stack.dynamoClient()
                .query(q -> q.tableName(table)
                        .consistentRead(true)
                        .keyConditionExpression("#k = :k")
                        .expressionAttributeNames(Map.of("#k", keyName))
                        .expressionAttributeValues(Map.of(":k", AttributeValue.fromS(key))))
                .items();
    }
}
