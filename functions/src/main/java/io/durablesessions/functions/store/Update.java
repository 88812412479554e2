package io.durablesessions.functions.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * Builds one conditional update of one row. Every attribute name and value gets a placeholder of
 * its own ({@code #n0}, {@code :v0}, …), handed out here, so clauses added by different rules can
 * never clash; {@link #build} produces the request. Used for one write, then dropped.
 */
final class Update {
    private final String table;
    private final Map<String, AttributeValue> key;
    private final Map<String, String> names = new LinkedHashMap<>();
    private final Map<String, String> placeholderOf = new LinkedHashMap<>();
    private final Map<String, AttributeValue> values = new LinkedHashMap<>();
    private final List<String> set = new ArrayList<>();
    private final List<String> remove = new ArrayList<>();
    private final List<String> add = new ArrayList<>();
    private final List<String> delete = new ArrayList<>();
    private final List<String> conditions = new ArrayList<>();
    private boolean returnItemOnFailure;

    Update(String table, Map<String, AttributeValue> key) {
        this.table = table;
        this.key = Map.copyOf(key);
    }

    /** The placeholder of a (top-level or map key) name; one per distinct name. */
    String name(String attribute) {
        return placeholderOf.computeIfAbsent(attribute, a -> {
            String p = "#n" + names.size();
            names.put(p, a);
            return p;
        });
    }

    /** A document path {@code a.b} of names, each with its placeholder. */
    String path(String... attributes) {
        StringBuilder sb = new StringBuilder();
        for (String a : attributes) {
            if (!sb.isEmpty()) sb.append('.');
            sb.append(name(a));
        }
        return sb.toString();
    }

    String value(AttributeValue v) {
        String p = ":v" + values.size();
        values.put(p, v);
        return p;
    }

    Update set(String path, AttributeValue v) {
        set.add(path + " = " + value(v));
        return this;
    }

    /** A SET clause written with {@link #name}/{@link #value} placeholders (e.g. if_not_exists). */
    Update setClause(String clause) {
        set.add(clause);
        return this;
    }

    Update remove(String path) {
        remove.add(path);
        return this;
    }

    Update add(String path, AttributeValue v) {
        add.add(path + " " + value(v));
        return this;
    }

    /** Takes the elements of the set {@code v} out of the set at {@code path} (an emptied set is removed). */
    Update delete(String path, AttributeValue v) {
        delete.add(path + " " + value(v));
        return this;
    }

    /** A condition written with this update's placeholders; all conditions must hold. */
    Update condition(String condition) {
        conditions.add(condition);
        return this;
    }

    /** A shared condition with its own placeholders (see {@link Expression}); all conditions must hold. */
    Update condition(Expression e) {
        e.names().forEach((placeholder, name) -> {
            String had = names.putIfAbsent(placeholder, name);
            if (had != null && !had.equals(name)) throw new IllegalArgumentException(placeholder + " clashes");
        });
        e.values().forEach((placeholder, value) -> {
            AttributeValue had = values.putIfAbsent(placeholder, value);
            if (had != null && !had.equals(value)) throw new IllegalArgumentException(placeholder + " clashes");
        });
        conditions.add("(" + e.text() + ")");
        return this;
    }

    boolean changesSomething() {
        return !set.isEmpty() || !remove.isEmpty() || !add.isEmpty() || !delete.isEmpty();
    }

    String updateExpression() {
        StringBuilder sb = new StringBuilder();
        if (!set.isEmpty()) sb.append("SET ").append(String.join(", ", set));
        if (!remove.isEmpty())
            sb.append(sb.isEmpty() ? "" : " ").append("REMOVE ").append(String.join(", ", remove));
        if (!add.isEmpty()) sb.append(sb.isEmpty() ? "" : " ").append("ADD ").append(String.join(", ", add));
        if (!delete.isEmpty())
            sb.append(sb.isEmpty() ? "" : " ").append("DELETE ").append(String.join(", ", delete));
        return sb.toString();
    }

    String conditionExpression() {
        return conditions.isEmpty() ? null : String.join(" AND ", conditions);
    }

    /** As an item of a transaction: an Update, or a ConditionCheck when it changes nothing. */
    TransactWriteItem transactItem() {
        String condition = conditionExpression();
        if (!changesSomething()) {
            if (condition == null)
                throw new IllegalStateException("an update that neither changes nor checks anything");
            return TransactWriteItem.builder()
                    .conditionCheck(c -> c.tableName(table)
                            .key(key)
                            .conditionExpression(condition)
                            .expressionAttributeNames(nullIfEmpty(names))
                            .expressionAttributeValues(nullIfEmpty(values)))
                    .build();
        }
        return TransactWriteItem.builder()
                .update(u -> u.tableName(table)
                        .key(key)
                        .updateExpression(updateExpression())
                        .conditionExpression(condition)
                        .expressionAttributeNames(nullIfEmpty(names))
                        .expressionAttributeValues(nullIfEmpty(values))
                        .returnValuesOnConditionCheckFailure(
                                returnItemOnFailure ? ReturnValuesOnConditionCheckFailure.ALL_OLD : null))
                .build();
    }

    /**
     * In a transaction, a failed condition returns the item as it is (in the cancellation reason):
     * the caller retries from it without reading it again. DynamoDB charges nothing for it.
     */
    Update returnItemOnFailure() {
        this.returnItemOnFailure = true;
        return this;
    }

    UpdateItemRequest request() {
        return UpdateItemRequest.builder()
                .tableName(table)
                .key(key)
                .updateExpression(updateExpression())
                .conditionExpression(conditionExpression())
                .expressionAttributeNames(nullIfEmpty(names))
                .expressionAttributeValues(nullIfEmpty(values))
                .build();
    }

    private static <K, V> Map<K, V> nullIfEmpty(Map<K, V> m) {
        return m.isEmpty() ? null : Map.copyOf(m);
    }
}
