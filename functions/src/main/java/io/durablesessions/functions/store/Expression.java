package io.durablesessions.functions.store;

import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * A condition expression with the names and values its placeholders stand for: immutable, defined
 * once (e.g. {@link RunRow#RUNNING}, {@link #NEW_ROW}) and used by every write that needs it.
 * {@link #and} merges two, and refuses a placeholder that stands for different things in each, so
 * conditions from different rules can be combined without a silent clash. Its placeholders are
 * names ({@code #state}, {@code :running}); {@link Update}'s generated ones are numbered
 * ({@code #n0}, {@code :v0}), so the two never meet.
 */
public record Expression(String text, Map<String, String> names, Map<String, AttributeValue> values) {
    /** The row does not exist yet: a put that creates it. */
    public static final Expression NEW_ROW =
            new Expression("attribute_not_exists(#sk)", Map.of("#sk", Attrs.SK), Map.of());
    /** The row exists: an update that must not create it. */
    public static final Expression EXISTING_ROW =
            new Expression("attribute_exists(#sk)", Map.of("#sk", Attrs.SK), Map.of());

    public Expression {
        names = Map.copyOf(names);
        values = Map.copyOf(values);
    }

    /** Both conditions; a placeholder both use must stand for the same name or value. */
    public Expression and(Expression other) {
        return new Expression(
                "(" + text + ") AND (" + other.text + ")", merge(names, other.names), merge(values, other.values));
    }

    static <V> Map<String, V> merge(Map<String, V> a, Map<String, V> b) {
        Map<String, V> out = new LinkedHashMap<>(a);
        b.forEach((k, v) -> {
            V had = out.putIfAbsent(k, v);
            if (had != null && !had.equals(v)) {
                throw new IllegalArgumentException("placeholder " + k + " stands for " + had + " and for " + v);
            }
        });
        return out;
    }

    /** A put of {@code item} under this condition, as an item of a transaction. */
    public TransactWriteItem put(String table, Map<String, AttributeValue> item) {
        return TransactWriteItem.builder()
                .put(p -> p.tableName(table)
                        .item(item)
                        .conditionExpression(text)
                        .expressionAttributeNames(names.isEmpty() ? null : names)
                        .expressionAttributeValues(values.isEmpty() ? null : values))
                .build();
    }

    /** A single put of {@code item} under this condition. */
    public PutItemRequest putRequest(String table, Map<String, AttributeValue> item) {
        return PutItemRequest.builder()
                .tableName(table)
                .item(item)
                .conditionExpression(text)
                .expressionAttributeNames(names.isEmpty() ? null : names)
                .expressionAttributeValues(values.isEmpty() ? null : values)
                .build();
    }
}
