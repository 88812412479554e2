package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Limits;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@WithTestStack
class CoalescingTest {
    final TestStack stack;

    CoalescingTest(TestStack stack) {
        this.stack = stack;
    }

    @Test
    void thousandDeltasAt200PerSecondWithA75msWindowTakeAboutOneAppendPerWindowAndTheTextIsExact() {
        String s = "coal-" + UUID.randomUUID();
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .coalesceWindow(Duration.ofMillis(75))
                .connect()) {
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
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(expected.toString());
    }

    @Test
    void bigTextIsSplitSoEveryEventFitsTheEventLimit() {
        String s = "big-" + UUID.randomUUID();
        StringBuilder big = new StringBuilder();
        for (int i = 0; big.length() < 400_000; i++)
            big.append("word").append(i).append(" \"é€😀\"\n");
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .maxDeltaBytes(90 * 1024)
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            reply.delta(big.toString());
            reply.delta("tail");
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(big + "tail");
        assertThat(log.stream().filter(e -> e.type() == EventType.TEXT_DELTA).count())
                .isGreaterThan(4);
        assertThat(log)
                .allSatisfy(e -> assertThat(EventInput.storedSize(e)).isLessThanOrEqualTo(Limits.MAX_EVENT_BYTES));
    }

    @Test
    void reasoningAndTextAreCoalescedEachInTheirOwnEventsAndKeepTheOrderTheyWereWrittenIn() {
        String s = "reasoning-" + UUID.randomUUID();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .coalesceWindow(Duration.ofSeconds(30))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            reply.reasoning("Hmm. "); // a reply's first text goes at once, with its start
            agent.flush();
            reply.reasoning("Let ");
            reply.reasoning("me think. ");
            reply.delta("First, ");
            reply.delta("the facts. ");
            reply.reasoning("Now the caveat. ");
            reply.part(io.durablesessions.events.Json.object().put("type", "step-start"));
            reply.delta("Done.");
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        // a 30 s window: after the first text, only a change of kind (or the end) sends what was buffered
        assertThat(log.stream()
                        .filter(e -> "m-1".equals(e.dataText("messageId"))
                                && e.type() != EventType.MESSAGE_START
                                && e.type() != EventType.MESSAGE_END)
                        .map(e -> e.type().wire() + ":"
                                + (e.type() == EventType.MESSAGE_PART
                                        ? e.data().path("part").path("type").asText()
                                        : e.dataText("text"))))
                .containsExactly(
                        "reasoning.delta:Hmm. ",
                        "reasoning.delta:Let me think. ",
                        "text.delta:First, the facts. ",
                        "reasoning.delta:Now the caveat. ",
                        "message.part:step-start",
                        "text.delta:Done.");
    }
}
