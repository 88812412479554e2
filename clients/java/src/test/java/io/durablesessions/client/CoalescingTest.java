package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Limits;
import io.durablesessions.local.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CoalescingTest {
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
    void thousandDeltasAt200PerSecondWithA75msWindowTakeAboutOneAppendPerWindowAndTheTextIsExact() {
        String s = "coal-" + UUID.randomUUID();
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> Stacks.agentQuery("agent-1")).coalesceWindow(Duration.ofMillis(75)).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            agent.flush();
            long before = agent.appendsAcked();
            expected.append(Stacks.streamTokens(reply, 1000, 200));
            agent.flush();
            long appends = agent.appendsAcked() - before;
            // 1000 / (200/s · 0.075 s) ≈ 67 windows; fewer appends when acks are slower than the
            // window (text waiting behind an append in flight is merged into the next one)
            assertThat(appends).isBetween(5L, 80L);
            assertThat(agent.retries()).isZero();
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = Stacks.storedLog(stack, s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(expected.toString());
    }

    @Test
    void bigTextIsSplitSoEveryEventFitsTheEventLimit() {
        String s = "big-" + UUID.randomUUID();
        StringBuilder big = new StringBuilder();
        for (int i = 0; big.length() < 400_000; i++) big.append("word").append(i).append(" \"é€😀\"\n");
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> Stacks.agentQuery("agent-1")).maxDeltaBytes(90 * 1024).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            reply.delta(big.toString());
            reply.delta("tail");
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = Stacks.storedLog(stack, s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(big + "tail");
        assertThat(log.stream().filter(e -> e.type() == EventType.TEXT_DELTA).count()).isGreaterThan(4);
        assertThat(log).allSatisfy(e -> assertThat(EventInput.storedSize(e)).isLessThanOrEqualTo(Limits.MAX_EVENT_BYTES));
    }
}
