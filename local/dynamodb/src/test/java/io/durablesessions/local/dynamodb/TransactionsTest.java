package io.durablesessions.local.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactGetItem;
import software.amazon.awssdk.services.dynamodb.model.TransactGetItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

class TransactionsTest extends LocalDynamoDbTestBase {
    static final String T = "txn";

    @BeforeAll
    void table() {
        createTable(T, false);
    }

    Map<String, AttributeValue> get(String pk) {
        return ddb.getItem(b -> b.tableName(T).key(item("pk", s(pk))).consistentRead(true))
                .item();
    }

    TransactWriteItem put(String pk, String condition) {
        return TransactWriteItem.builder()
                .put(p -> p.tableName(T).item(item("pk", s(pk), "v", n(1))).conditionExpression(condition))
                .build();
    }

    @Test
    void allOrNothingWithCancellationReasonsAlignedToItems() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("existing"), "v", n(7))));
        TransactionCanceledException e = catchThrowableOfType(
                TransactionCanceledException.class,
                () -> ddb.transactWriteItems(b -> b.transactItems(
                        put("new-1", "attribute_not_exists(pk)"),
                        TransactWriteItem.builder()
                                .update(u -> u.tableName(T)
                                        .key(item("pk", s("existing")))
                                        .updateExpression("SET v = :v")
                                        .conditionExpression("v = :old")
                                        .expressionAttributeValues(item(":v", n(8), ":old", n(0)))
                                        .returnValuesOnConditionCheckFailure(
                                                ReturnValuesOnConditionCheckFailure.ALL_OLD))
                                .build(),
                        TransactWriteItem.builder()
                                .conditionCheck(c -> c.tableName(T)
                                        .key(item("pk", s("other")))
                                        .conditionExpression("attribute_not_exists(pk)"))
                                .build())));
        assertThat(e.cancellationReasons())
                .extracting(CancellationReason::code)
                .containsExactly("None", "ConditionalCheckFailed", "None");
        assertThat(e.cancellationReasons().get(1).item()).containsEntry("v", n(7));
        assertThat(e.cancellationReasons().get(1).message()).isEqualTo("The conditional request failed");
        assertThat(e.getMessage())
                .contains(
                        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]");
        assertThat(get("new-1")).isEmpty();
        assertThat(get("existing")).containsEntry("v", n(7));

        ddb.transactWriteItems(b -> b.transactItems(
                put("new-1", "attribute_not_exists(pk)"),
                TransactWriteItem.builder()
                        .delete(d -> d.tableName(T).key(item("pk", s("existing"))))
                        .build()));
        assertThat(get("new-1")).containsEntry("v", n(1));
        assertThat(get("existing")).isEmpty();
    }

    @Test
    void twoOperationsOnOneItemAreRejected() {
        assertThatThrownBy(() -> ddb.transactWriteItems(b -> b.transactItems(put("dup", null), put("dup", null))))
                .isInstanceOf(software.amazon.awssdk.services.dynamodb.model.DynamoDbException.class)
                .hasMessageContaining("multiple operations on one item");
    }

    @Test
    void moreThanOneHundredItemsAreRejected() {
        List<TransactWriteItem> items = new ArrayList<>();
        for (int i = 0; i < 101; i++) items.add(put("many-" + i, null));
        assertThatThrownBy(() -> ddb.transactWriteItems(b -> b.transactItems(items)))
                .hasMessageContaining("less than or equal to 100");
    }

    @Test
    void clientRequestTokenMakesRetriesIdempotent() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("idem"), "v", n(0))));
        TransactWriteItemsRequest req = TransactWriteItemsRequest.builder()
                .clientRequestToken("token-1")
                .transactItems(TransactWriteItem.builder()
                        .update(u -> u.tableName(T)
                                .key(item("pk", s("idem")))
                                .updateExpression("SET v = v + :one")
                                .expressionAttributeValues(item(":one", n(1))))
                        .build())
                .build();
        ddb.transactWriteItems(req);
        ddb.transactWriteItems(req);
        assertThat(get("idem")).containsEntry("v", n(1));
    }

    @Test
    void transactGetItems() {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("g1"), "v", n(1))));
        TransactGetItemsResponse r = ddb.transactGetItems(b -> b.transactItems(
                TransactGetItem.builder()
                        .get(g -> g.tableName(T).key(item("pk", s("g1"))))
                        .build(),
                TransactGetItem.builder()
                        .get(g -> g.tableName(T).key(item("pk", s("missing"))))
                        .build()));
        assertThat(r.responses().get(0).item()).containsEntry("v", n(1));
        assertThat(r.responses().get(1).hasItem()).isFalse();
    }

    @Test
    void concurrentConditionalIncrementsLoseNoUpdate() throws Exception {
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("counter"), "v", n(0))));
        int threads = 8, perThread = 500;
        AtomicLong conflicts = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (DynamoDbClient client = client(true)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        while (true) {
                            String current = client.getItem(b -> b.tableName(T)
                                            .key(item("pk", s("counter")))
                                            .consistentRead(true))
                                    .item()
                                    .get("v")
                                    .n();
                            long next = Long.parseLong(current) + 1;
                            try {
                                client.transactWriteItems(b -> b.transactItems(TransactWriteItem.builder()
                                        .update(u -> u.tableName(T)
                                                .key(item("pk", s("counter")))
                                                .updateExpression("SET v = :next")
                                                .conditionExpression("v = :current")
                                                .expressionAttributeValues(item(
                                                        ":next", n(next), ":current", AttributeValue.fromN(current))))
                                        .build()));
                                break;
                            } catch (TransactionCanceledException e) {
                                conflicts.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(get("counter")).containsEntry("v", n(threads * perThread));
    }
}
