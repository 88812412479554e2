package io.durablesessions.local.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.dynamodb.model.ReturnConsumedCapacity;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;

class CapacityAndFaultsTest extends LocalDynamoDbTestBase {
    static final String T = "capacity";

    @BeforeAll
    void table() {
        createTable(T, false);
    }

    @AfterEach
    void clearFaults() {
        server.faults().clear();
    }

    double putUnits(String pk, int payloadBytes) {
        return ddb.putItem(b -> b.tableName(T)
                        .item(item("pk", s(pk), "p", s(repeat('x', payloadBytes))))
                        .returnConsumedCapacity(ReturnConsumedCapacity.TOTAL))
                .consumedCapacity()
                .capacityUnits();
    }

    @Test
    void writesCostOneUnitPerStartedKilobyte() {
        assertThat(putUnits("one-kb", 1000)).isEqualTo(1.0); // pk(2)+"a"(1)+... under 1024 bytes
        assertThat(putUnits("three-kb", 3000)).isEqualTo(3.0);
        // overwriting a 3 KB item with a small one still pays for the larger (old) item
        assertThat(putUnits("three-kb", 10)).isEqualTo(3.0);
    }

    @Test
    void readsCostOneUnitPerStartedFourKilobytesHalfWhenEventuallyConsistent() {
        putUnits("read-me", 5000);
        assertThat(ddb.getItem(b -> b.tableName(T)
                                .key(item("pk", s("read-me")))
                                .consistentRead(true)
                                .returnConsumedCapacity(ReturnConsumedCapacity.TOTAL))
                        .consumedCapacity()
                        .capacityUnits())
                .isEqualTo(2.0);
        assertThat(ddb.getItem(b -> b.tableName(T)
                                .key(item("pk", s("read-me")))
                                .returnConsumedCapacity(ReturnConsumedCapacity.TOTAL))
                        .consumedCapacity()
                        .capacityUnits())
                .isEqualTo(1.0);
    }

    @Test
    void transactionalWritesCostDouble() {
        TransactWriteItemsResponse r =
                ddb.transactWriteItems(b -> b.returnConsumedCapacity(ReturnConsumedCapacity.TOTAL)
                        .transactItems(
                                TransactWriteItem.builder()
                                        .put(p -> p.tableName(T).item(item("pk", s("tx-1"), "p", s(repeat('x', 1500)))))
                                        .build(),
                                TransactWriteItem.builder()
                                        .put(p -> p.tableName(T).item(item("pk", s("tx-2"))))
                                        .build()));
        assertThat(r.consumedCapacity()).singleElement().satisfies(c -> {
            assertThat(c.tableName()).isEqualTo(T);
            assertThat(c.capacityUnits()).isEqualTo(2 * 2.0 + 2 * 1.0);
        });
    }

    @Test
    void statsCountRequestsAndCapacityEvenWhenNotRequested() {
        server.stats().reset();
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("stats"), "p", s(repeat('x', 2000)))));
        ddb.getItem(b -> b.tableName(T).key(item("pk", s("stats"))).consistentRead(true));
        Stats.Snapshot snap = server.stats().snapshot();
        assertThat(snap.requests("PutItem")).isEqualTo(1);
        assertThat(snap.requests("GetItem")).isEqualTo(1);
        assertThat(snap.writeCapacityUnits(T)).isEqualTo(2.0);
        assertThat(snap.readCapacityUnits(T)).isEqualTo(1.0);
    }

    @Test
    void throttledWritesSurfaceWhenRetriesAreDisabled() {
        server.faults().throttleWrites(1.0, 42);
        try (DynamoDbClient noRetries = client(false)) {
            assertThatThrownBy(() -> noRetries.putItem(b -> b.tableName(T).item(item("pk", s("throttled")))))
                    .isInstanceOf(ProvisionedThroughputExceededException.class);
            // reads are not throttled, and the refused write changed nothing
            assertThat(noRetries
                            .getItem(b -> b.tableName(T).key(item("pk", s("throttled"))))
                            .hasItem())
                    .isFalse();
        }
        server.faults().throttleWrites(0.3, 7);
        for (int i = 0; i < 20; i++) { // the SDK's default retries absorb occasional throttling
            int k = i;
            ddb.putItem(b -> b.tableName(T).item(item("pk", s("retried-" + k))));
        }
    }

    @Test
    void latencyIsAddedToEveryRequest() {
        server.faults().latency(Duration.ofMillis(100));
        long t0 = System.nanoTime();
        ddb.getItem(b -> b.tableName(T).key(item("pk", s("any"))));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void unknownOperationIsRejected() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var res = http.send(
                java.net.http.HttpRequest.newBuilder(server.endpoint())
                        .header("X-Amz-Target", "DynamoDB_20120810.Nope")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.body()).contains("UnknownOperationException");
    }
}
