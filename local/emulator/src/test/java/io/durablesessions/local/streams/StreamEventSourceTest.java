package io.durablesessions.local.streams;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent.DynamodbStreamRecord;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse.BatchItemFailure;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import io.durablesessions.local.dynamodb.Options;
import io.durablesessions.local.streams.StreamEventSource.StartingPosition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;

/** The stream event source behaves like a Lambda event source mapping on a DynamoDB stream. */
class StreamEventSourceTest {
    private static final Duration FAST_POLL = Duration.ofMillis(10);
    private static LocalDynamoDb db;
    private static DynamoDbClient dynamo;
    private static final AtomicInteger tables = new AtomicInteger();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** What the handler saw of one record. */
    record Seen(String pk, int seq, String eventName, String sequenceNumber) {
        static Seen of(DynamodbStreamRecord r) {
            var keys = r.getDynamodb().getKeys();
            return new Seen(
                    keys.get("pk").getS(),
                    Integer.parseInt(keys.get("seq").getN()),
                    r.getEventName(),
                    r.getDynamodb().getSequenceNumber());
        }
    }

    /** A fake fan-out function: records every batch it is invoked with, then answers with {@code behaviour}. */
    static final class RecordingHandler implements RequestHandler<DynamodbEvent, StreamsEventResponse> {
        final List<List<Seen>> batches = new CopyOnWriteArrayList<>();
        final List<Seen> processed = new CopyOnWriteArrayList<>(); // records of batches that succeeded
        final List<DynamodbStreamRecord> raw = new CopyOnWriteArrayList<>();
        final List<Long> calledAt = new CopyOnWriteArrayList<>(); // System.nanoTime() of each invocation
        private final Function<List<Seen>, StreamsEventResponse> behaviour;

        RecordingHandler(Function<List<Seen>, StreamsEventResponse> behaviour) {
            this.behaviour = behaviour;
        }

        RecordingHandler() {
            this(batch -> null);
        }

        @Override
        public StreamsEventResponse handleRequest(
                DynamodbEvent event, com.amazonaws.services.lambda.runtime.Context context) {
            calledAt.add(System.nanoTime());
            assertThat(context.getAwsRequestId()).isNotBlank();
            List<Seen> batch = event.getRecords().stream().map(Seen::of).toList();
            batches.add(batch);
            raw.addAll(event.getRecords());
            StreamsEventResponse response = behaviour.apply(batch); // may throw
            if (response == null
                    || response.getBatchItemFailures() == null
                    || response.getBatchItemFailures().isEmpty()) {
                processed.addAll(batch);
            }
            return response;
        }

        List<Seen> delivered() {
            return batches.stream().flatMap(List::stream).toList();
        }

        List<Integer> deliveredSeqs() {
            return delivered().stream().map(Seen::seq).toList();
        }
    }

    @BeforeAll
    static void startDynamo() {
        db = LocalDynamoDb.start();
        dynamo = client(db);
    }

    @AfterAll
    static void stopDynamo() {
        dynamo.close();
        db.close();
    }

    @AfterEach
    void closeResources() throws Exception {
        for (AutoCloseable c : toClose.reversed()) c.close();
    }

    // ---------------------------------------------------------------- delivery

    @Test
    void deliversInsertsOfOneKeyInOrderWithKeysAndNewImage() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b);

        IntStream.range(0, 20).forEach(i -> put(dynamo, table, "room-1", i));

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 20);
        assertThat(handler.deliveredSeqs())
                .containsExactlyElementsOf(IntStream.range(0, 20).boxed().toList());
        DynamodbStreamRecord first = handler.raw.getFirst();
        assertThat(first.getEventName()).isEqualTo("INSERT");
        assertThat(first.getEventSource()).isEqualTo("aws:dynamodb");
        assertThat(first.getEventVersion()).isEqualTo("1.1");
        assertThat(first.getAwsRegion()).isEqualTo("local");
        assertThat(first.getEventID()).isNotBlank();
        assertThat(first.getEventSourceARN()).isEqualTo(esm.streamArn()).contains("table/" + table + "/stream/");
        assertThat(first.getDynamodb().getKeys()).containsOnlyKeys("pk", "seq");
        assertThat(first.getDynamodb().getNewImage().get("body").getS()).isEqualTo("room-1#0");
        assertThat(first.getDynamodb().getOldImage()).isNull();
        assertThat(first.getDynamodb().getStreamViewType()).isEqualTo("NEW_IMAGE");
        assertThat(first.getDynamodb().getApproximateCreationDateTime()).isNotNull();
        assertThat(first.getDynamodb().getSizeBytes()).isPositive();
        assertThat(esm.counters().recordsDelivered()).isEqualTo(20);
        assertThat(esm.checkpoints())
                .containsValue(handler.raw.getLast().getDynamodb().getSequenceNumber());
    }

    @Test
    void convertsEveryAttributeTypeToTheLambdaModel() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        start(table, handler, b -> b);

        dynamo.putItem(r -> r.tableName(table)
                .item(Map.ofEntries(
                        Map.entry("pk", s("types")),
                        Map.entry("seq", n(1)),
                        Map.entry("str", s("text")),
                        Map.entry("num", n(42)),
                        Map.entry("bin", AttributeValue.fromB(SdkBytes.fromUtf8String("bytes"))),
                        Map.entry("strs", AttributeValue.fromSs(List.of("a", "b"))),
                        Map.entry("nums", AttributeValue.fromNs(List.of("1", "2"))),
                        Map.entry("bins", AttributeValue.fromBs(List.of(SdkBytes.fromUtf8String("x")))),
                        Map.entry("flag", AttributeValue.fromBool(true)),
                        Map.entry("nothing", AttributeValue.fromNul(true)),
                        Map.entry(
                                "map",
                                AttributeValue.fromM(
                                        Map.of("inner", AttributeValue.fromL(List.of(s("deep"), n(7)))))))));

        await().atMost(30, SECONDS).until(() -> handler.raw.size() == 1);
        var image = handler.raw.getFirst().getDynamodb().getNewImage();
        assertThat(image.get("str").getS()).isEqualTo("text");
        assertThat(image.get("num").getN()).isEqualTo("42");
        assertThat(new String(image.get("bin").getB().array())).isEqualTo("bytes");
        assertThat(image.get("strs").getSS()).containsExactlyInAnyOrder("a", "b");
        assertThat(image.get("nums").getNS()).containsExactlyInAnyOrder("1", "2");
        assertThat(new String(image.get("bins").getBS().getFirst().array())).isEqualTo("x");
        assertThat(image.get("flag").getBOOL()).isTrue();
        assertThat(image.get("nothing").getNULL()).isTrue();
        var inner = image.get("map").getM().get("inner").getL();
        assertThat(inner.get(0).getS()).isEqualTo("deep");
        assertThat(inner.get(1).getN()).isEqualTo("7");
    }

    @Test
    void keepsEachPartitionKeysOrderAcrossFourShards() {
        try (var sharded = LocalDynamoDb.start(Options.defaults().withStreamShards(4));
                var client = client(sharded)) {
            String table = newTable(client);
            var handler = new RecordingHandler();
            var esm = track(StreamEventSource.create(sharded, config(table).build(), handler)
                    .start());
            List<String> keys = List.of("a", "b", "c", "d", "e", "f");

            for (int i = 0; i < 15; i++) for (String key : keys) put(client, table, key, i);

            await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 15 * keys.size());
            for (String key : keys) {
                assertThat(handler.delivered().stream()
                                .filter(s -> s.pk().equals(key))
                                .map(Seen::seq)
                                .toList())
                        .as("order of key %s", key)
                        .containsExactlyElementsOf(
                                IntStream.range(0, 15).boxed().toList());
            }
            assertThat(esm.checkpoints())
                    .as("records spread over several shards")
                    .hasSizeGreaterThan(1);
            esm.close();
        }
    }

    @Test
    void batchesHoldAtMostBatchSizeRecords() {
        String table = newTable(dynamo);
        IntStream.range(0, 30).forEach(i -> put(dynamo, table, "k", i)); // written before the mapping starts
        var handler = new RecordingHandler();

        start(table, handler, b -> b.batchSize(7));

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 30);
        assertThat(handler.batches).allSatisfy(batch -> assertThat(batch).hasSizeLessThanOrEqualTo(7));
        assertThat(handler.batches.getFirst()).hasSize(7);
        assertThat(handler.deliveredSeqs())
                .containsExactlyElementsOf(IntStream.range(0, 30).boxed().toList());
    }

    @Test
    void batchingWindowGathersRecordsIntoOneInvocation() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        // a window far longer than the five puts take, even on a busy machine
        start(table, handler, b -> b.maximumBatchingWindow(Duration.ofSeconds(3)));

        for (int i = 0; i < 5; i++) {
            put(dynamo, table, "k", i);
            sleep(30);
        }

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 5);
        assertThat(handler.batches).hasSize(1);
    }

    @Test
    void filterInsertsOnlySkipsModifyAndRemove() {
        String table = newTable(dynamo);
        var insertsOnly = new RecordingHandler();
        var everything = new RecordingHandler();
        start(table, insertsOnly, b -> b);
        start(table, everything, b -> b.filterInsertsOnly(false));

        put(dynamo, table, "k", 1);
        dynamo.putItem(r -> r.tableName(table).item(Map.of("pk", s("k"), "seq", n(1), "body", s("changed"))));
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of("pk", s("k"), "seq", n(1))));
        put(dynamo, table, "k", 2);

        await().atMost(30, SECONDS).until(() -> everything.delivered().size() == 4);
        await().atMost(30, SECONDS).until(() -> insertsOnly.delivered().size() == 2);
        assertThat(everything.delivered())
                .extracting(Seen::eventName)
                .containsExactly("INSERT", "MODIFY", "REMOVE", "INSERT");
        sleep(100);
        assertThat(insertsOnly.delivered())
                .extracting(Seen::eventName, Seen::seq)
                .containsExactly(tuple("INSERT", 1), tuple("INSERT", 2));
    }

    // ---------------------------------------------------------------- partial batch responses

    @Test
    void reportedItemFailureRedeliversThatRecordAndAllLaterOnesButNotEarlierOnes() {
        String table = newTable(dynamo);
        IntStream.range(0, 10).forEach(i -> put(dynamo, table, "k", i));
        AtomicInteger calls = new AtomicInteger();
        var handler = new RecordingHandler(batch -> calls.incrementAndGet() == 1 ? failureOf(batch.get(4)) : null);

        var esm = start(table, handler, b -> b.batchSize(10));

        await().atMost(30, SECONDS).until(() -> handler.batches.size() == 2);
        assertThat(handler.batches.get(0)).extracting(Seen::seq).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(handler.batches.get(1)).extracting(Seen::seq).containsExactly(4, 5, 6, 7, 8, 9);
        sleep(100);
        assertThat(handler.batches).hasSize(2);
        assertThat(esm.counters().batchesFailed()).isEqualTo(1);
        assertThat(esm.counters().retries()).isEqualTo(1);
    }

    @Test
    void lowestReportedFailureWins() {
        String table = newTable(dynamo);
        IntStream.range(0, 6).forEach(i -> put(dynamo, table, "k", i));
        AtomicInteger calls = new AtomicInteger();
        var handler = new RecordingHandler(batch -> calls.incrementAndGet() == 1
                ? new StreamsEventResponse(List.of(failure(batch.get(5)), failure(batch.get(2))))
                : null);

        start(table, handler, b -> b);

        await().atMost(30, SECONDS).until(() -> handler.batches.size() == 2);
        assertThat(handler.batches.get(1)).extracting(Seen::seq).containsExactly(2, 3, 4, 5);
    }

    @Test
    void anItemIdentifierNotInTheBatchFailsTheWholeBatch() {
        String table = newTable(dynamo);
        IntStream.range(0, 4).forEach(i -> put(dynamo, table, "k", i));
        AtomicInteger calls = new AtomicInteger();
        var handler = new RecordingHandler(batch -> calls.incrementAndGet() == 1
                ? new StreamsEventResponse(List.of(new BatchItemFailure("not-a-sequence-number")))
                : null);

        start(table, handler, b -> b.bisectBatchOnFunctionError(false));

        await().atMost(30, SECONDS).until(() -> handler.batches.size() == 2);
        assertThat(handler.batches.get(1)).extracting(Seen::seq).containsExactly(0, 1, 2, 3);
    }

    @Test
    void withoutReportBatchItemFailuresTheResponseIsIgnored() {
        String table = newTable(dynamo);
        IntStream.range(0, 3).forEach(i -> put(dynamo, table, "k", i));
        var handler = new RecordingHandler(batch -> failureOf(batch.getFirst()));

        start(table, handler, b -> b.reportBatchItemFailures(false));

        await().atMost(30, SECONDS).until(() -> handler.batches.size() == 1);
        sleep(100);
        assertThat(handler.batches).hasSize(1);
    }

    // ---------------------------------------------------------------- function errors

    @Test
    void bisectionIsolatesAPoisonRecordWhichEndsInOnFailureWhileTheOthersAreProcessedInOrder() {
        String table = newTable(dynamo);
        IntStream.range(0, 10).forEach(i -> put(dynamo, table, "k", i));
        List<FailedBatch> failures = new CopyOnWriteArrayList<>();
        var handler = new RecordingHandler(batch -> {
            if (batch.stream().anyMatch(s -> s.seq() == 6)) throw new IllegalStateException("poison");
            return null;
        });

        var esm = start(table, handler, b -> b.maximumRetryAttempts(2).onFailure(failures::add));

        await().atMost(30, SECONDS).until(() -> handler.processed.size() == 9 && failures.size() == 1);
        assertThat(handler.processed).extracting(Seen::seq).containsExactly(0, 1, 2, 3, 4, 5, 7, 8, 9);
        FailedBatch failed = failures.getFirst();
        assertThat(failed.reason()).isEqualTo(FailedBatch.Reason.RETRY_ATTEMPTS_EXHAUSTED);
        assertThat(failed.batchSize()).isEqualTo(1);
        assertThat(failed.retryAttempts()).isEqualTo(2);
        assertThat(failed.records()).extracting(r -> Seen.of(r).seq()).containsExactly(6);
        assertThat(failed.startSequenceNumber()).isEqualTo(failed.endSequenceNumber());
        assertThat(failed.streamArn()).isEqualTo(esm.streamArn());
        // Alone, the poison record is tried once plus maximumRetryAttempts times; splitting costs no retries.
        long poisonAlone = handler.batches.stream()
                .filter(b -> b.size() == 1 && b.getFirst().seq() == 6)
                .count();
        assertThat(poisonAlone).isEqualTo(3);
        assertThat(esm.counters().recordsSentToOnFailure()).isEqualTo(1);
    }

    @Test
    void withoutBisectionTheWholeFailingBatchGoesToOnFailure() {
        String table = newTable(dynamo);
        IntStream.range(0, 5).forEach(i -> put(dynamo, table, "k", i));
        List<FailedBatch> failures = new CopyOnWriteArrayList<>();
        var handler = new RecordingHandler(batch -> {
            if (batch.stream().anyMatch(s -> s.seq() == 2)) throw new IllegalStateException("poison");
            return null;
        });

        start(
                table,
                handler,
                b -> b.batchSize(4)
                        .bisectBatchOnFunctionError(false)
                        .maximumRetryAttempts(1)
                        .onFailure(failures::add));

        await().atMost(30, SECONDS).until(() -> failures.size() == 1 && handler.processed.size() == 1);
        assertThat(failures.getFirst().records())
                .extracting(r -> Seen.of(r).seq())
                .containsExactly(0, 1, 2, 3);
        assertThat(handler.batches.stream().filter(b -> b.size() == 4)).hasSize(2); // first try + 1 retry
        assertThat(handler.processed).extracting(Seen::seq).containsExactly(4);
    }

    @Test
    void exhaustedItemFailureRetriesSendTheFailedRestOfTheBatchToOnFailure() {
        String table = newTable(dynamo);
        IntStream.range(0, 5).forEach(i -> put(dynamo, table, "k", i));
        List<FailedBatch> failures = new CopyOnWriteArrayList<>();
        var handler = new RecordingHandler(batch -> batch.getFirst().seq() <= 2
                ? failureOf(batch.stream().filter(s -> s.seq() == 2).findFirst().orElseThrow())
                : null);

        start(table, handler, b -> b.maximumRetryAttempts(1).onFailure(failures::add));

        await().atMost(30, SECONDS).until(() -> failures.size() == 1);
        assertThat(failures.getFirst().records())
                .extracting(r -> Seen.of(r).seq())
                .containsExactly(2, 3, 4);
        assertThat(handler.batches).extracting(b -> b.getFirst().seq()).containsExactly(0, 2);
    }

    @Test
    void recordsOlderThanMaximumRecordAgeGoToOnFailureInsteadOfTheHandler() {
        String table = newTable(dynamo);
        List<FailedBatch> failures = new CopyOnWriteArrayList<>();
        var handler = new RecordingHandler();
        var esm = StreamEventSource.create(
                db,
                config(table)
                        .maximumRecordAge(Duration.ofSeconds(2))
                        .onFailure(failures::add)
                        .build(),
                handler);
        track(esm);
        IntStream.range(0, 3).forEach(i -> put(dynamo, table, "old", i));
        sleep(3_100); // stream timestamps have 1 s granularity
        put(dynamo, table, "fresh", 0);

        esm.start();

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 1 && failures.size() == 1);
        assertThat(handler.delivered()).extracting(Seen::pk).containsExactly("fresh");
        assertThat(failures.getFirst().reason()).isEqualTo(FailedBatch.Reason.RECORD_AGE_EXCEEDED);
        assertThat(failures.getFirst().records())
                .extracting(r -> Seen.of(r).seq())
                .containsExactly(0, 1, 2);
    }

    @Test
    void aRecordThatKeepsFailingIsDiscardedOnceTooOld() {
        String table = newTable(dynamo);
        List<FailedBatch> failures = new CopyOnWriteArrayList<>();
        var handler = new RecordingHandler(batch -> {
            throw new IllegalStateException("always");
        });

        start(
                table,
                handler,
                b -> b.maximumRetryAttempts(-1)
                        .maximumRecordAge(Duration.ofSeconds(1))
                        .onFailure(failures::add));
        put(dynamo, table, "k", 0);

        await().atMost(30, SECONDS).until(() -> failures.size() == 1);
        assertThat(failures.getFirst().reason()).isEqualTo(FailedBatch.Reason.RECORD_AGE_EXCEEDED);
        assertThat(failures.getFirst().retryAttempts()).isPositive();
    }

    // ---------------------------------------------------------------- outages and starting positions

    @Test
    void restartResumesFromTheCheckpointWithoutLosingRecords() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b);
        IntStream.range(0, 10).forEach(i -> put(dynamo, table, "k", i));
        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 10);

        esm.stop();
        IntStream.range(10, 20).forEach(i -> put(dynamo, table, "k", i)); // written during the outage
        sleep(100);
        assertThat(handler.delivered()).hasSize(10);
        esm.start();

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 20);
        assertThat(handler.deliveredSeqs())
                .containsExactlyElementsOf(IntStream.range(0, 20).boxed().toList());
    }

    @Test
    void aBatchInFlightWhenStoppedIsDeliveredAgainAfterRestart() {
        String table = newTable(dynamo);
        IntStream.range(0, 3).forEach(i -> put(dynamo, table, "k", i));
        AtomicInteger calls = new AtomicInteger();
        var handler = new RecordingHandler(batch -> {
            if (calls.incrementAndGet() == 1) sleep(10_000); // interrupted by stop()
            return null;
        });
        var esm = start(table, handler, b -> b);
        await().atMost(30, SECONDS).until(() -> calls.get() == 1);

        esm.stop();
        esm.start();

        await().atMost(30, SECONDS).until(() -> handler.batches.size() == 2);
        assertThat(handler.batches.get(1)).extracting(Seen::seq).containsExactly(0, 1, 2);
    }

    @Test
    void latestSkipsOlderRecordsWhileTrimHorizonReadsEverything() {
        String table = newTable(dynamo);
        IntStream.range(0, 3).forEach(i -> put(dynamo, table, "k", i));
        var fromLatest = new RecordingHandler();
        var fromTrimHorizon = new RecordingHandler();
        start(table, fromLatest, b -> b.startingPosition(StartingPosition.LATEST));
        start(table, fromTrimHorizon, b -> b.startingPosition(StartingPosition.TRIM_HORIZON));

        IntStream.range(3, 5).forEach(i -> put(dynamo, table, "k", i));

        await().atMost(30, SECONDS)
                .until(() -> fromTrimHorizon.delivered().size() == 5
                        && fromLatest.delivered().size() == 2);
        assertThat(fromLatest.deliveredSeqs()).containsExactly(3, 4);
        assertThat(fromTrimHorizon.deliveredSeqs()).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void latestIsFixedAtTheFirstStartSoAnOutageBeforeAnyCheckpointLosesNothing() {
        String table = newTable(dynamo);
        put(dynamo, table, "k", 0);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b.startingPosition(StartingPosition.LATEST));

        esm.stop();
        put(dynamo, table, "k", 1);
        esm.start();

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 1);
        assertThat(handler.deliveredSeqs()).containsExactly(1);
    }

    @Test
    void pauseHoldsDeliveryBack() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b);

        Duration pause = Duration.ofMillis(400);
        long start = System.nanoTime();
        esm.pause(pause);
        put(dynamo, table, "k", 0);

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 1);
        // a lower bound only: a busy machine makes it later, never earlier
        assertThat(Duration.ofNanos(handler.calledAt.getFirst() - start)).isGreaterThanOrEqualTo(pause);
    }

    @Test
    void invocationDelayPostponesEachInvocation() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b);
        esm.setInvocationDelay(Duration.ofMillis(300));

        long start = System.nanoTime();
        put(dynamo, table, "k", 0);

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 1);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(esm.counters().invocations()).isEqualTo(1);
    }

    @Test
    void invokeOverheadPostponesEachInvocation() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b.invokeOverhead(Duration.ofMillis(300)));
        assertThat(esm.config().invokeOverhead()).isEqualTo(Duration.ofMillis(300));

        long start = System.nanoTime();
        put(dynamo, table, "k", 0);

        await().atMost(30, SECONDS).until(() -> handler.delivered().size() == 1);
        // a lower bound only: a busy machine makes it later, never earlier
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(esm.counters().invocations()).isEqualTo(1);
    }

    @Test
    void anIdleShardIsPolledAtMostOncePerPollInterval() {
        Duration interval = Duration.ofMillis(250); // AWS's cadence: 4 polls a second per shard
        String table = newTable(dynamo);
        var esm = start(table, new RecordingHandler(), b -> b.pollInterval(interval));
        await().atMost(30, SECONDS).until(() -> esm.counters().polls() > 0);
        int shards = esm.shards.size();
        assertThat(shards).isPositive();

        long p0 = esm.counters().polls();
        long t0 = System.nanoTime();
        await().atMost(20, SECONDS).until(() -> esm.counters().polls() - p0 >= 4L * shards);
        long polls = esm.counters().polls() - p0;
        long windows = (System.nanoTime() - t0) / interval.toNanos();
        // every empty read is followed by a sleep of the interval: per shard at most one poll per interval (+1 at the
        // edge);
        // the 10 ms polling of the other tests would make ~25 polls per interval and fail this
        assertThat(polls)
                .as("%d polls on %d shards in %d intervals", polls, shards, windows)
                .isLessThanOrEqualTo(shards * (windows + 1));
    }

    @Test
    void anUnchangedShardOfALocalDynamoDbIsPolledWithoutAGetRecordsCallAndAWriteIsStillRead() {
        String table = newTable(dynamo);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b);
        esm.longestSkip = Duration.ofHours(1);
        await().atMost(30, SECONDS).until(() -> esm.counters().polls() > 4L * esm.shards.size());

        long reads = db.stats().snapshot().requests("GetRecords");
        long polls = esm.counters().polls();
        await().atMost(30, SECONDS).until(() -> esm.counters().polls() - polls >= 8L * esm.shards.size());
        assertThat(db.stats().snapshot().requests("GetRecords"))
                .as("GetRecords calls while nothing was written")
                .isEqualTo(reads);

        put(dynamo, table, "k", 0);
        await().atMost(30, SECONDS).until(() -> handler.deliveredSeqs().equals(List.of(0)));
        assertThat(db.stats().snapshot().requests("GetRecords")).isGreaterThan(reads);
    }

    @Test
    void moreRecordsThanOneReadReturnsAreAllReadWithoutWaitingForANewWrite() {
        String table = newTable(dynamo);
        int n = 2_500; // GetRecords returns at most 1,000
        for (int i = 0; i < n; i++) put(dynamo, table, "k", i);
        var handler = new RecordingHandler();
        var esm = start(table, handler, b -> b);
        // were a full page taken for "read everything", the rest would wait for this (or for another write)
        esm.longestSkip = Duration.ofHours(1);

        await().atMost(60, SECONDS).until(() -> handler.delivered().size() >= n);
        assertThat(handler.deliveredSeqs())
                .containsExactlyElementsOf(IntStream.range(0, n).boxed().toList());
    }

    // ---------------------------------------------------------------- helpers

    private StreamEventSource.Builder config(String table) {
        return StreamEventSource.Config.builder(table)
                .pollInterval(FAST_POLL)
                .startingPosition(StartingPosition.TRIM_HORIZON);
    }

    private StreamEventSource start(
            String table,
            RecordingHandler handler,
            Function<StreamEventSource.Builder, StreamEventSource.Builder> settings) {
        return track(StreamEventSource.create(db, settings.apply(config(table)).build(), handler)
                .start());
    }

    private <T extends AutoCloseable> T track(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private static StreamsEventResponse failureOf(Seen record) {
        return new StreamsEventResponse(List.of(failure(record)));
    }

    private static BatchItemFailure failure(Seen record) {
        return new BatchItemFailure(record.sequenceNumber());
    }

    private static DynamoDbClient client(LocalDynamoDb server) {
        return DynamoDbClient.builder()
                .endpointOverride(server.endpoint())
                .region(Region.of("local"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    private static String newTable(DynamoDbClient client) {
        String name = "events-" + tables.incrementAndGet();
        client.createTable(r -> r.tableName(name)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                        a -> a.attributeName("pk").attributeType(ScalarAttributeType.S),
                        a -> a.attributeName("seq").attributeType(ScalarAttributeType.N))
                .keySchema(
                        k -> k.attributeName("pk").keyType(KeyType.HASH),
                        k -> k.attributeName("seq").keyType(KeyType.RANGE))
                .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_IMAGE)));
        return name;
    }

    private static void put(DynamoDbClient client, String table, String pk, int seq) {
        client.putItem(r -> r.tableName(table).item(Map.of("pk", s(pk), "seq", n(seq), "body", s(pk + "#" + seq))));
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static AttributeValue n(int v) {
        return AttributeValue.fromN(Integer.toString(v));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
