package io.durablesessions.local.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

class ItemOperationsTest extends LocalDynamoDbTestBase {
    static final String T = "items";

    @BeforeAll
    void table() {
        createTable(T, false);
    }

    Map<String, AttributeValue> get(String pk) {
        return ddb.getItem(b -> b.tableName(T).key(item("pk", s(pk))).consistentRead(true))
                .item();
    }

    @Test
    void conditionalPutSucceedsOnlyWhenTheItemIsAbsent() {
        PutItemRequest put = PutItemRequest.builder()
                .tableName(T)
                .item(item("pk", s("p1"), "v", n(1)))
                .conditionExpression("attribute_not_exists(pk)")
                .build();
        ddb.putItem(put);
        assertThatThrownBy(() -> ddb.putItem(
                        put.toBuilder().item(item("pk", s("p1"), "v", n(2))).build()))
                .isInstanceOf(ConditionalCheckFailedException.class)
                .hasMessageContaining("The conditional request failed");
        assertThat(get("p1")).containsEntry("v", n(1));
    }

    @Test
    void failedConditionReturnsTheOldItemWhenAskedFor() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("p2"), "version", n(3))));
        ConditionalCheckFailedException e = catchThrowableOfType(
                ConditionalCheckFailedException.class,
                () -> ddb.updateItem(b -> b.tableName(T)
                        .key(item("pk", s("p2")))
                        .updateExpression("SET version = :next")
                        .conditionExpression("version = :expected")
                        .expressionAttributeValues(item(":next", n(5), ":expected", n(4)))
                        .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)));
        assertThat(e.item()).containsEntry("version", n(3));
        assertThat(get("p2")).containsEntry("version", n(3));
    }

    @Test
    void conditionalDeleteAndUpdateLeaveTheItemUntouchedOnFailure() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("p3"), "owner", s("alice"))));
        assertThatThrownBy(() -> ddb.deleteItem(b -> b.tableName(T)
                        .key(item("pk", s("p3")))
                        .conditionExpression("#o = :me")
                        .expressionAttributeNames(Map.of("#o", "owner"))
                        .expressionAttributeValues(item(":me", s("bob")))))
                .isInstanceOf(ConditionalCheckFailedException.class);
        assertThat(get("p3")).containsEntry("owner", s("alice"));
        DeleteItemResponse deleted = ddb.deleteItem(b -> b.tableName(T)
                .key(item("pk", s("p3")))
                .conditionExpression("#o = :me")
                .expressionAttributeNames(Map.of("#o", "owner"))
                .expressionAttributeValues(item(":me", s("alice")))
                .returnValues(ReturnValue.ALL_OLD));
        assertThat(deleted.attributes()).containsEntry("owner", s("alice"));
        assertThat(get("p3")).isEmpty();
    }

    @Test
    void updateExpressionForms() {
        ddb.putItem(b -> b.tableName(T)
                .item(item(
                        "pk",
                        s("u1"),
                        "n",
                        n(10),
                        "lst",
                        AttributeValue.fromL(List.of(s("a"))),
                        "tags",
                        AttributeValue.fromSs(List.of("x", "y")),
                        "old",
                        AttributeValue.fromSs(List.of("x", "y")),
                        "doc",
                        AttributeValue.fromM(item("inner", n(1))),
                        "gone",
                        s("bye"))));
        UpdateItemResponse r = ddb.updateItem(b -> b.tableName(T)
                .key(item("pk", s("u1")))
                .updateExpression(
                        "SET n = n + :five, m = if_not_exists(m, :zero) - :one, lst = list_append(lst, :more), doc.inner = :two "
                                + "REMOVE gone ADD hits :one, tags :z DELETE old :x")
                .expressionAttributeValues(item(
                        ":five",
                        n(5),
                        ":zero",
                        n(0),
                        ":one",
                        n(1),
                        ":two",
                        n(2),
                        ":more",
                        AttributeValue.fromL(List.of(s("b"))),
                        ":z",
                        AttributeValue.fromSs(List.of("z")),
                        ":x",
                        AttributeValue.fromSs(List.of("x"))))
                .returnValues(ReturnValue.ALL_NEW));
        Map<String, AttributeValue> i = r.attributes();
        assertThat(i.get("n")).isEqualTo(n(15));
        assertThat(i.get("m")).isEqualTo(n(-1));
        assertThat(i.get("lst").l()).containsExactly(s("a"), s("b"));
        assertThat(i.get("doc").m()).containsEntry("inner", n(2));
        assertThat(i).doesNotContainKey("gone").containsEntry("hits", n(1));
        assertThat(i.get("tags").ss()).containsExactlyInAnyOrder("x", "y", "z");
        assertThat(i.get("old").ss()).containsExactly("y");

        // list elements by index; two paths that overlap are rejected like DynamoDB does
        ddb.updateItem(b -> b.tableName(T)
                .key(item("pk", s("u1")))
                .updateExpression("SET lst[0] = :first REMOVE lst[1]")
                .expressionAttributeValues(item(":first", s("A"))));
        assertThat(get("u1").get("lst").l()).containsExactly(s("A"));
        assertThatThrownBy(() -> ddb.updateItem(b -> b.tableName(T)
                        .key(item("pk", s("u1")))
                        .updateExpression("SET lst = :l, lst[0] = :first")
                        .expressionAttributeValues(item(":first", s("A"), ":l", AttributeValue.fromL(List.of())))))
                .hasMessageContaining("overlap");
    }

    @Test
    void updateReturnValuesUpdatedOldAndNew() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("u2"), "a", n(1), "b", n(2))));
        UpdateItemResponse old = ddb.updateItem(b -> b.tableName(T)
                .key(item("pk", s("u2")))
                .updateExpression("SET a = :v")
                .expressionAttributeValues(item(":v", n(7)))
                .returnValues(ReturnValue.UPDATED_OLD));
        assertThat(old.attributes()).containsExactlyEntriesOf(item("a", n(1)));
        UpdateItemResponse now = ddb.updateItem(b -> b.tableName(T)
                .key(item("pk", s("u2")))
                .updateExpression("SET a = :v")
                .expressionAttributeValues(item(":v", n(8)))
                .returnValues(ReturnValue.UPDATED_NEW));
        assertThat(now.attributes()).containsExactlyEntriesOf(item("a", n(8)));
    }

    @Test
    void numbersAreExactDecimals() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("num"), "x", AttributeValue.fromN("0.1"))));
        ddb.updateItem(b -> b.tableName(T)
                .key(item("pk", s("num")))
                .updateExpression("SET x = x + :v")
                .expressionAttributeValues(item(":v", AttributeValue.fromN("0.2"))));
        assertThat(get("num").get("x").n()).isEqualTo("0.3");
        ddb.putItem(b -> b.tableName(T)
                .item(item("pk", s("num"), "x", AttributeValue.fromN("12345678901234567890123456789012345678"))));
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T)
                        .item(item(
                                "pk", s("num"), "x", AttributeValue.fromN("123456789012345678901234567890123456789")))))
                .isInstanceOf(DynamoDbException.class)
                .hasMessageContaining("38 significant digits");
    }

    @Test
    void conditionFunctionsAndOperators() {
        ddb.putItem(b -> b.tableName(T)
                .item(item(
                        "pk",
                        s("c1"),
                        "s",
                        s("hello"),
                        "n",
                        n(5),
                        "l",
                        AttributeValue.fromL(List.of(n(1), n(2))),
                        "m",
                        AttributeValue.fromM(item("deep", s("x"))))));
        String[] holding = {
            "begins_with(s, :he)", "contains(s, :ll)", "size(s) = :five", "n BETWEEN :one AND :five",
                    "n IN (:one, :five)",
            "attribute_type(l, :L)", "l[1] = :two", "m.deep = :x", "NOT (n < :one) AND (s <> :x OR n = :one)",
                    "contains(l, :two)"
        };
        for (String cond : holding) {
            Map<String, AttributeValue> values = item(
                    ":he", s("he"), ":ll", s("ll"), ":five", n(5), ":one", n(1), ":L", s("L"), ":two", n(2), ":x",
                    s("x"));
            values.keySet().removeIf(k -> !cond.contains(k));
            ddb.putItem(b ->
                    b.tableName(T).item(get("c1")).conditionExpression(cond).expressionAttributeValues(values));
        }
        // comparing different types is simply false
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T)
                        .item(get("c1"))
                        .conditionExpression("s < :n")
                        .expressionAttributeValues(item(":n", n(1)))))
                .isInstanceOf(ConditionalCheckFailedException.class);
    }

    @Test
    void validationErrors() {
        assertThatThrownBy(() ->
                        ddb.putItem(b -> b.tableName(T).item(item("pk", s("big"), "blob", s(repeat('x', 400 * 1024))))))
                .isInstanceOf(DynamoDbException.class)
                .hasMessageContaining("Item size has exceeded the maximum allowed size");
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T).item(item("other", s("x")))))
                .hasMessageContaining("Missing the key pk");
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T).item(item("pk", n(1)))))
                .hasMessageContaining("Type mismatch for key pk");
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T).item(item("pk", s("")))))
                .hasMessageContaining("cannot contain an empty string value");
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T)
                        .item(item("pk", s("x")))
                        .conditionExpression("attribute_not_exists(pk)")
                        .expressionAttributeValues(item(":unused", n(1)))))
                .hasMessageContaining("unused in expressions: keys: {:unused}");
        assertThatThrownBy(() ->
                        ddb.putItem(b -> b.tableName(T).item(item("pk", s("x"))).conditionExpression("a = :missing")))
                .hasMessageContaining("attribute value: :missing");
        assertThatThrownBy(() -> ddb.putItem(b -> b.tableName(T)
                        .item(item("pk", s("x")))
                        .conditionExpression("a = = :v")
                        .expressionAttributeValues(item(":v", n(1)))))
                .hasMessageContaining("Syntax error");
        assertThatThrownBy(() -> ddb.putItem(
                        b -> b.tableName(T).item(item("pk", s("x"))).conditionExpression("attribute_exists(status)")))
                .hasMessageContaining("reserved keyword");
        assertThatThrownBy(() -> ddb.getItem(b -> b.tableName("nope").key(item("pk", s("x")))))
                .isInstanceOf(ResourceNotFoundException.class);
        assertThatThrownBy(() -> createTable(T, false)).isInstanceOf(ResourceInUseException.class);
        assertThatThrownBy(() -> ddb.updateItem(b -> b.tableName(T)
                        .key(item("pk", s("x")))
                        .updateExpression("SET pk = :v")
                        .expressionAttributeValues(item(":v", s("y")))))
                .hasMessageContaining("part of the key");
    }

    @Test
    void getItemProjectionAndBatchOperations() {
        ddb.batchWriteItem(b -> b.requestItems(Map.of(
                T,
                List.of(
                        WriteRequest.builder()
                                .putRequest(p -> p.item(item("pk", s("b1"), "a", n(1), "b", n(2))))
                                .build(),
                        WriteRequest.builder()
                                .putRequest(p -> p.item(item("pk", s("b2"), "a", n(3))))
                                .build()))));
        assertThat(ddb.getItem(b -> b.tableName(T).key(item("pk", s("b1"))).projectionExpression("b"))
                        .item())
                .containsExactlyEntriesOf(item("b", n(2)));
        BatchGetItemResponse r = ddb.batchGetItem(b -> b.requestItems(Map.of(
                T,
                KeysAndAttributes.builder()
                        .keys(item("pk", s("b1")), item("pk", s("b2")), item("pk", s("none")))
                        .build())));
        assertThat(r.responses().get(T)).hasSize(2);
        assertThat(r.unprocessedKeys()).isEmpty();
    }
}
