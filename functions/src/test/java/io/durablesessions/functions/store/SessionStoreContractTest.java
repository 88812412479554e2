package io.durablesessions.functions.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.AppendResult.Duplicate;
import io.durablesessions.events.AppendResult.EntityTransition;
import io.durablesessions.events.AppendResult.InvalidTransition;
import io.durablesessions.events.AppendResult.NotOwner;
import io.durablesessions.events.AppendResult.ProducerGap;
import io.durablesessions.events.AppendResult.RunExists;
import io.durablesessions.events.AppendResult.RunFenced;
import io.durablesessions.events.AppendResult.RunNotFound;
import io.durablesessions.events.AppendResult.StaleEpoch;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Frames;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.RunState;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SnapshotParts;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.functions.testing.TestDynamo;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The session log's contract, through the real AWS SDK, on the embedded DynamoDB — and on
 * LocalStack's in the {@code localstack-profile} run, which is skipped where no Docker engine runs.
 */
@EnabledIf(
        value = "io.durablesessions.functions.testing.TestDynamo#available",
        disabledReason = "no Docker engine: the LocalStack profile is skipped")
class SessionStoreContractTest {
    static TestDynamo dynamo;
    /**
     * Each test thread is a Lambda container of its own, with its own store: concurrent appends
     * race in DynamoDB, as they do between containers, rather than taking turns inside one store
     * ({@link SessionTurns}; SessionTurnsTest covers that).
     */
    static final ThreadLocal<SessionStore> CONTAINER =
            ThreadLocal.withInitial(() -> new SessionStore(dynamo.client, dynamo.tables, Clock.systemUTC()));

    @BeforeAll
    static void start() {
        dynamo = TestDynamo.start();
    }

    static SessionStore store() {
        return CONTAINER.get();
    }

    @AfterAll
    static void stop() {
        if (dynamo != null) dynamo.close();
    }

    static String newSession() {
        return "s-" + UUID.randomUUID();
    }

    static EventInput custom(String name) {
        return EventInput.of(EventType.CUSTOM, null, Json.object().put("name", name));
    }

    static EventInput start(String run, String messageId) {
        return EventInput.of(
                EventType.MESSAGE_START,
                run,
                Json.object().put("messageId", messageId).put("role", run == null ? "user" : "assistant"));
    }

    static EventInput end(String run, String messageId) {
        return EventInput.of(EventType.MESSAGE_END, run, Json.object().put("messageId", messageId));
    }

    static EventInput delta(String run, String messageId, String text) {
        return EventInput.of(
                EventType.TEXT_DELTA,
                run,
                Json.object().put("messageId", messageId).put("text", text));
    }

    static EventInput runEvent(EventType type, String run) {
        return EventInput.of(type, run, Json.object());
    }

    static AppendResult append(String session, EventInput... events) {
        return store().append(new AppendRequest(session, "agent-1", null, List.of(events)));
    }

    static AppendResult append(String session, Producer p, EventInput... events) {
        return store().append(new AppendRequest(session, "agent-1", p, List.of(events)));
    }

    static AppendResult appendAs(String writer, String session, EventInput... events) {
        return store().append(new AppendRequest(session, writer, null, List.of(events)));
    }

    static List<Event> readAll(String session) {
        return rawLog(session).stream().map(Event::fromJson).toList();
    }

    static List<String> rawLog(String session) {
        List<String> raw = new ArrayList<>();
        store().forEachAfter(session, 0, se -> raw.add(se.json()));
        return raw;
    }

    @Nested
    class Sequencing {
        @Test
        void seqsStartAtOneAndContinueAcrossAppends() {
            String s = newSession();
            assertThat(append(s, custom("a"))).isInstanceOfSatisfying(Appended.class, a -> {
                assertThat(a.firstSeq()).isEqualTo(1);
                assertThat(a.lastSeq()).isEqualTo(1);
            });
            assertThat(append(s, custom("b"), custom("c"))).isInstanceOfSatisfying(Appended.class, a -> {
                assertThat(a.firstSeq()).isEqualTo(2);
                assertThat(a.lastSeq()).isEqualTo(3);
            });
        }

        @Test
        void everyEventCarriesItsEnvelope() {
            String s = newSession();
            Appended a = (Appended) append(s, custom("a"), custom("b"), custom("c"));
            assertThat(a.firstSeq()).isEqualTo(1);
            assertThat(a.lastSeq()).isEqualTo(3);
            assertThat(readAll(s)).extracting(Event::seq).containsExactly(1L, 2L, 3L);
            assertThat(readAll(s)).allSatisfy(e -> {
                assertThat(e.sessionId()).isEqualTo(s);
                assertThat(e.agentId()).isEqualTo("agent-1");
                assertThat(e.ts()).isPositive();
            });
            assertThat(store().head(s)).isEqualTo(3);
        }

        @Test
        void eightConcurrentWritersTimesAThousandAppendsGiveSeqsOneToEightThousand() throws Exception {
            String s = newSession();
            int writers = 8;
            int each = 1000;
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<Long>>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                futures.add(pool.submit(() -> {
                    go.await();
                    List<Long> seqs = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        AppendResult r;
                        do {
                            r = append(s, new Producer("w" + writer, 0, i), custom("w" + writer + "-" + i));
                        } while (r instanceof AppendResult.Contention);
                        seqs.add(((Appended) r).firstSeq());
                    }
                    return seqs;
                }));
            }
            go.countDown();
            Set<Long> acked = new HashSet<>();
            for (Future<List<Long>> f : futures) acked.addAll(f.get());
            pool.shutdown();

            List<Event> log = readAll(s);
            assertThat(log)
                    .extracting(Event::seq)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, writers * each)
                            .boxed()
                            .toList());
            assertThat(acked).hasSize(writers * each);
            assertThat(log)
                    .extracting(e -> e.dataText("name"))
                    .doesNotHaveDuplicates()
                    .hasSize(writers * each);
            // each writer's own appends are in its order
            for (int w = 0; w < writers; w++) {
                String prefix = "w" + w + "-";
                List<Integer> mine = log.stream()
                        .map(e -> e.dataText("name"))
                        .filter(n -> n.startsWith(prefix))
                        .map(n -> Integer.parseInt(n.substring(prefix.length())))
                        .toList();
                assertThat(mine).isSorted().hasSize(each);
            }
        }
    }

    @Nested
    class IdempotentProducers {
        @Test
        void aRetryAfterALostAckReturnsTheOriginalSeqsAndWritesNothing() {
            String s = newSession();
            Appended first = (Appended) append(s, new Producer("p", 0, 0), custom("a"), custom("b"));
            append(s, custom("someone else"));
            AppendResult retry = append(s, new Producer("p", 0, 0), custom("a"), custom("b"));
            assertThat(retry).isEqualTo(new Duplicate(first.firstSeq(), first.lastSeq()));
            assertThat(readAll(s)).hasSize(3);
        }

        @Test
        void producersTakingTurnsKeepTheirOwnPositions() {
            // the producer that appended last lives on the SESSION row; the others on their own rows
            String s = newSession();
            Appended p0 = (Appended) append(s, new Producer("p", 0, 0), custom("p0"));
            Appended q0 = (Appended) append(s, new Producer("q", 0, 0), custom("q0"));
            Appended p1 = (Appended) append(s, new Producer("p", 0, 1), custom("p1"));
            assertThat(append(s, new Producer("q", 0, 0), custom("q0")))
                    .isEqualTo(new Duplicate(q0.firstSeq(), q0.lastSeq()));
            assertThat(append(s, new Producer("p", 0, 0), custom("p0")))
                    .isEqualTo(new Duplicate(p0.firstSeq(), p0.lastSeq()));
            assertThat(append(s, new Producer("q", 0, 2), custom("q2"))).isEqualTo(new ProducerGap(1));
            assertThat(append(s, new Producer("q", 0, 1), custom("q1"))).isInstanceOf(Appended.class);
            assertThat(append(s, new Producer("p", 0, 1), custom("p1")))
                    .isEqualTo(new Duplicate(p1.firstSeq(), p1.lastSeq()));
            assertThat(append(s, new Producer("p", 1, 0), custom("p-new-epoch")))
                    .isInstanceOf(Appended.class);
            assertThat(append(s, new Producer("q", 0, 2), custom("q2"))).isInstanceOf(Appended.class);
            assertThat(append(s, new Producer("p", 0, 2), custom("p-old-epoch")))
                    .isEqualTo(new StaleEpoch(1));
            assertThat(readAll(s))
                    .extracting(e -> e.data().get("name").asText())
                    .containsExactly("p0", "q0", "p1", "q1", "p-new-epoch", "q2");
        }

        @Test
        void writersTakingTurnsWithRetriesInFlightCommitEachAppendOnce() throws Exception {
            String s = newSession();
            int writers = 4;
            int appends = 15;
            ExecutorService pool = Executors.newFixedThreadPool(writers * 2);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    String id = "w" + w;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < appends; i++) {
                            int seq = i;
                            // every append is sent twice at once, as a retry after a lost ack would be
                            Future<AppendResult> twin =
                                    pool.submit(() -> append(s, new Producer(id, 0, seq), custom(id + "-" + seq)));
                            AppendResult mine = append(s, new Producer(id, 0, seq), custom(id + "-" + seq));
                            AppendResult other = twin.get();
                            assertThat(List.of(mine, other))
                                    .as("%s-%d", id, seq)
                                    .filteredOn(r -> r instanceof Appended)
                                    .hasSize(1);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) f.get();
            } finally {
                pool.shutdown();
            }
            List<String> log =
                    readAll(s).stream().map(e -> e.data().get("name").asText()).toList();
            assertThat(log).hasSize(writers * appends).doesNotHaveDuplicates();
            for (int w = 0; w < writers; w++) {
                String id = "w" + w;
                assertThat(log.stream().filter(n -> n.startsWith(id + "-")).toList())
                        .isEqualTo(java.util.stream.IntStream.range(0, appends)
                                .mapToObj(i -> id + "-" + i)
                                .toList());
            }
        }

        @Test
        void concurrentRetriesOfOneAppendCommitExactlyOnce() throws Exception {
            String s = newSession();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            CountDownLatch go = new CountDownLatch(1);
            List<Callable<AppendResult>> tasks = Collections.nCopies(6, () -> {
                go.await();
                return append(s, new Producer("p", 0, 0), custom("once"));
            });
            List<Future<AppendResult>> futures =
                    tasks.stream().map(pool::submit).toList();
            go.countDown();
            List<AppendResult> results = new ArrayList<>();
            for (Future<AppendResult> f : futures) results.add(f.get());
            pool.shutdown();
            assertThat(results).filteredOn(r -> r instanceof Appended).hasSize(1);
            assertThat(results)
                    .filteredOn(r -> r instanceof Duplicate)
                    .hasSize(5)
                    .allSatisfy(r -> assertThat(r).isEqualTo(new Duplicate(1L, 1L)));
            assertThat(readAll(s)).hasSize(1);
        }

        @Test
        void retriesRacingTheRunStartTheyRepeatAreDuplicatesNotRunExists() throws Exception {
            // a lost ack on a busy machine: the retry is read before the original commits, and
            // then fails on the run row the original created as well as on the producer row
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                for (int round = 0; round < 10; round++) {
                    String s = newSession();
                    CountDownLatch go = new CountDownLatch(1);
                    List<Callable<AppendResult>> tasks = Collections.nCopies(4, () -> {
                        go.await();
                        return append(
                                s, new Producer("p", 0, 0), runEvent(EventType.RUN_STARTED, "r"), start("r", "m"));
                    });
                    List<Future<AppendResult>> futures =
                            tasks.stream().map(pool::submit).toList();
                    go.countDown();
                    List<AppendResult> results = new ArrayList<>();
                    for (Future<AppendResult> f : futures) results.add(f.get());
                    assertThat(results)
                            .as("round %d", round)
                            .filteredOn(r -> r instanceof Appended)
                            .hasSize(1);
                    assertThat(results)
                            .as("round %d", round)
                            .filteredOn(r -> r instanceof Duplicate)
                            .hasSize(3)
                            .allSatisfy(r -> assertThat(r).isEqualTo(new Duplicate(1L, 2L)));
                    assertThat(readAll(s)).hasSize(2);
                }
            } finally {
                pool.shutdown();
            }
        }

        @Test
        void aGapAndAStaleEpochAreRefusedWithTheirOwnCodes() {
            String s = newSession();
            assertThat(append(s, new Producer("p", 0, 1), custom("x"))).isEqualTo(new ProducerGap(0));
            append(s, new Producer("p", 0, 0), custom("a"));
            assertThat(append(s, new Producer("p", 0, 5), custom("x"))).isEqualTo(new ProducerGap(1));
            assertThat(append(s, new Producer("p", 1, 0), custom("new epoch"))).isInstanceOf(Appended.class);
            assertThat(append(s, new Producer("p", 0, 1), custom("zombie"))).isEqualTo(new StaleEpoch(1));
            assertThat(readAll(s)).extracting(e -> e.dataText("name")).containsExactly("a", "new epoch");
        }

        @Test
        void producersAreIndependentPerSession() {
            String a = newSession();
            String b = newSession();
            append(a, new Producer("p", 0, 0), custom("a"));
            assertThat(append(b, new Producer("p", 0, 0), custom("b"))).isInstanceOf(Appended.class);
        }

        @Test
        void anOldDuplicateBeyondTheWindowIsStillNotWritten() {
            String s = newSession();
            for (int i = 0; i < Limits.PRODUCER_DEDUP_WINDOW + 3; i++)
                append(s, new Producer("p", 0, i), custom("e" + i));
            assertThat(append(s, new Producer("p", 0, 0), custom("e0"))).isEqualTo(new Duplicate(null, null));
            assertThat(append(s, new Producer("p", 0, 5), custom("e5"))).isEqualTo(new Duplicate(6L, 6L));
            assertThat(readAll(s)).hasSize(Limits.PRODUCER_DEDUP_WINDOW + 3);
        }
    }

    @Nested
    class RunFencing {
        @Test
        void aStoppedRunRefusesEveryLaterAppendAndNamesItsLastSeq() {
            String s = newSession();
            append(s, runEvent(EventType.RUN_STARTED, "r1"), start("r1", "m1"));
            append(s, delta("r1", "m1", "Hel"), delta("r1", "m1", "lo"));
            Appended stop = (Appended) store().requestStop(s, "r1", "cancel", "user-1", null, null);
            Event stopEvent = stop.events().get(0);
            assertThat(stopEvent.type()).isEqualTo(EventType.RUN_STOP_REQUESTED);
            assertThat(stopEvent.data().get("stoppedAtSeq").asLong()).isEqualTo(4);
            List<String> before = rawLog(s);

            assertThat(append(s, delta("r1", "m1", "more")))
                    .isEqualTo(new RunFenced("r1", RunState.STOP_REQUESTED, 4L));
            assertThat(append(s, runEvent(EventType.RUN_COMPLETED, "r1"))).isInstanceOf(RunFenced.class);
            assertThat(rawLog(s)).isEqualTo(before);
            assertThat(store().requestStop(s, "r1", "cancel", "user-2", null, null))
                    .isInstanceOf(RunFenced.class);
        }

        @Test
        void theAgentAcknowledgesAStopAndTheServiceEndsTheRunWithRunStopped() {
            String s = newSession();
            append(s, runEvent(EventType.RUN_STARTED, "r1"));
            store().requestStop(s, "r1", "cancel", "user-1", "enough", null);
            Appended ack = (Appended) append(s, runEvent(EventType.RUN_STOP_ACKNOWLEDGED, "r1"));
            // one terminal event whichever way a stop ends (§6): the acknowledgement, then run.stopped
            assertThat(ack.events())
                    .extracting(Event::type)
                    .containsExactly(EventType.RUN_STOP_ACKNOWLEDGED, EventType.RUN_STOPPED);
            Event stopped = ack.events().get(1);
            assertThat(stopped.agentId()).isEqualTo("service");
            assertThat(stopped.data().get("stoppedAtSeq").asLong()).isEqualTo(1L);
            assertThat(stopped.dataText("reason")).isEqualTo("acknowledged");
            assertThat(store().run(s, "r1").state()).isEqualTo(RunState.STOPPED);
            assertThat(store().run(s, "r1").stoppedAtSeq()).isEqualTo(1L);
            // a second acknowledgement has nothing left to acknowledge
            assertThat(append(s, runEvent(EventType.RUN_STOP_ACKNOWLEDGED, "r1")))
                    .isInstanceOf(InvalidTransition.class);
            assertThat(readAll(s))
                    .extracting(Event::type)
                    .containsExactly(
                            EventType.RUN_STARTED,
                            EventType.RUN_STOP_REQUESTED,
                            EventType.RUN_STOP_ACKNOWLEDGED,
                            EventType.RUN_STOPPED);
        }

        @Test
        void completingFencesTheRunToo() {
            String s = newSession();
            append(
                    s,
                    runEvent(EventType.RUN_STARTED, "r1"),
                    start("r1", "m"),
                    delta("r1", "m", "x"),
                    runEvent(EventType.RUN_COMPLETED, "r1"));
            assertThat(append(s, delta("r1", "m", "late"))).isEqualTo(new RunFenced("r1", RunState.COMPLETED, 4L));
        }

        @Test
        void runsMustBeStartedOnceAndTransitionsMustBeLegal() {
            String s = newSession();
            assertThat(append(s, delta("nope", "m", "x"))).isEqualTo(new RunNotFound("nope"));
            append(s, runEvent(EventType.RUN_STARTED, "r1"));
            assertThat(append(s, runEvent(EventType.RUN_STARTED, "r1"))).isEqualTo(new RunExists("r1"));
            assertThat(append(s, runEvent(EventType.RUN_STOP_ACKNOWLEDGED, "r1")))
                    .isInstanceOf(InvalidTransition.class);
            // an append that ends its run and then writes to it is refused as a whole
            assertThat(append(s, runEvent(EventType.RUN_COMPLETED, "r1"), start("r1", "m")))
                    .isInstanceOf(InvalidTransition.class);
            assertThat(readAll(s)).hasSize(1);
        }

        @Test
        void anAgentThatAcknowledgesAsSoonAsItIsFencedIsRecordedWithItsRunStopped() throws Exception {
            // the agent may learn of the stop from a RUN_FENCED while the stop is still being recorded
            for (int round = 0; round < 20; round++) {
                String s = newSession();
                append(s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"));
                CountDownLatch streaming = new CountDownLatch(1);
                AtomicReference<AppendResult> ack = new AtomicReference<>();
                Thread agent = Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        AppendResult r = append(s, delta("r", "m", "t" + i));
                        streaming.countDown();
                        if (r instanceof RunFenced) {
                            ack.set(append(s, runEvent(EventType.RUN_STOP_ACKNOWLEDGED, "r")));
                            return;
                        }
                    }
                });
                streaming.await();
                assertThat(store().requestStop(s, "r", "cancel", "user", null, null))
                        .isInstanceOf(Appended.class);
                agent.join();
                assertThat(ack.get()).as("round %d", round).isInstanceOf(Appended.class);
                List<Event> log = readAll(s);
                assertThat(log.subList(log.size() - 3, log.size()))
                        .extracting(Event::type)
                        .containsExactly(
                                EventType.RUN_STOP_REQUESTED, EventType.RUN_STOP_ACKNOWLEDGED, EventType.RUN_STOPPED);
                assertThat(store().runs(s).get(0).state()).isEqualTo(RunState.STOPPED);
            }
        }

        @Test
        void aStopRacingAStreamingAgentHasExactlyOneOutcome() throws Exception {
            for (int round = 0; round < 20; round++) {
                String s = newSession();
                append(s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"));
                AtomicBoolean fenced = new AtomicBoolean();
                ConcurrentLinkedQueue<Long> acceptedSeqs = new ConcurrentLinkedQueue<>();
                Thread agent = Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 400 && !fenced.get(); i++) {
                        AppendResult r = append(s, delta("r", "m", "t" + i));
                        if (r instanceof Appended a) acceptedSeqs.add(a.lastSeq());
                        else if (r instanceof RunFenced f) {
                            // always names where it stopped, even while the stop is still being recorded
                            assertThat(f.stoppedAtSeq()).isNotNull();
                            fenced.set(true);
                        }
                    }
                });
                Thread.sleep(round % 5);
                Appended stop = (Appended) store().requestStop(s, "r", "cancel", "user", null, null);
                agent.join();
                long stopSeq = stop.firstSeq();
                long stoppedAt = stop.events().get(0).data().get("stoppedAtSeq").asLong();
                List<Event> log = readAll(s);
                assertThat(log.stream().filter(e -> "r".equals(e.runId()) && e.seq() > stopSeq))
                        .isEmpty();
                long lastRunEventBeforeStop = log.stream()
                        .filter(e -> "r".equals(e.runId()) && e.seq() < stopSeq)
                        .mapToLong(Event::seq)
                        .max()
                        .orElseThrow();
                assertThat(stoppedAt).isEqualTo(lastRunEventBeforeStop);
                assertThat(acceptedSeqs).allSatisfy(seq -> assertThat(seq).isLessThan(stopSeq));
            }
        }
    }

    /** Inside a session, every message, tool call and run belongs to its writer (docs/protocol.md §6.3). */
    @Nested
    class WriterIntegrity {
        static EventInput toolCall(String run, String id) {
            return EventInput.of(
                    EventType.TOOL_CALL,
                    run,
                    Json.object().put("toolCallId", id).put("name", "search"));
        }

        static EventInput toolResult(String run, String id) {
            return EventInput.of(
                    EventType.TOOL_RESULT,
                    run,
                    Json.object().put("toolCallId", id).put("result", "pwned"));
        }

        @Test
        void aMessageTakesEventsFromItsFirstWriterOnly() {
            String s = newSession();
            appendAs("ana", s, start(null, "m-ana"), delta(null, "m-ana", "hi"));
            List<String> before = rawLog(s);
            assertThat(appendAs("eve", s, delta(null, "m-ana", " (edited)")))
                    .isEqualTo(new NotOwner("messageId", "m-ana"));
            assertThat(appendAs("eve", s, end(null, "m-ana"))).isEqualTo(new NotOwner("messageId", "m-ana"));
            // a second start can neither re-own the message nor change its role
            assertThat(appendAs(
                            "eve",
                            s,
                            EventInput.of(
                                    EventType.MESSAGE_START,
                                    null,
                                    Json.object().put("messageId", "m-ana").put("role", "system"))))
                    .isEqualTo(new NotOwner("messageId", "m-ana"));
            assertThat(appendAs("ana", s, start(null, "m-ana")))
                    .isEqualTo(
                            new EntityTransition("messageId", "m-ana", EventType.MESSAGE_START, "was already started"));
            assertThat(rawLog(s)).isEqualTo(before);
            assertThat(appendAs("ana", s, delta(null, "m-ana", "!"), end(null, "m-ana")))
                    .isInstanceOf(Appended.class);
        }

        @Test
        void aMessageMustBeStartedAndTakesNothingAfterItsEnd() {
            String s = newSession();
            assertThat(appendAs("ana", s, delta(null, "m", "x")))
                    .isEqualTo(new EntityTransition("messageId", "m", EventType.TEXT_DELTA, "was never started"));
            appendAs("ana", s, start(null, "m"), end(null, "m"));
            assertThat(appendAs("ana", s, delta(null, "m", "late")))
                    .isEqualTo(new EntityTransition("messageId", "m", EventType.TEXT_DELTA, "has ended"));
            assertThat(appendAs("ana", s, start(null, "n"), end(null, "n"), delta(null, "n", "x")))
                    .isInstanceOf(EntityTransition.class);
            assertThat(readAll(s)).hasSize(2);
        }

        @Test
        void aRunTakesEventsFromItsOwnAgentOnly() {
            String s = newSession();
            appendAs("agent-a", s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"), toolCall("r", "t"));
            List<String> before = rawLog(s);
            for (EventInput hostile : List.of(
                    delta("r", "m", "x"),
                    toolResult("r", "t"),
                    toolCall("r", "t2"),
                    start("r", "m2"),
                    runEvent(EventType.RUN_COMPLETED, "r"),
                    runEvent(EventType.RUN_FAILED, "r"))) {
                assertThat(appendAs("agent-b", s, hostile))
                        .as(hostile.type().wire())
                        .isEqualTo(new NotOwner("runId", "r"));
            }
            assertThat(store().heartbeat(s, "r", "agent-b")).isEqualTo(new NotOwner("runId", "r"));
            assertThat(rawLog(s)).isEqualTo(before);
            // the owner is not disturbed: its next append goes through
            assertThat(appendAs("agent-a", s, delta("r", "m", "ok"), toolResult("r", "t")))
                    .isInstanceOf(Appended.class);
        }

        @Test
        void aRunsMessageCannotBeReachedWithoutItsRunOrFromAnotherRun() {
            String s = newSession();
            appendAs(
                    "agent-a",
                    s,
                    runEvent(EventType.RUN_STARTED, "r1"),
                    runEvent(EventType.RUN_STARTED, "r2"),
                    start("r1", "m"),
                    toolCall("r1", "t"));
            List<String> before = rawLog(s);
            assertThat(appendAs("agent-b", s, delta(null, "m", "x"))).isEqualTo(new NotOwner("messageId", "m"));
            assertThat(appendAs("agent-b", s, toolResult(null, "t"))).isEqualTo(new NotOwner("toolCallId", "t"));
            assertThat(appendAs("agent-a", s, delta(null, "m", "x"))).isInstanceOf(EntityTransition.class);
            assertThat(appendAs("agent-a", s, delta("r2", "m", "x")))
                    .isEqualTo(new EntityTransition("messageId", "m", EventType.TEXT_DELTA, "belongs to run 'r1'"));
            assertThat(rawLog(s)).isEqualTo(before);
        }

        static EventInput inputStart(String run, String tool, String message) {
            return EventInput.of(
                    EventType.TOOL_INPUT_START,
                    run,
                    Json.object()
                            .put("toolCallId", tool)
                            .put("messageId", message)
                            .put("name", "weather"));
        }

        static EventInput inputDelta(String run, String tool, String message, String text) {
            return EventInput.of(
                    EventType.TOOL_INPUT_DELTA,
                    run,
                    Json.object()
                            .put("toolCallId", tool)
                            .put("messageId", message)
                            .put("text", text));
        }

        static EventInput calledIn(String run, String tool, String message) {
            return EventInput.of(
                    EventType.TOOL_CALL,
                    run,
                    Json.object()
                            .put("toolCallId", tool)
                            .put("messageId", message)
                            .put("name", "weather")
                            .set("arguments", Json.object().put("city", "Paris")));
        }

        static EventInput reasoning(String run, String message, String text) {
            return EventInput.of(
                    EventType.REASONING_DELTA,
                    run,
                    Json.object().put("messageId", message).put("text", text));
        }

        static EventInput part(String run, String message) {
            ObjectNode data = Json.object().put("messageId", message);
            data.putObject("part")
                    .put("type", "source-url")
                    .put("sourceId", "s-1")
                    .put("url", "https://example.com/");
            return EventInput.of(EventType.MESSAGE_PART, run, data);
        }

        @ParameterizedTest(name = "in a run: {0}")
        @ValueSource(booleans = {true, false})
        void aToolCallsInputStreamsUntilItsCallThenItsResultClosesIt(boolean inRun) {
            String s = newSession();
            String r = inRun ? "r" : null;
            if (inRun) appendAs("agent-a", s, runEvent(EventType.RUN_STARTED, "r"));
            assertThat(appendAs("agent-a", s, start(r, "m"), reasoning(r, "m", "thinking"), inputStart(r, "t", "m")))
                    .isInstanceOf(Appended.class);
            assertThat(appendAs(
                            "agent-a", s, inputDelta(r, "t", "m", "{\"city\":"), inputDelta(r, "t", "m", "\"Paris\"}")))
                    .isInstanceOf(Appended.class);
            assertThat(appendAs("agent-a", s, toolResult(r, "t")))
                    .isEqualTo(new EntityTransition(
                            "toolCallId",
                            "t",
                            EventType.TOOL_RESULT,
                            "is still streaming its input: its tool.call comes first"));
            assertThat(appendAs("agent-a", s, calledIn(r, "t", "m"))).isInstanceOf(Appended.class);
            assertThat(appendAs("agent-a", s, inputDelta(r, "t", "m", "late")))
                    .isEqualTo(new EntityTransition(
                            "toolCallId",
                            "t",
                            EventType.TOOL_INPUT_DELTA,
                            "has its complete input already (its tool.call was sent)"));
            assertThat(appendAs("agent-a", s, calledIn(r, "t", "m")))
                    .isEqualTo(new EntityTransition("toolCallId", "t", EventType.TOOL_CALL, "was already called"));
            assertThat(appendAs("agent-a", s, toolResult(r, "t"), part(r, "m"), end(r, "m")))
                    .isInstanceOf(Appended.class);
            assertThat(appendAs("agent-a", s, toolResult(r, "t"))).isInstanceOf(EntityTransition.class);
            assertThat(appendAs("agent-a", s, calledIn(r, "t", "m"))).isInstanceOf(EntityTransition.class);
            // the whole life in one append is the same
            assertThat(appendAs(
                            "agent-a",
                            s,
                            start(r, "m2"),
                            inputStart(r, "t2", "m2"),
                            inputDelta(r, "t2", "m2", "{}"),
                            calledIn(r, "t2", "m2"),
                            toolResult(r, "t2"),
                            end(r, "m2")))
                    .isInstanceOf(Appended.class);
            assertThat(appendAs("agent-a", s, start(r, "m3"), calledIn(r, "t3", "m3"), inputDelta(r, "t3", "m3", "x")))
                    .isInstanceOf(EntityTransition.class);
        }

        @Test
        void eventsThatNameAMessageNeedItOpenAndTheirOwn() {
            String s = newSession();
            appendAs("agent-a", s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"));
            appendAs("ana", s, start(null, "u"), end(null, "u"));
            List<String> before = rawLog(s);
            for (EventInput hostile : List.of(reasoning(null, "u", "x"), part(null, "u"), inputStart(null, "t", "u"))) {
                assertThat(appendAs("eve", s, hostile))
                        .as(hostile.type().wire())
                        .isEqualTo(new NotOwner("messageId", "u"));
                assertThat(appendAs("ana", s, hostile))
                        .as(hostile.type().wire())
                        .isEqualTo(new EntityTransition("messageId", "u", hostile.type(), "has ended"));
            }
            // a writer's own tool call cannot be attached to another writer's message
            assertThat(appendAs(
                            "eve",
                            s,
                            EventInput.of(
                                    EventType.TOOL_CALL,
                                    null,
                                    Json.object()
                                            .put("toolCallId", "t-eve")
                                            .put("name", "x")
                                            .put("messageId", "m"))))
                    .isEqualTo(new NotOwner("messageId", "m"));
            assertThat(rawLog(s)).isEqualTo(before);
            assertThat(store().interrupt(s, "r", null, "ana", null)).isInstanceOf(Appended.class);
            for (EventInput late : List.of(
                    reasoning("r", "m", "x"), part("r", "m"), inputStart("r", "t", "m"), calledIn("r", "t", "m"))) {
                assertThat(appendAs("agent-a", s, late))
                        .as(late.type().wire())
                        .isInstanceOf(AppendResult.MessageFenced.class);
            }
        }

        @Test
        void anInterruptedReplyRefusesItsEndAndEveryLaterDelta() {
            String s = newSession();
            appendAs("agent-a", s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"));
            assertThat(store().interrupt(s, "r", null, "ana", null)).isInstanceOf(Appended.class);
            assertThat(appendAs("agent-a", s, delta("r", "m", "x"))).isInstanceOf(AppendResult.MessageFenced.class);
            assertThat(appendAs("agent-a", s, end("r", "m"))).isInstanceOf(AppendResult.MessageFenced.class);
            assertThat(appendAs("agent-a", s, start("r", "m2"), delta("r", "m2", "next")))
                    .isInstanceOf(Appended.class);
        }

        @Test
        void aSubRunNeedsARunningParentInTheSameSessionSoCyclesCannotBeBuilt() {
            String s = newSession();
            assertThat(appendAs(
                            "agent-a",
                            s,
                            EventInput.of(
                                    EventType.RUN_STARTED, "c1", Json.object().put("parentRunId", "c2"))))
                    .isEqualTo(new RunNotFound("c2"));
            appendAs("agent-a", s, runEvent(EventType.RUN_STARTED, "c1"));
            assertThat(appendAs(
                            "agent-b",
                            s,
                            EventInput.of(
                                    EventType.RUN_STARTED, "c2", Json.object().put("parentRunId", "c1"))))
                    .isInstanceOf(Appended.class);
            // c1 cannot be re-started under c2: it exists
            assertThat(appendAs(
                            "agent-a",
                            s,
                            EventInput.of(
                                    EventType.RUN_STARTED, "c1", Json.object().put("parentRunId", "c2"))))
                    .isEqualTo(new RunExists("c1"));
            appendAs("agent-a", s, runEvent(EventType.RUN_COMPLETED, "c1"));
            assertThat(appendAs(
                            "agent-c",
                            s,
                            EventInput.of(
                                    EventType.RUN_STARTED, "c3", Json.object().put("parentRunId", "c1"))))
                    .isInstanceOfSatisfying(
                            RunFenced.class, f -> assertThat(f.runId()).isEqualTo("c1"));
        }

        @Test
        void producerIdsAreScopedToTheirWriter() {
            String s = newSession();
            Appended mine = (Appended)
                    store().append(new AppendRequest(s, "agent-a", new Producer("p", 0, 0), List.of(custom("a"))));
            // the same producer id under another writer is another producer: it neither collides nor replays
            Appended theirs = (Appended)
                    store().append(new AppendRequest(s, "agent-b", new Producer("p", 0, 0), List.of(custom("b"))));
            assertThat(theirs.firstSeq()).isEqualTo(mine.firstSeq() + 1);
            assertThat(store().append(new AppendRequest(s, "agent-b", new Producer("p", 0, 0), List.of(custom("b")))))
                    .isEqualTo(new Duplicate(theirs.firstSeq(), theirs.lastSeq()));
        }
    }

    @Nested
    class Reading {
        @Test
        void pagesThroughThousandsOfEventsInOrder() {
            String s = newSession();
            List<EventInput> batch = new ArrayList<>();
            for (int i = 0; i < Limits.MAX_EVENTS_PER_APPEND; i++) batch.add(custom("e"));
            for (int i = 0; i < 50; i++) store().append(new AppendRequest(s, "agent-1", null, batch));
            int total = 50 * Limits.MAX_EVENTS_PER_APPEND;
            List<Long> seen = new ArrayList<>();
            long after = 0;
            int pages = 0;
            EventPage page;
            do {
                page = store().readAfter(s, after, 100);
                page.events().forEach(e -> seen.add(e.seq()));
                after = page.lastSeq(after);
                pages++;
            } while (page.more());
            assertThat(seen)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, total)
                            .boxed()
                            .toList());
            assertThat(pages).isBetween(total / 100, total / 100 + 1);
            assertThat(store().readAfter(s, total - 5, 100).events()).hasSize(5);
            assertThat(store().readAfter(s, total, 100).events()).isEmpty();
        }

        @Test
        void hydrationEqualsFoldingTheWholeLogAndReadsFarFewerItems() {
            String s = newSession();
            int replies = 12;
            for (int r = 0; r < replies; r++) {
                String run = "run-" + r;
                String m = "m-" + r;
                append(
                        s,
                        runEvent(EventType.RUN_STARTED, run),
                        EventInput.of(
                                EventType.MESSAGE_START,
                                run,
                                Json.object().put("messageId", m).put("role", "assistant")));
                for (int d = 0; d < 100; d++) append(s, delta(run, m, "tok" + d + " "));
                append(
                        s,
                        EventInput.of(EventType.MESSAGE_END, run, Json.object().put("messageId", m)),
                        runEvent(EventType.RUN_COMPLETED, run));
            }
            // a reply still streaming when the new tab arrives
            append(
                    s,
                    runEvent(EventType.RUN_STARTED, "live"),
                    EventInput.of(
                            EventType.MESSAGE_START,
                            "live",
                            Json.object().put("messageId", "m-live").put("role", "assistant")));
            for (int d = 0; d < 30; d++) append(s, delta("live", "m-live", "x"));

            List<Event> log = readAll(s);
            Hydration h = store().hydrate(s);
            assertThat(h.state().toJson()).isEqualTo(Assembler.fold(log).toJson());
            assertThat(h.state().headSeq()).isEqualTo(log.size());
            assertThat(h.itemsRead() + h.eventsRead()).isLessThan(log.size() / 10);
            SessionState.Message live = (SessionState.Message)
                    h.state().items().get(h.state().items().size() - 1);
            assertThat(live.text()).isEqualTo("x".repeat(30));
            assertThat(live.status()).isEqualTo("streaming");
        }

        @Test
        void aCompletedMessageOfAnyLengthStaysHydratableAndCompactionStillMovesOn() {
            String s = newSession();
            append(s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"));
            String piece = "é".repeat(40_000); // 80 KB of UTF-8 per delta: 1.2 MB in all, over the 400 KB item limit
            for (int i = 0; i < 15; i++) append(s, delta("r", "m", piece));
            append(s, end("r", "m"), runEvent(EventType.RUN_COMPLETED, "r"));
            append(s, start(null, "after"), delta(null, "after", "still compacted"), end(null, "after"));

            Hydration h = store().hydrate(s);
            assertThat(h.state().toJson()).isEqualTo(Assembler.fold(readAll(s)).toJson());
            // everything was folded into stored items: the watermark reached the head, no event is re-read
            assertThat(h.eventsRead()).isZero();
            SessionState.Message m = (SessionState.Message) h.state().items().get(0);
            assertThat(m.text()).hasSize(15 * 40_000);
            assertThat(m.status()).isEqualTo("complete");
            // the snapshot is sent in frames that each fit a WebSocket message, and joins back exactly
            var frames = Frames.snapshots("r1", s, h.state(), Limits.MAX_MESSAGE_BYTES);
            assertThat(frames)
                    .allSatisfy(f -> assertThat(f.getBytes(StandardCharsets.UTF_8).length)
                            .isLessThanOrEqualTo(Limits.MAX_MESSAGE_BYTES));
            assertThat(SnapshotParts.join(frames.stream().map(Json::parseObject).toList())
                            .toJson())
                    .isEqualTo(h.state().toJson());
        }

        @Test
        void whatRunsAfterTheCommitSeesTheAppendBeforeTheCompactionItTriggers() {
            String s = newSession();
            append(s, runEvent(EventType.RUN_STARTED, "r"), start("r", "m"), delta("r", "m", "hello"));
            List<Integer> eventsReadMeanwhile = new ArrayList<>();
            AppendResult r = store().append(
                            new AppendRequest(
                                    s, "agent-1", null, List.of(end("r", "m"), runEvent(EventType.RUN_COMPLETED, "r"))),
                            appended ->
                                    eventsReadMeanwhile.add(store().hydrate(s).eventsRead()));
            assertThat(r).isInstanceOf(AppendResult.Appended.class);
            // direct delivery runs there: nothing was folded yet, so no reader waited for the compaction
            assertThat(eventsReadMeanwhile).singleElement().isEqualTo(5);
            // which the message end then triggered: everything is folded
            assertThat(store().hydrate(s).eventsRead()).isZero();
        }

        @Test
        void hydrationOfAnUncompactedOrEmptySessionIsTheFold() {
            String s = newSession();
            assertThat(store().hydrate(s).state()).isEqualTo(SessionState.EMPTY);
            append(s, custom("a"), custom("b"));
            assertThat(store().hydrate(s).state().toJson())
                    .isEqualTo(Assembler.fold(readAll(s)).toJson());
        }
    }

    @Nested
    class BadInput {
        @Test
        void anEventOverTheSizeLimitIsRefusedAndNothingIsWritten() {
            String s = newSession();
            append(s, custom("before"));
            List<String> before = rawLog(s);
            String huge = "x".repeat(Limits.MAX_EVENT_BYTES);
            assertThatThrownBy(() -> append(s, custom("ok"), start(null, "m"), delta(null, "m", huge)))
                    .isInstanceOfSatisfying(
                            ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.EVENT_TOO_LARGE));
            assertThat(rawLog(s)).isEqualTo(before);
        }

        @Test
        void anEventJustUnderTheLimitIsStoredAndReadBackByteForByte() {
            String s = newSession();
            String text = "é".repeat((Limits.MAX_EVENT_BYTES - 400) / 2);
            Appended a = (Appended) append(s, start(null, "m"), delta(null, "m", text));
            assertThat(rawLog(s))
                    .containsExactly(
                            a.events().get(0).toJson(), a.events().get(1).toJson());
        }

        @Test
        void tooManyEventsAreRefused() {
            String s = newSession();
            List<EventInput> batch = Collections.nCopies(Limits.MAX_EVENTS_PER_APPEND + 1, custom("e"));
            assertThatThrownBy(() -> store().append(new AppendRequest(s, "a", null, batch)))
                    .isInstanceOfSatisfying(
                            ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_EVENTS));
            assertThat(store().head(s)).isZero();
        }
    }
}
