package io.durablesessions.functions.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

/**
 * Batch calls over any number of keys, the way DynamoDB wants them: at most 100 keys per
 * BatchGetItem, and what it leaves unprocessed (throttling, the 16 MB answer limit) asked again
 * after a short randomized backoff, until all is read.
 */
public final class BatchReads {
    private BatchReads() {}

    static final int MAX_KEYS = 100;

    /** The items that exist among {@code keys}, in no particular order. */
    public static List<Map<String, AttributeValue>> get(
            DynamoDbClient ddb, String table, List<Map<String, AttributeValue>> keys, boolean consistent) {
        return get(ddb, table, keys, consistent, null, null);
    }

    /** As {@link #get(DynamoDbClient, String, List, boolean)}, reading only {@code projection}. */
    public static List<Map<String, AttributeValue>> get(
            DynamoDbClient ddb,
            String table,
            List<Map<String, AttributeValue>> keys,
            boolean consistent,
            String projection,
            Map<String, String> names) {
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i += MAX_KEYS) {
            KeysAndAttributes.Builder chunk = KeysAndAttributes.builder()
                    .keys(keys.subList(i, Math.min(keys.size(), i + MAX_KEYS)))
                    .consistentRead(consistent);
            if (projection != null) chunk.projectionExpression(projection).expressionAttributeNames(names);
            Map<String, KeysAndAttributes> request = Map.of(table, chunk.build());
            int attempt = 0;
            while (request != null) {
                Map<String, KeysAndAttributes> req = request;
                var r = ddb.batchGetItem(b -> b.requestItems(req));
                out.addAll(r.responses().getOrDefault(table, List.of()));
                request = r.hasUnprocessedKeys() && !r.unprocessedKeys().isEmpty() ? r.unprocessedKeys() : null;
                if (request != null) backoff(++attempt);
            }
        }
        return out;
    }

    /** Before asking again for what a batch call left unprocessed: up to 20 tries, 10 ms … 640 ms apart. */
    static void backoff(int attempt) {
        if (attempt > 20) throw new IllegalStateException("DynamoDB kept leaving items unprocessed");
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(Math.min(1000, 10L << Math.min(attempt, 6)) + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
