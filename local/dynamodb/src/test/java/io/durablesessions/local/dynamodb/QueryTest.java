package io.durablesessions.local.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

class QueryTest extends LocalDynamoDbTestBase {
    static final String T = "events";
    static final int N = 3000;

    @BeforeAll
    void data() {
        ddb.createTable(b -> b.tableName(T)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                        attr("pk", ScalarAttributeType.S),
                        attr("sk", ScalarAttributeType.N),
                        attr("gpk", ScalarAttributeType.S))
                .keySchema(key("pk", KeyType.HASH), key("sk", KeyType.RANGE))
                .globalSecondaryIndexes(GlobalSecondaryIndex.builder()
                        .indexName("sparse")
                        .keySchema(key("gpk", KeyType.HASH), key("sk", KeyType.RANGE))
                        .projection(p -> p.projectionType(ProjectionType.KEYS_ONLY))
                        .build()));
        List<WriteRequest> batch = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            Map<String, AttributeValue> it =
                    item("pk", s("session-1"), "sk", n(i), "kind", s(i % 2 == 0 ? "even" : "odd"));
            if (i % 100 == 0) it.put("gpk", s("hundreds")); // only every 100th item is in the sparse index
            batch.add(WriteRequest.builder().putRequest(p -> p.item(it)).build());
            if (batch.size() == 25) {
                List<WriteRequest> copy = List.copyOf(batch);
                ddb.batchWriteItem(b -> b.requestItems(Map.of(T, copy)));
                batch.clear();
            }
        }
        ddb.putItem(b -> b.tableName(T).item(item("pk", s("session-2"), "sk", n(1))));
    }

    List<Long> sks(QueryResponse r) {
        return r.items().stream().map(i -> Long.parseLong(i.get("sk").n())).toList();
    }

    @Test
    void keyConditionsOnTheSortKey() {
        Map<String, AttributeValue> v = item(":p", s("session-1"), ":a", n(10), ":b", n(12));
        assertThat(sks(ddb.query(b -> b.tableName(T)
                        .keyConditionExpression("pk = :p AND sk = :a")
                        .expressionAttributeValues(item(":p", s("session-1"), ":a", n(10))))))
                .containsExactly(10L);
        assertThat(sks(ddb.query(b -> b.tableName(T)
                        .keyConditionExpression("pk = :p AND sk BETWEEN :a AND :b")
                        .expressionAttributeValues(v))))
                .containsExactly(10L, 11L, 12L);
        assertThat(sks(ddb.query(b -> b.tableName(T)
                        .keyConditionExpression("pk = :p AND sk < :a")
                        .expressionAttributeValues(item(":p", s("session-1"), ":a", n(3))))))
                .containsExactly(0L, 1L, 2L);
        assertThat(sks(ddb.query(b -> b.tableName(T)
                        .keyConditionExpression("pk = :p AND sk >= :a")
                        .expressionAttributeValues(item(":p", s("session-1"), ":a", n(N - 2))))))
                .containsExactly((long) N - 2, (long) N - 1);
        assertThat(ddb.query(b -> b.tableName(T)
                                .keyConditionExpression("pk = :p")
                                .expressionAttributeValues(item(":p", s("session-2"))))
                        .count())
                .isEqualTo(1);
        assertThatThrownBy(() -> ddb.query(b ->
                        b.tableName(T).keyConditionExpression("sk = :a").expressionAttributeValues(item(":a", n(1)))))
                .hasMessageContaining("Query condition missed key schema element: pk");
    }

    @Test
    void filterAppliesAfterLimitAndCountsScannedItems() {
        QueryResponse r = ddb.query(b -> b.tableName(T)
                .keyConditionExpression("pk = :p")
                .filterExpression("kind = :k")
                .expressionAttributeValues(item(":p", s("session-1"), ":k", s("odd")))
                .limit(10));
        assertThat(r.scannedCount()).isEqualTo(10);
        assertThat(sks(r)).containsExactly(1L, 3L, 5L, 7L, 9L);
        assertThat(r.lastEvaluatedKey()).containsEntry("sk", n(9));
        QueryResponse count = ddb.query(b -> b.tableName(T)
                .keyConditionExpression("pk = :p")
                .select(Select.COUNT)
                .expressionAttributeValues(item(":p", s("session-1"))));
        assertThat(count.count()).isEqualTo(N);
        assertThat(count.items()).isEmpty();
    }

    @Test
    void pagingWithLimitVisitsEveryItemOnceInBothDirections() {
        for (boolean forward : new boolean[] {true, false}) {
            List<Long> seen = new ArrayList<>();
            Map<String, AttributeValue> start = null;
            int pages = 0;
            do {
                Map<String, AttributeValue> esk = start;
                QueryResponse r = ddb.query(b -> b.tableName(T)
                        .keyConditionExpression("pk = :p")
                        .expressionAttributeValues(item(":p", s("session-1")))
                        .limit(250)
                        .scanIndexForward(forward)
                        .exclusiveStartKey(esk));
                seen.addAll(sks(r));
                start = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
                pages++;
            } while (start != null);
            assertThat(seen).hasSize(N).doesNotHaveDuplicates();
            assertThat(seen.get(0)).isEqualTo(forward ? 0L : N - 1L);
            assertThat(seen).isSortedAccordingTo(forward ? Long::compare : (a, b) -> Long.compare(b, a));
            assertThat(pages)
                    .isEqualTo(N / 250 + 1); // like DynamoDB, a full last page still returns a LastEvaluatedKey
        }
    }

    @Test
    void sparseGsiHoldsOnlyItemsWithTheIndexKey() {
        List<Map<String, AttributeValue>> all = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> esk = start;
            QueryResponse r = ddb.query(b -> b.tableName(T)
                    .indexName("sparse")
                    .keyConditionExpression("gpk = :g")
                    .expressionAttributeValues(item(":g", s("hundreds")))
                    .limit(7)
                    .exclusiveStartKey(esk));
            all.addAll(r.items());
            if (r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty()) {
                assertThat(r.lastEvaluatedKey()).containsOnlyKeys("pk", "sk", "gpk");
                start = r.lastEvaluatedKey();
            } else start = null;
        } while (start != null);
        assertThat(all).hasSize(N / 100);
        assertThat(all.get(0)).containsOnlyKeys("pk", "sk", "gpk"); // KEYS_ONLY projection
        assertThatThrownBy(() -> ddb.query(b -> b.tableName(T)
                        .indexName("sparse")
                        .consistentRead(true)
                        .keyConditionExpression("gpk = :g")
                        .expressionAttributeValues(item(":g", s("hundreds")))))
                .hasMessageContaining("Consistent reads are not supported");
    }

    @Test
    void scanPagesThroughTheTable() {
        int total = 0;
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> esk = start;
            ScanResponse r = ddb.scan(b -> b.tableName(T).limit(1000).exclusiveStartKey(esk));
            total += r.count();
            start = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
        } while (start != null);
        assertThat(total).isEqualTo(N + 1);
    }
}
