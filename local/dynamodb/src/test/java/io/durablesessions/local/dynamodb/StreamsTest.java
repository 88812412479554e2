package io.durablesessions.local.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.OperationType;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

class StreamsTest extends LocalDynamoDbTestBase {
    @Override
    Options options() {
        return Options.defaults().withStreamShards(4).withTtlSweepInterval(null);
    }

    @BeforeAll
    void tables() {
        for (String t : List.of("stream-images", "stream-order", "stream-ttl", "stream-ttl-changes")) {
            ddb.createTable(b -> b.tableName(t)
                    .billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(attr("pk", ScalarAttributeType.S))
                    .keySchema(key("pk", KeyType.HASH))
                    .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
        }
    }

    String streamArn(String table) {
        return ddb.describeTable(b -> b.tableName(table)).table().latestStreamArn();
    }

    List<Record> readAll(String table, ShardIteratorType type, String seq) {
        String arn = streamArn(table);
        List<Record> out = new ArrayList<>();
        for (Shard shard : streams.describeStream(b -> b.streamArn(arn))
                .streamDescription()
                .shards()) {
            String it = streams.getShardIterator(b -> b.streamArn(arn)
                            .shardId(shard.shardId())
                            .shardIteratorType(type)
                            .sequenceNumber(seq))
                    .shardIterator();
            while (true) {
                String current = it;
                GetRecordsResponse r =
                        streams.getRecords(b -> b.shardIterator(current).limit(100));
                out.addAll(r.records());
                assertThat(r.nextShardIterator()).isNotNull();
                if (r.records().isEmpty()) break;
                it = r.nextShardIterator();
            }
        }
        out.sort((a, b) -> new BigInteger(a.dynamodb().sequenceNumber())
                .compareTo(new BigInteger(b.dynamodb().sequenceNumber())));
        return out;
    }

    @Test
    void insertModifyRemoveInOrderWithImages() {
        String t = "stream-images";
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("a"), "v", n(1))));
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("a"), "v", n(1)))); // identical: no record
        ddb.updateItem(b -> b.tableName(t)
                .key(item("pk", s("a")))
                .updateExpression("SET v = :two")
                .expressionAttributeValues(item(":two", n(2))));
        ddb.deleteItem(b -> b.tableName(t).key(item("pk", s("a"))));
        ddb.deleteItem(b -> b.tableName(t).key(item("pk", s("a")))); // nothing to delete: no record

        List<Record> records = readAll(t, ShardIteratorType.TRIM_HORIZON, null);
        assertThat(records).extracting(r -> r.eventName().toString()).containsExactly("INSERT", "MODIFY", "REMOVE");
        Record insert = records.get(0), modify = records.get(1), remove = records.get(2);
        assertThat(insert.dynamodb().newImage()).containsEntry("v", n(1));
        assertThat(insert.dynamodb().hasOldImage()).isFalse();
        assertThat(modify.dynamodb().oldImage()).containsEntry("v", n(1));
        assertThat(modify.dynamodb().newImage()).containsEntry("v", n(2));
        assertThat(remove.dynamodb().oldImage()).containsEntry("v", n(2));
        assertThat(remove.dynamodb().keys()).containsExactlyEntriesOf(item("pk", s("a")));
        assertThat(insert.eventSource()).isEqualTo("aws:dynamodb");
        assertThat(insert.eventVersion()).isEqualTo("1.1");
        assertThat(insert.awsRegion()).isEqualTo("local");
        assertThat(insert.dynamodb().approximateCreationDateTime())
                .isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(1));
        assertThat(insert.dynamodb().sizeBytes()).isPositive();

        // AT/AFTER_SEQUENCE_NUMBER position relative to a record; LATEST sees only new records
        assertThat(readAll(
                        t,
                        ShardIteratorType.AFTER_SEQUENCE_NUMBER,
                        modify.dynamodb().sequenceNumber()))
                .extracting(r -> r.eventName().toString())
                .containsExactly("REMOVE");
        assertThat(readAll(
                        t,
                        ShardIteratorType.AT_SEQUENCE_NUMBER,
                        modify.dynamodb().sequenceNumber()))
                .extracting(r -> r.eventName().toString())
                .containsExactly("MODIFY", "REMOVE");
        String arn = streamArn(t);
        String shardId = streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards().stream()
                .filter(sh -> readShard(arn, sh.shardId()) > 0)
                .findFirst()
                .orElseThrow()
                .shardId();
        String latest = streams.getShardIterator(
                        b -> b.streamArn(arn).shardId(shardId).shardIteratorType(ShardIteratorType.LATEST))
                .shardIterator();
        assertThat(streams.getRecords(b -> b.shardIterator(latest)).records()).isEmpty();
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("a"), "v", n(3))));
        assertThat(streams.getRecords(b -> b.shardIterator(latest)).records())
                .extracting(r -> r.eventName().toString())
                .containsExactly("INSERT");
    }

    int readShard(String arn, String shardId) {
        String it = streams.getShardIterator(
                        b -> b.streamArn(arn).shardId(shardId).shardIteratorType(ShardIteratorType.TRIM_HORIZON))
                .shardIterator();
        return streams.getRecords(b -> b.shardIterator(it)).records().size();
    }

    @Test
    void eachPartitionKeyStaysInOrderInOneShard() {
        String t = "stream-order";
        for (int i = 0; i < 50; i++) {
            for (int k = 0; k < 8; k++) {
                int v = i;
                String pk = "key-" + k;
                ddb.putItem(b -> b.tableName(t).item(item("pk", s(pk), "v", n(v))));
            }
        }
        String arn = streamArn(t);
        Map<String, String> shardOfKey = new HashMap<>();
        Map<String, List<Long>> valuesByKey = new HashMap<>();
        List<Shard> shards = streams.describeStream(b -> b.streamArn(arn))
                .streamDescription()
                .shards();
        assertThat(shards).hasSize(4);
        for (Shard shard : shards) {
            String it = streams.getShardIterator(b ->
                            b.streamArn(arn).shardId(shard.shardId()).shardIteratorType(ShardIteratorType.TRIM_HORIZON))
                    .shardIterator();
            BigInteger last = BigInteger.ZERO;
            while (true) {
                String current = it;
                GetRecordsResponse r =
                        streams.getRecords(b -> b.shardIterator(current).limit(7));
                if (r.records().isEmpty()) break;
                for (Record rec : r.records()) {
                    BigInteger seq = new BigInteger(rec.dynamodb().sequenceNumber());
                    assertThat(seq).isGreaterThan(last);
                    last = seq;
                    String pk = rec.dynamodb().keys().get("pk").s();
                    assertThat(shardOfKey.putIfAbsent(pk, shard.shardId())).isIn(null, shard.shardId());
                    valuesByKey
                            .computeIfAbsent(pk, x -> new ArrayList<>())
                            .add(Long.parseLong(
                                    rec.dynamodb().newImage().get("v").n()));
                }
                it = r.nextShardIterator();
            }
        }
        assertThat(valuesByKey).hasSize(8);
        valuesByKey.values().forEach(vs -> assertThat(vs).hasSize(50).isSorted());
        assertThat(server.stats().snapshot().streamRecordsEmitted()).isGreaterThanOrEqualTo(400);
    }

    @Test
    void ttlSweepDeletesExpiredItemsWithServiceRemoveRecords() {
        String t = "stream-ttl";
        ddb.updateTimeToLive(
                b -> b.tableName(t).timeToLiveSpecification(s -> s.enabled(true).attributeName("expiresAt")));
        assertThat(ddb.describeTimeToLive(b -> b.tableName(t))
                        .timeToLiveDescription()
                        .timeToLiveStatus())
                .isEqualTo(TimeToLiveStatus.ENABLED);
        long now = Instant.now().getEpochSecond();
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("expired"), "expiresAt", n(now - 10))));
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("alive"), "expiresAt", n(now + 3600))));
        assertThat(server.sweepExpiredItems()).isEqualTo(1);
        assertThat(ddb.getItem(b -> b.tableName(t).key(item("pk", s("expired"))))
                        .hasItem())
                .isFalse();
        assertThat(ddb.getItem(b -> b.tableName(t).key(item("pk", s("alive")))).hasItem())
                .isTrue();
        Record remove = readAll(t, ShardIteratorType.TRIM_HORIZON, null).stream()
                .filter(r -> r.eventName() == OperationType.REMOVE)
                .findFirst()
                .orElseThrow();
        assertThat(remove.userIdentity().type()).isEqualTo("Service");
        assertThat(remove.userIdentity().principalId()).isEqualTo("dynamodb.amazonaws.com");
    }

    @Test
    void ttlSweepFollowsEveryChangeOfAnItemsExpiryAndItemsStoredBeforeTtlWasTurnedOn() {
        String t = "stream-ttl-changes";
        long now = Instant.now().getEpochSecond();
        // stored before TTL is on: swept once it is
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("early"), "expiresAt", n(now - 5))));
        ddb.updateTimeToLive(
                b -> b.tableName(t).timeToLiveSpecification(s -> s.enabled(true).attributeName("expiresAt")));
        // expired, then moved into the future: kept
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("renewed"), "expiresAt", n(now - 10))));
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("renewed"), "expiresAt", n(now + 3600))));
        // alive, then moved into the past: swept
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("shortened"), "expiresAt", n(now + 3600))));
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("shortened"), "expiresAt", n(now - 1))));
        // DynamoDB ignores a value more than five years old (milliseconds by mistake, say) and a non-number
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("ancient"), "expiresAt", n(now - 6L * 365 * 24 * 3600))));
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("text"), "expiresAt", s(Long.toString(now - 10)))));
        // deleted before it expired: nothing to sweep
        ddb.putItem(b -> b.tableName(t).item(item("pk", s("deleted"), "expiresAt", n(now - 3))));
        ddb.deleteItem(b -> b.tableName(t).key(item("pk", s("deleted"))));

        assertThat(server.sweepExpiredItems()).isEqualTo(2);
        for (String gone : new String[] {"early", "shortened"}) {
            assertThat(ddb.getItem(b -> b.tableName(t).key(item("pk", s(gone)))).hasItem())
                    .as(gone)
                    .isFalse();
        }
        for (String kept : new String[] {"renewed", "ancient", "text"}) {
            assertThat(ddb.getItem(b -> b.tableName(t).key(item("pk", s(kept)))).hasItem())
                    .as(kept)
                    .isTrue();
        }
        assertThat(server.sweepExpiredItems()).isZero();
    }
}
