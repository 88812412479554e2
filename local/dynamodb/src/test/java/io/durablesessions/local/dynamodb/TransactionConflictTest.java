package io.durablesessions.local.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactGetItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

/** The conflicts DynamoDB raises while a transaction holds an item, injected on demand. */
class TransactionConflictTest extends LocalDynamoDbTestBase {
    static final String T = "conflicts";
    static final Duration LONG_HOLD = Duration.ofMinutes(5); // every request below falls inside it

    @BeforeAll
    void table() {
        createTable(T, false);
    }

    @AfterEach
    void clearFaults() {
        server.faults().clear();
    }

    void transactPut(String... pks) {
        TransactWriteItem[] items = new TransactWriteItem[pks.length];
        for (int i = 0; i < pks.length; i++) {
            String pk = pks[i];
            items[i] = TransactWriteItem.builder()
                    .put(p -> p.tableName(T).item(item("pk", s(pk), "v", n(1))))
                    .build();
        }
        ddb.transactWriteItems(b -> b.transactItems(items));
    }

    @Test
    void singleItemWritesToAnItemATransactionHoldsFailWithTransactionConflictAndChangeNothing() {
        server.faults().transactionConflicts(1.0, LONG_HOLD, 1);
        transactPut("held");
        long before = server.faults().transactionConflictExceptions();
        try (DynamoDbClient noRetries = client(false)) {
            assertThatThrownBy(() -> noRetries.updateItem(u -> u.tableName(T)
                            .key(item("pk", s("held")))
                            .updateExpression("SET v = :two")
                            .expressionAttributeValues(item(":two", n(2)))))
                    .isInstanceOf(TransactionConflictException.class)
                    .hasMessageContaining("Transaction is ongoing for the item");
            assertThatThrownBy(() -> noRetries.putItem(p -> p.tableName(T).item(item("pk", s("held"), "v", n(3)))))
                    .isInstanceOf(TransactionConflictException.class);
            assertThatThrownBy(() -> noRetries.deleteItem(d -> d.tableName(T).key(item("pk", s("held")))))
                    .isInstanceOf(TransactionConflictException.class);
            // the conflict wins over a failing condition: the condition is never evaluated
            assertThatThrownBy(() -> noRetries.putItem(p ->
                            p.tableName(T).item(item("pk", s("held"))).conditionExpression("attribute_not_exists(pk)")))
                    .isInstanceOf(TransactionConflictException.class);
            // reads still succeed, and see the transaction's result
            assertThat(noRetries
                            .getItem(g ->
                                    g.tableName(T).key(item("pk", s("held"))).consistentRead(true))
                            .item()
                            .get("v")
                            .n())
                    .isEqualTo("1");
            // an item no transaction touched never conflicts
            noRetries.putItem(p -> p.tableName(T).item(item("pk", s("free"), "v", n(1))));
        }
        assertThat(server.faults().transactionConflictExceptions() - before).isEqualTo(4);
    }

    @Test
    void aTransactionTouchingAHeldItemIsCancelledWithTransactionConflictForThatItemOnly() {
        server.faults().transactionConflicts(1.0, LONG_HOLD, 2);
        transactPut("tx-held");
        ddb.putItem(p -> p.tableName(T).item(item("pk", s("tx-other"), "v", n(5))));
        assertThatThrownBy(() -> ddb.transactWriteItems(b -> b.transactItems(
                        TransactWriteItem.builder()
                                .put(p -> p.tableName(T).item(item("pk", s("tx-new"))))
                                .build(),
                        TransactWriteItem.builder()
                                .update(u -> u.tableName(T)
                                        .key(item("pk", s("tx-held")))
                                        .updateExpression("SET v = :v")
                                        .expressionAttributeValues(item(":v", n(9))))
                                .build(),
                        TransactWriteItem.builder()
                                .conditionCheck(c -> c.tableName(T)
                                        .key(item("pk", s("tx-other")))
                                        .conditionExpression("v = :x")
                                        .expressionAttributeValues(item(":x", n(6))))
                                .build())))
                .isInstanceOfSatisfying(TransactionCanceledException.class, e -> {
                    assertThat(e.cancellationReasons())
                            .extracting(CancellationReason::code)
                            .containsExactly("None", "TransactionConflict", "ConditionalCheckFailed");
                    assertThat(e.cancellationReasons().get(1).message())
                            .isEqualTo("Transaction is ongoing for the item");
                    assertThat(e.getMessage()).contains("[None, TransactionConflict, ConditionalCheckFailed]");
                });
        // all or nothing: nothing was written
        assertThat(ddb.getItem(g -> g.tableName(T).key(item("pk", s("tx-new")))).hasItem())
                .isFalse();
        assertThat(ddb.getItem(g -> g.tableName(T).key(item("pk", s("tx-held"))))
                        .item()
                        .get("v")
                        .n())
                .isEqualTo("1");
        assertThat(server.faults().transactionConflictCancellations()).isPositive();
    }

    @Test
    void transactGetItemsOnAHeldItemIsCancelled() {
        server.faults().transactionConflicts(1.0, LONG_HOLD, 3);
        transactPut("get-held");
        assertThatThrownBy(() -> ddb.transactGetItems(b -> b.transactItems(
                        TransactGetItem.builder()
                                .get(g -> g.tableName(T).key(item("pk", s("get-free"))))
                                .build(),
                        TransactGetItem.builder()
                                .get(g -> g.tableName(T).key(item("pk", s("get-held"))))
                                .build())))
                .isInstanceOfSatisfying(
                        TransactionCanceledException.class,
                        e -> assertThat(e.cancellationReasons())
                                .extracting(CancellationReason::code)
                                .containsExactly("None", "TransactionConflict"));
    }

    @Test
    void theHoldEndsAndConflictsAreOffByDefault() {
        transactPut("no-faults");
        ddb.putItem(p -> p.tableName(T).item(item("pk", s("no-faults"), "v", n(2)))); // off: no conflict
        server.faults().transactionConflicts(1.0, Duration.ofMillis(1), 4);
        transactPut("short-hold");
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        boolean written = false;
        try (DynamoDbClient noRetries = client(false)) {
            while (!written && System.nanoTime() < until) {
                try {
                    noRetries.putItem(p -> p.tableName(T).item(item("pk", s("short-hold"), "v", n(2))));
                    written = true;
                } catch (TransactionConflictException stillHeld) {
                    Thread.onSpinWait();
                }
            }
        }
        assertThat(written).as("a write after the hold ended").isTrue();
    }

    @Test
    void theSdkDoesNotRetryTransactionConflictsByItself() {
        // AWS SDK v2's retryable codes do not include TransactionConflictException: the caller must
        server.faults().transactionConflicts(1.0, LONG_HOLD, 5);
        transactPut("sdk-default");
        server.stats().reset();
        assertThatThrownBy(() -> ddb.updateItem(u -> u.tableName(T)
                        .key(item("pk", s("sdk-default")))
                        .updateExpression("SET v = :v")
                        .expressionAttributeValues(item(":v", n(2)))))
                .isInstanceOf(TransactionConflictException.class);
        assertThat(server.stats().snapshot().requests("UpdateItem"))
                .as("attempts")
                .isEqualTo(1);
    }
}
