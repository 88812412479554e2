package io.durablesessions.functions.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.AppendResult.Duplicate;
import io.durablesessions.events.AppendResult.InvalidTransition;
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
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.RunState;
import io.durablesessions.events.SessionState;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.functions.testing.TestDynamo;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The session log's contract, through the real AWS SDK, on the embedded DynamoDB — and on
 * LocalStack's in the {@code localstack-profile} run, which is skipped where no Docker engine runs.
 */
@EnabledIf(value = "io.durablesessions.functions.testing.TestDynamo#available",
        disabledReason = "no Docker engine: the LocalStack profile is skipped")
class SessionStoreContractTest {
    static TestDynamo dynamo;
    static SessionStore store;

    @BeforeAll
    static void start() {
        dynamo = TestDynamo.start();
        store = new SessionStore(dynamo.client, dynamo.tables, Clock.systemUTC());
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

    static EventInput delta(String run, String messageId, String text) {
        return EventInput.of(EventType.TEXT_DELTA, run, Json.object().put("messageId", messageId).put("text", text));
    }

    static EventInput runEvent(EventType type, String run) {
        return EventInput.of(type, run, Json.object());
    }

    static AppendResult append(String session, EventInput... events) {
        return store.append(new AppendRequest(session, "agent-1", null, List.of(events)));
    }

    static AppendResult append(String session, Producer p, EventInput... events) {
        return store.append(new AppendRequest(session, "agent-1", p, List.of(events)));
    }

    static List<Event> readAll(String session) {
        return rawLog(session).stream().map(Event::fromJson).toList();
    }

    static List<String> rawLog(String session) {
        List<String> raw = new ArrayList<>();
        store.forEachAfter(session, 0, se -> raw.add(se.json()));
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
            assertThat(store.head(s)).isEqualTo(3);
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
            assertThat(log).extracting(Event::seq).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(1, writers * each).boxed().toList());
            assertThat(acked).hasSize(writers * each);
            assertThat(log).extracting(e -> e.dataText("name")).doesNotHaveDuplicates().hasSize(writers * each);
            // each writer's own appends are in its order
            for (int w = 0; w < writers; w++) {
                String prefix = "w" + w + "-";
                List<Integer> mine = log.stream().map(e -> e.dataText("name")).filter(n -> n.startsWith(prefix))
                        .map(n -> Integer.parseInt(n.substring(prefix.length()))).toList();
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
        void concurrentRetriesOfOneAppendCommitExactlyOnce() throws Exception {
            String s = newSession();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            CountDownLatch go = new CountDownLatch(1);
            List<Callable<AppendResult>> tasks = Collections.nCopies(6, () -> {
                go.await();
                return append(s, new Producer("p", 0, 0), custom("once"));
            });
            List<Future<AppendResult>> futures = tasks.stream().map(pool::submit).toList();
            go.countDown();
            List<AppendResult> results = new ArrayList<>();
            for (Future<AppendResult> f : futures) results.add(f.get());
            pool.shutdown();
            assertThat(results).filteredOn(r -> r instanceof Appended).hasSize(1);
            assertThat(results).filteredOn(r -> r instanceof Duplicate).hasSize(5)
                    .allSatisfy(r -> assertThat(r).isEqualTo(new Duplicate(1L, 1L)));
            assertThat(readAll(s)).hasSize(1);
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
            for (int i = 0; i < Limits.PRODUCER_DEDUP_WINDOW + 3; i++) append(s, new Producer("p", 0, i), custom("e" + i));
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
            append(s, runEvent(EventType.RUN_STARTED, "r1"));
            append(s, delta("r1", "m1", "Hel"), delta("r1", "m1", "lo"));
            Appended stop = (Appended) store.requestStop(s, "r1", "cancel", "user-1", null);
            Event stopEvent = stop.events().get(0);
            assertThat(stopEvent.type()).isEqualTo(EventType.RUN_STOP_REQUESTED);
            assertThat(stopEvent.data().get("stoppedAtSeq").asLong()).isEqualTo(3);
            List<String> before = rawLog(s);

            assertThat(append(s, delta("r1", "m1", "more"))).isEqualTo(new RunFenced("r1", RunState.STOP_REQUESTED, 3L));
            assertThat(append(s, runEvent(EventType.RUN_COMPLETED, "r1"))).isInstanceOf(RunFenced.class);
            assertThat(rawLog(s)).isEqualTo(before);
            assertThat(store.requestStop(s, "r1", "cancel", "user-2", null)).isInstanceOf(RunFenced.class);
        }

        @Test
        void theAgentAcknowledgesAStopAndTheRunIsStopped() {
            String s = newSession();
            append(s, runEvent(EventType.RUN_STARTED, "r1"));
            store.requestStop(s, "r1", "cancel", "user-1", "enough");
            assertThat(append(s, runEvent(EventType.RUN_STOP_ACKNOWLEDGED, "r1"))).isInstanceOf(Appended.class);
            assertThat(store.run(s, "r1").state()).isEqualTo(RunState.STOPPED);
            assertThat(store.run(s, "r1").stoppedAtSeq()).isEqualTo(1L);
        }

        @Test
        void completingFencesTheRunToo() {
            String s = newSession();
            append(s, runEvent(EventType.RUN_STARTED, "r1"), delta("r1", "m", "x"), runEvent(EventType.RUN_COMPLETED, "r1"));
            assertThat(append(s, delta("r1", "m", "late"))).isEqualTo(new RunFenced("r1", RunState.COMPLETED, 3L));
        }

        @Test
        void runsMustBeStartedOnceAndTransitionsMustBeLegal() {
            String s = newSession();
            assertThat(append(s, delta("nope", "m", "x"))).isEqualTo(new RunNotFound("nope"));
            append(s, runEvent(EventType.RUN_STARTED, "r1"));
            assertThat(append(s, runEvent(EventType.RUN_STARTED, "r1"))).isEqualTo(new RunExists("r1"));
            assertThat(append(s, runEvent(EventType.RUN_STOP_ACKNOWLEDGED, "r1"))).isInstanceOf(InvalidTransition.class);
            assertThat(append(s, runEvent(EventType.RUN_COMPLETED, "r1"), delta("r1", "m", "after")))
                    .isInstanceOf(RunFenced.class);
            assertThat(readAll(s)).hasSize(1);
        }

        @Test
        void aStopRacingAStreamingAgentHasExactlyOneOutcome() throws Exception {
            for (int round = 0; round < 20; round++) {
                String s = newSession();
                append(s, runEvent(EventType.RUN_STARTED, "r"));
                AtomicBoolean fenced = new AtomicBoolean();
                ConcurrentLinkedQueue<Long> acceptedSeqs = new ConcurrentLinkedQueue<>();
                Thread agent = Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 400 && !fenced.get(); i++) {
                        AppendResult r = append(s, delta("r", "m", "t" + i));
                        if (r instanceof Appended a) acceptedSeqs.add(a.lastSeq());
                        else if (r instanceof RunFenced) fenced.set(true);
                    }
                });
                Thread.sleep(round % 5);
                Appended stop = (Appended) store.requestStop(s, "r", "cancel", "user", null);
                agent.join();
                long stopSeq = stop.firstSeq();
                long stoppedAt = stop.events().get(0).data().get("stoppedAtSeq").asLong();
                List<Event> log = readAll(s);
                assertThat(log.stream().filter(e -> "r".equals(e.runId()) && e.seq() > stopSeq)).isEmpty();
                long lastRunEventBeforeStop = log.stream().filter(e -> "r".equals(e.runId()) && e.seq() < stopSeq)
                        .mapToLong(Event::seq).max().orElseThrow();
                assertThat(stoppedAt).isEqualTo(lastRunEventBeforeStop);
                assertThat(acceptedSeqs).allSatisfy(seq -> assertThat(seq).isLessThan(stopSeq));
            }
        }
    }

    @Nested
    class Reading {
        @Test
        void pagesThroughThousandsOfEventsInOrder() {
            String s = newSession();
            List<EventInput> batch = new ArrayList<>();
            for (int i = 0; i < Limits.MAX_EVENTS_PER_APPEND; i++) batch.add(custom("e"));
            for (int i = 0; i < 50; i++) store.append(new AppendRequest(s, "agent-1", null, batch));
            int total = 50 * Limits.MAX_EVENTS_PER_APPEND;
            List<Long> seen = new ArrayList<>();
            long after = 0;
            int pages = 0;
            EventPage page;
            do {
                page = store.readAfter(s, after, 100);
                page.events().forEach(e -> seen.add(e.seq()));
                after = page.lastSeq(after);
                pages++;
            } while (page.more());
            assertThat(seen).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
            assertThat(pages).isBetween(total / 100, total / 100 + 1);
            assertThat(store.readAfter(s, total - 5, 100).events()).hasSize(5);
            assertThat(store.readAfter(s, total, 100).events()).isEmpty();
        }

        @Test
        void hydrationEqualsFoldingTheWholeLogAndReadsFarFewerItems() {
            String s = newSession();
            int replies = 12;
            for (int r = 0; r < replies; r++) {
                String run = "run-" + r;
                String m = "m-" + r;
                append(s, runEvent(EventType.RUN_STARTED, run), EventInput.of(EventType.MESSAGE_START, run,
                        Json.object().put("messageId", m).put("role", "assistant")));
                for (int d = 0; d < 100; d++) append(s, delta(run, m, "tok" + d + " "));
                append(s, EventInput.of(EventType.MESSAGE_END, run, Json.object().put("messageId", m)),
                        runEvent(EventType.RUN_COMPLETED, run));
            }
            // a reply still streaming when the new tab arrives
            append(s, runEvent(EventType.RUN_STARTED, "live"), EventInput.of(EventType.MESSAGE_START, "live",
                    Json.object().put("messageId", "m-live").put("role", "assistant")));
            for (int d = 0; d < 30; d++) append(s, delta("live", "m-live", "x"));

            List<Event> log = readAll(s);
            Hydration h = store.hydrate(s);
            assertThat(h.state().toJson()).isEqualTo(Assembler.fold(log).toJson());
            assertThat(h.state().headSeq()).isEqualTo(log.size());
            assertThat(h.itemsRead() + h.eventsRead()).isLessThan(log.size() / 10);
            SessionState.Message live = (SessionState.Message) h.state().items().get(h.state().items().size() - 1);
            assertThat(live.text()).isEqualTo("x".repeat(30));
            assertThat(live.status()).isEqualTo("streaming");
        }

        @Test
        void hydrationOfAnUncompactedOrEmptySessionIsTheFold() {
            String s = newSession();
            assertThat(store.hydrate(s).state()).isEqualTo(SessionState.EMPTY);
            append(s, custom("a"), custom("b"));
            assertThat(store.hydrate(s).state().toJson()).isEqualTo(Assembler.fold(readAll(s)).toJson());
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
            assertThatThrownBy(() -> append(s, custom("ok"), delta(null, "m", huge)))
                    .isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.EVENT_TOO_LARGE));
            assertThat(rawLog(s)).isEqualTo(before);
        }

        @Test
        void anEventJustUnderTheLimitIsStoredAndReadBackByteForByte() {
            String s = newSession();
            String text = "é".repeat((Limits.MAX_EVENT_BYTES - 400) / 2);
            Appended a = (Appended) append(s, delta(null, "m", text));
            assertThat(rawLog(s)).containsExactly(a.events().get(0).toJson());
        }

        @Test
        void tooManyEventsAreRefused() {
            String s = newSession();
            List<EventInput> batch = Collections.nCopies(Limits.MAX_EVENTS_PER_APPEND + 1, custom("e"));
            assertThatThrownBy(() -> store.append(new AppendRequest(s, "a", null, batch)))
                    .isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_EVENTS));
            assertThat(store.head(s)).isZero();
        }
    }
}
