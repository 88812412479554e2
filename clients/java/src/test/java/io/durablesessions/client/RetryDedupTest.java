package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.local.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RetryDedupTest {
    static LocalStack stack;

    @BeforeAll
    static void start() {
        stack = LocalStack.start();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void lostAcksAreResentWithTheSameProducerSeqAndNeverWriteTwice() {
        String s = "dedup-" + UUID.randomUUID();
        AtomicInteger acks = new AtomicInteger();
        StringBuilder expected = new StringBuilder();
        DurableAgent.Run run;
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> Stacks.agentQuery("agent-1")).coalesceWindow(Duration.ZERO)
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
        List<Event> log = Stacks.storedLog(stack, s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(expected.toString());
        assertThat(log.stream().filter(e -> e.type() == EventType.RUN_STARTED).count()).isEqualTo(1);
        assertThat(log.stream().filter(e -> e.type() == EventType.MESSAGE_END).count()).isEqualTo(1);
        assertThat(log.stream().filter(e -> e.type() == EventType.RUN_COMPLETED).count()).isEqualTo(1);
    }

    @Test
    void aConnectionCutMidStreamIsResumedWithoutDuplicates() {
        String s = "cut-" + UUID.randomUUID();
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> Stacks.agentQuery("agent-1")).coalesceWindow(Duration.ofMillis(10)).connect()) {
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
        assertThat(Stacks.text(Stacks.storedLog(stack, s), "m-1")).isEqualTo(expected.toString());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
