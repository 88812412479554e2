package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@WithTestStack
class RetryDedupTest {
    final TestStack stack;

    RetryDedupTest(TestStack stack) {
        this.stack = stack;
    }

    @Test
    void lostAcksAreResentWithTheSameProducerSeqAndNeverWriteTwice() {
        String s = "dedup-" + UUID.randomUUID();
        AtomicInteger acks = new AtomicInteger();
        StringBuilder expected = new StringBuilder();
        DurableAgent.Run run;
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .coalesceWindow(Duration.ZERO)
                .requestTimeout(Duration.ofMillis(300))
                // every third ack is lost on the way back
                .deliverInbound(f -> !"ack".equals(f.path("type").asText()) || acks.incrementAndGet() % 3 != 0)
                .connect()) {
            run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            for (int i = 0; i < 120; i++) {
                String token = "t" + i + " ";
                expected.append(token);
                reply.delta(token);
                if (i % 10 == 0) agent.flush();
            }
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
            assertThat(agent.retries()).isGreaterThan(5);
            assertThat(agent.duplicateAcks()).isGreaterThan(5);
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(expected.toString());
        assertThat(log.stream().filter(e -> e.type() == EventType.RUN_STARTED).count())
                .isEqualTo(1);
        assertThat(log.stream().filter(e -> e.type() == EventType.MESSAGE_END).count())
                .isEqualTo(1);
        assertThat(log.stream().filter(e -> e.type() == EventType.RUN_COMPLETED).count())
                .isEqualTo(1);
    }

    @Test
    void aConnectionCutMidStreamIsResumedWithoutDuplicates() {
        String s = "cut-" + UUID.randomUUID();
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .coalesceWindow(Duration.ofMillis(10))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            for (int i = 0; i < 300; i++) {
                String token = "t" + i + " ";
                expected.append(token);
                reply.delta(token);
                if (i % 50 == 25) agent.dropConnection();
                if (i % 7 == 0) sleep(2);
            }
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        assertThat(Stacks.text(stack.storedLog(s), "m-1")).isEqualTo(expected.toString());
    }

    @Test
    void aPipelinedProducerWithLostAcksAndCutsStoresEveryEventOnceInCallOrder() {
        String s = "pipe-" + UUID.randomUUID();
        AtomicInteger acks = new AtomicInteger();
        List<CompletableFuture<Boolean>> done = new ArrayList<>();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .maxInFlight(8)
                .requestTimeout(Duration.ofMillis(500))
                // every fifth ack is lost on the way back
                .deliverInbound(f -> !"ack".equals(f.path("type").asText()) || acks.incrementAndGet() % 5 != 0)
                .connect()) {
            for (int i = 0; i < 3000; i++) {
                done.add(agent.append(EventType.CUSTOM, Json.object().put("name", "n" + i)));
                if (i % 1000 == 500) agent.dropConnection();
            }
            done.forEach(f -> assertThat(f.join()).isTrue());
            assertThat(agent.duplicateAcks()).isPositive();
        }
        List<Integer> stored = stack.storedLog(s).stream()
                .filter(e -> e.type() == EventType.CUSTOM)
                .map(e -> Integer.parseInt(e.dataText("name").substring(1)))
                .toList();
        assertThat(stored).hasSize(3000);
        for (int i = 0; i < stored.size(); i++) assertThat(stored.get(i)).isEqualTo(i);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
