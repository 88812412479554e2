package io.durablesessions.local.dynamodb;

import static io.durablesessions.local.dynamodb.LocalDynamoDbTestBase.item;
import static io.durablesessions.local.dynamodb.LocalDynamoDbTestBase.n;
import static io.durablesessions.local.dynamodb.LocalDynamoDbTestBase.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/** Options.dataDir: what was acknowledged is there after a restart, and nothing else. */
class PersistenceTest {
    @TempDir
    Path dir;

    static DynamoDbClient client(LocalDynamoDb db) {
        return DynamoDbClient.builder()
                .endpointOverride(db.endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    LocalDynamoDb start() {
        return LocalDynamoDb.start(Options.defaults().withTtlSweepInterval(null).withDataDir(dir));
    }

    static void createTables(DynamoDbClient ddb) {
        ddb.createTable(t -> t.tableName("log")
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                        a -> a.attributeName("pk").attributeType(ScalarAttributeType.S),
                        a -> a.attributeName("seq").attributeType(ScalarAttributeType.N),
                        a -> a.attributeName("due").attributeType(ScalarAttributeType.N))
                .keySchema(
                        k -> k.attributeName("pk").keyType(KeyType.HASH),
                        k -> k.attributeName("seq").keyType(KeyType.RANGE))
                .globalSecondaryIndexes(g -> g.indexName("byDue")
                        .keySchema(k -> k.attributeName("due").keyType(KeyType.HASH))
                        .projection(p -> p.projectionType(ProjectionType.ALL)))
                .streamSpecification(st -> st.streamEnabled(true).streamViewType(StreamViewType.NEW_IMAGE)));
        ddb.updateTimeToLive(u ->
                u.tableName("log").timeToLiveSpecification(t -> t.enabled(true).attributeName("exp")));
    }

    static List<Map<String, AttributeValue>> all(DynamoDbClient ddb) {
        return ddb.query(q -> q.tableName("log")
                        .consistentRead(true)
                        .keyConditionExpression("pk = :p")
                        .expressionAttributeValues(Map.of(":p", s("a"))))
                .items();
    }

    @Test
    void tablesItemsIndexesAndTtlComeBackAfterARestartAndTheJournalIsCompacted() throws Exception {
        try (LocalDynamoDb db = start();
                DynamoDbClient ddb = client(db)) {
            createTables(ddb);
            for (int i = 1; i <= 5; i++) {
                int k = i;
                ddb.putItem(p -> p.tableName("log").item(item("pk", s("a"), "seq", n(k), "v", s("v" + k))));
            }
            ddb.updateItem(u -> u.tableName("log")
                    .key(item("pk", s("a"), "seq", n(2)))
                    .updateExpression("SET v = :v, due = :d")
                    .expressionAttributeValues(item(":v", s("changed"), ":d", n(7))));
            ddb.deleteItem(d -> d.tableName("log").key(item("pk", s("a"), "seq", n(3))));
            ddb.transactWriteItems(t -> t.transactItems(
                    TransactWriteItem.builder()
                            .put(p -> p.tableName("log").item(item("pk", s("a"), "seq", n(6))))
                            .build(),
                    TransactWriteItem.builder()
                            .delete(d -> d.tableName("log").key(item("pk", s("a"), "seq", n(1))))
                            .build()));
            // a refused write changes nothing, on disk either
            assertThatThrownBy(() -> ddb.putItem(p -> p.tableName("log")
                            .item(item("pk", s("a"), "seq", n(4)))
                            .conditionExpression("attribute_not_exists(seq)")))
                    .isInstanceOf(ConditionalCheckFailedException.class);
            // an expired item swept by TTL stays deleted
            ddb.putItem(p -> p.tableName("log")
                    .item(item("pk", s("a"), "seq", n(9), "exp", n(System.currentTimeMillis() / 1000 - 60))));
            assertThat(db.sweepExpiredItems()).isEqualTo(1);
        }
        long journalBefore = Files.size(dir.resolve(Journal.FILE));
        try (LocalDynamoDb db = start();
                DynamoDbClient ddb = client(db)) {
            assertThat(all(ddb)).extracting(i -> i.get("seq").n()).containsExactly("2", "4", "5", "6");
            assertThat(all(ddb).get(0).get("v").s()).isEqualTo("changed");
            assertThat(ddb.query(q -> q.tableName("log")
                                    .indexName("byDue")
                                    .keyConditionExpression("due = :d")
                                    .expressionAttributeValues(Map.of(":d", n(7))))
                            .count())
                    .isEqualTo(1);
            assertThat(ddb.describeTimeToLive(d -> d.tableName("log"))
                            .timeToLiveDescription()
                            .attributeName())
                    .isEqualTo("exp");
            assertThat(ddb.describeTable(d -> d.tableName("log"))
                            .table()
                            .streamSpecification()
                            .streamEnabled())
                    .isTrue();
            // rewritten compactly: the tables and the four items, not the history
            assertThat(Files.size(dir.resolve(Journal.FILE))).isLessThan(journalBefore);
            // and it keeps journaling after recovery
            ddb.putItem(p -> p.tableName("log").item(item("pk", s("a"), "seq", n(7))));
        }
        try (LocalDynamoDb db = start();
                DynamoDbClient ddb = client(db)) {
            assertThat(all(ddb)).extracting(i -> i.get("seq").n()).containsExactly("2", "4", "5", "6", "7");
        }
    }

    @Test
    void aLineCutShortByACrashIsDroppedAndADamagedLineRefusesToStart() throws Exception {
        try (LocalDynamoDb db = start();
                DynamoDbClient ddb = client(db)) {
            createTables(ddb);
            ddb.putItem(p -> p.tableName("log").item(item("pk", s("a"), "seq", n(1))));
        }
        Path journal = dir.resolve(Journal.FILE);
        // the crash came while the next record was being written: it was never acknowledged
        Files.writeString(
                journal,
                "{\"w\":[{\"t\":\"log\",\"i\":{\"pk\":{\"S\":\"a\"},\"seq\":{\"N\":\"2",
                StandardOpenOption.APPEND);
        try (LocalDynamoDb db = start();
                DynamoDbClient ddb = client(db)) {
            assertThat(all(ddb)).extracting(i -> i.get("seq").n()).containsExactly("1");
        }
        Files.writeString(journal, "not json\n", StandardOpenOption.APPEND);
        assertThatThrownBy(this::start)
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("not a journal record");
        assertThat(Files.readString(journal, StandardCharsets.UTF_8))
                .endsWith("not json\n"); // left as it was, for a look
    }

    @Test
    void oneProcessAtATimeMayUseADataDirectory() {
        try (LocalDynamoDb db = start()) {
            assertThatThrownBy(this::start)
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("in use");
        }
        start().close(); // free again once the first is closed
    }
}
