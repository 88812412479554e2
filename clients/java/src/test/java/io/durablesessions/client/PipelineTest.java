package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several appends in flight under one producer ({@code maxInFlight}): against a model of the service's
 * rule (docs/protocol.md §2, producer.pipeline) that stores a producer's appends in seq order, holds one
 * whose predecessors are still on their way, and refuses it {@code PRODUCER_GAP} when they never come.
 */
class PipelineTest {
    final AtomicReference<OrderedService> service = new AtomicReference<>();
    DurableAgent agent;

    DurableAgent connect(int maxInFlight, BiFunction<Long, ObjectNode, AgentTransport.Outcome> firstAnswer) {
        agent = DurableAgent.builder(URI.create("ws://fake/local"), "s", "p1")
                .epoch(1)
                .maxInFlight(maxInFlight)
                .backoff(new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)))
                .coalesceWindow(Duration.ZERO)
                .heartbeatInterval(Duration.ofHours(1))
                .transport(sink -> {
                    OrderedService s = new OrderedService(firstAnswer);
                    service.set(s);
                    return s;
                })
                .connect();
        return agent;
    }

    @AfterEach
    void close() {
        if (agent != null) agent.close();
    }

    // Many events, queued faster than they are answered: the agent cuts them into appends of up to 64 events
    // (ProducerQueue) and sends those under consecutive seqs.

    @Test
    void aProducerKeepsSeveralAppendsInFlightAndTheyAreStoredInCallOrder() {
        connect(8, null);
        List<CompletableFuture<Boolean>> done = appendMany(2000);
        done.forEach(f -> assertThat(f.join()).isTrue());
        assertThat(service.get().stored()).containsExactlyElementsOf(range(0, 2000));
        assertThat(service.get().maxConcurrent()).isGreaterThan(1).isLessThanOrEqualTo(8);
        assertThat(agent.duplicateAcks()).isZero();
    }

    @Test
    void oneInFlightSendsTheNextOnlyAfterTheAnswer() {
        connect(1, null);
        appendMany(500).forEach(f -> assertThat(f.join()).isTrue());
        assertThat(service.get().stored()).containsExactlyElementsOf(range(0, 500));
        assertThat(service.get().maxConcurrent()).isEqualTo(1);
    }

    @Test
    void anAppendRefusedForGoodMakesTheOnesBehindItGoAgainUnderTheFreedSeqs() {
        // seq 1 is refused once its successors are on their way; they get PRODUCER_GAP and go again
        connect(4, (seq, append) -> seq == 1 ? FakeTransport.refused("INVALID_MESSAGE", Json.object()) : null);
        List<CompletableFuture<Boolean>> done = appendMany(2000);
        List<Integer> refused = new ArrayList<>();
        for (int i = 0; i < done.size(); i++) {
            if (done.get(i).handle((ok, err) -> err != null).join()) refused.add(i);
            else assertThat(done.get(i).join()).isTrue();
        }
        assertThat(refused).isNotEmpty();
        List<Integer> expected = range(0, 2000);
        expected.removeAll(refused);
        // nothing lost, nothing twice, call order kept; the refused seq was taken by the append behind it
        assertThat(service.get().stored()).containsExactlyElementsOf(expected);
        List<Long> seqs = service.get().storedSeqs();
        assertThat(seqs)
                .containsExactlyElementsOf(
                        range(0, seqs.size()).stream().map(Integer::longValue).toList());
        assertThat(service.get().gaps()).isPositive();
    }

    @Test
    void anAppendWhoseAnswerWasLostIsSentAgainAndTheOnesBehindItWaitForIt() {
        connect(4, (seq, append) -> seq == 2 ? new AgentTransport.Lost("timeout") : null);
        appendMany(2000).forEach(f -> assertThat(f.join()).isTrue());
        assertThat(service.get().stored()).containsExactlyElementsOf(range(0, 2000));
        assertThat(agent.retries()).isPositive();
    }

    @Test
    void whenTheServiceForgetsTheProducerItsSessionWasErasedAndTheSeqsStartOverAtZero() {
        connect(4, null);
        for (int i = 0; i < 5; i++)
            assertThat(agent.append(EventType.CUSTOM, Json.object().put("n", i)).join())
                    .isTrue();
        service.get().erase(); // DELETE /v1/sessions/{id}: the events and the producer's state are gone
        List<CompletableFuture<Boolean>> after = new ArrayList<>();
        for (int i = 5; i < 10; i++)
            after.add(agent.append(EventType.CUSTOM, Json.object().put("n", i)));
        after.forEach(f -> assertThat(f.join()).isTrue());
        assertThat(service.get().stored()).containsExactly(5, 6, 7, 8, 9);
        assertThat(service.get().storedSeqs().get(0)).isZero();
    }

    @Test
    void aGapExpectingSeqZeroWhileSeqZeroIsStillOnItsWayIsAnOrdinaryGapNotAForgottenProducer() {
        // seq 0 is late (its first answer is lost after the hold): seq 1 is refused PRODUCER_GAP expecting 0,
        // which an erased session's service would say too; but seq 0 was never acked, so nothing was forgotten
        connect(4, (seq, append) -> seq == 0 ? new AgentTransport.Lost("timeout") : null);
        service.get().holdScripted(400);
        appendMany(2000).forEach(f -> assertThat(f.join()).isTrue());
        assertThat(service.get().stored()).containsExactlyElementsOf(range(0, 2000));
        assertThat(service.get().gaps()).isPositive();
    }

    List<CompletableFuture<Boolean>> appendMany(int n) {
        List<CompletableFuture<Boolean>> done = new ArrayList<>();
        for (int i = 0; i < n; i++)
            done.add(agent.append(EventType.CUSTOM, Json.object().put("n", i)));
        return done;
    }

    @Test
    void aFencedRunsAppendsBehindTheFenceAreDroppedAndTheOthersStoredInOrder() {
        connect(
                4,
                (seq, append) -> "r".equals(append.path("runId").asText(null)) && seq >= 2
                        ? FakeTransport.refused(
                                "RUN_FENCED", Json.object().put("runId", "r").put("state", "stopped"))
                        : null);
        DurableAgent.Run run = agent.startRun("r"); // seq 0
        CompletableFuture<Boolean> a =
                agent.append(EventType.CUSTOM, Json.object().put("n", 1)); // seq 1
        CompletableFuture<Boolean> fenced =
                run.append(EventType.CUSTOM, Json.object().put("n", 100));
        CompletableFuture<Boolean> b =
                agent.append(EventType.CUSTOM, Json.object().put("n", 2));
        CompletableFuture<Boolean> c =
                agent.append(EventType.CUSTOM, Json.object().put("n", 3));
        assertThat(a.join()).isTrue();
        assertThat(fenced.join()).isFalse();
        assertThat(b.join()).isTrue();
        assertThat(c.join()).isTrue();
        await().until(run::isFenced);
        assertThat(service.get().stored()).containsExactly(-1, 1, 2, 3); // -1: run.started
    }

    static List<Integer> range(int from, int to) {
        List<Integer> l = new ArrayList<>();
        for (int i = from; i < to; i++) l.add(i);
        return l;
    }

    /**
     * The service's producer rule in miniature: stores in seq order, answers a stored seq as a duplicate,
     * holds a seq up to 15 ahead for its predecessors (here 300 ms instead of 2 s), then refuses it
     * {@code PRODUCER_GAP}; each answer takes 2 ms. {@code firstAnswer} may answer a seq's first attempt
     * instead (null: as usual), once the next append is on its way too.
     */
    static final class OrderedService implements AgentTransport {
        private final BiFunction<Long, ObjectNode, Outcome> firstAnswer;
        private final Set<Long> answeredOnce = new HashSet<>();
        private final List<Integer> stored = new ArrayList<>();
        private final List<Long> storedSeqs = new ArrayList<>();
        private long expected;
        private long head;
        private int concurrent;
        private int maxConcurrent;
        private int gaps;
        private long highestSeq = -1;
        private long holdScripted;

        OrderedService(BiFunction<Long, ObjectNode, Outcome> firstAnswer) {
            this.firstAnswer = firstAnswer;
        }

        synchronized List<Integer> stored() {
            return List.copyOf(stored);
        }

        synchronized List<Long> storedSeqs() {
            return List.copyOf(storedSeqs);
        }

        /** A scripted answer comes this much later (after the ones behind it arrived). */
        synchronized void holdScripted(long millis) {
            holdScripted = millis;
        }

        synchronized int maxConcurrent() {
            return maxConcurrent;
        }

        @Override
        public Outcome append(ObjectNode append) {
            long seq = append.path("producer").path("seq").asLong();
            synchronized (this) {
                highestSeq = Math.max(highestSeq, seq);
                notifyAll();
                concurrent++;
                maxConcurrent = Math.max(maxConcurrent, concurrent);
                try {
                    Outcome scripted =
                            firstAnswer != null && answeredOnce.add(seq) ? firstAnswer.apply(seq, append) : null;
                    if (scripted != null) {
                        // let the ones behind arrive first, so they are in flight when this one is answered
                        waitFor(() -> highestSeq > seq, 5000);
                        waitFor(() -> false, holdScripted);
                        return scripted;
                    }
                    waitFor(() -> false, 2); // an answer takes a moment: the agent sends more meanwhile
                    if (seq < expected) return new Acked(0, 0, true);
                    if (seq - expected >= 16) return gap();
                    if (!waitFor(() -> expected >= seq, 300)) return gap();
                    if (seq < expected) return new Acked(0, 0, true);
                    long first = head + 1;
                    storedSeqs.add(seq);
                    for (JsonNode e : append.path("events")) {
                        head++;
                        stored.add(e.path("data").path("n").asInt(-1));
                    }
                    expected = seq + 1;
                    notifyAll();
                    return new Acked(first, head, false);
                } finally {
                    concurrent--;
                }
            }
        }

        /** The session is erased: its events and this producer's state are gone. */
        synchronized void erase() {
            stored.clear();
            storedSeqs.clear();
            expected = 0;
        }

        synchronized int gaps() {
            return gaps;
        }

        private Outcome gap() {
            gaps++;
            return FakeTransport.refused("PRODUCER_GAP", Json.object().put("expectedSeq", expected));
        }

        /** Waits (releasing the lock) until the condition holds or the time is up. */
        private boolean waitFor(BooleanSupplier condition, long millis) {
            long deadline = System.nanoTime() + millis * 1_000_000;
            while (!condition.getAsBoolean()) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) return false;
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }

        @Override
        public void start() {}

        @Override
        public CompletableFuture<Outcome> heartbeat(String runId) {
            return CompletableFuture.completedFuture(new Acked(0, 0, false));
        }

        @Override
        public void acknowledge(String runId, long controlSeq) {}

        @Override
        public void maintain() {}

        @Override
        public void drop() {}

        @Override
        public void close() {}
    }
}
