package io.durablesessions.client.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.Coalescing;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The simulated agent (the demo's agent, and a runnable example of the SDK) on a real local stack. */
@WithTestStack
class SimulatedAgentTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    final TestStack stack;

    SimulatedAgentTest(TestStack stack) {
        this.stack = stack;
    }

    @Test
    void itAnswersAUserMessageThatEndsInTheSessionWithTheScriptedReplyUnderItsLabel() throws Exception {
        String s = "sim-" + UUID.randomUUID();
        try (SimulatedAgent sim = simulator(s, 400, 12, true);
                DurableAgent user = DurableAgent.builder(stack.webSocketUrl(), s, "tab-1")
                        .connectQuery(() -> stack.clientQuery("user-1", "tab-1"))
                        .connect()) {
            assertThat(user.appendAll(userMessage("u-1", "  how are you? ")).join())
                    .isTrue();
            await().atMost(WAIT).until(() -> runStates(s).equals(List.of("completed")));
            assertThat(sim.runsStarted()).isEqualTo(1);
        }
        List<Event> log = stack.storedLog(s);
        String reply = replyText(log);
        assertThat(reply).isEqualTo(String.join(" ", SimulatedAgent.replyTo("how are you?", 12)));
        assertThat(reply).startsWith("You said: \"how are you?\".");
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.AGENT_JOINED)
                .singleElement()
                .satisfies(e -> assertThat(e.dataText("label")).isEqualTo("test simulator"));
    }

    @Test
    void aSteerIsWovenIntoTheReplyAndACancelStopsItMidReply() {
        String s = "sim-stop-" + UUID.randomUUID();
        try (SimulatedAgent sim = simulator(s, 20, 400, false)) {
            sim.respond("go on");
            await().atMost(WAIT).until(() -> runStates(s).equals(List.of("running")));
            String runId = runId(s);
            stack.control(s, runId, "steer", "shorter");
            await().atMost(WAIT).until(() -> replyText(stack.storedLog(s)).contains("[steered: shorter]"));
            stack.control(s, runId, "cancel", null);
            await().atMost(WAIT).until(() -> runStates(s).equals(List.of("stopped")));
        }
        String reply = replyText(stack.storedLog(s));
        String full = String.join(" ", SimulatedAgent.replyTo("go on", 400));
        // cut short: 400 tokens at 20 a second would take 20 s; the stop came after a few words
        assertThat(reply.replace(" [steered: shorter]", "").length()).isLessThan(full.length());
    }

    private SimulatedAgent simulator(String sessionId, int tokensPerSecond, int replyTokens, boolean watch) {
        return new SimulatedAgent(
                stack.webSocketUrl(),
                () -> stack.agentQuery("sim-agent"),
                sessionId,
                "sim-agent",
                new SimulatedAgent.Options(
                        tokensPerSecond, replyTokens, Coalescing.DEFAULT_WINDOW, "test simulator", watch));
    }

    private static List<EventInput> userMessage(String messageId, String text) {
        return List.of(
                EventInput.of(
                        EventType.MESSAGE_START,
                        null,
                        Json.object().put("messageId", messageId).put("role", "user")),
                EventInput.of(
                        EventType.TEXT_DELTA,
                        null,
                        Json.object().put("messageId", messageId).put("text", text)),
                EventInput.of(EventType.MESSAGE_END, null, Json.object().put("messageId", messageId)));
    }

    private List<String> runStates(String sessionId) {
        return stack.storedLog(sessionId).stream()
                .filter(e -> e.type() == EventType.RUN_STARTED)
                .map(e -> stack.runState(sessionId, e.runId()))
                .toList();
    }

    private String runId(String sessionId) {
        return stack.storedLog(sessionId).stream()
                .filter(e -> e.type() == EventType.RUN_STARTED)
                .findFirst()
                .orElseThrow()
                .runId();
    }

    /** The assistant's text: its deltas in seq order. */
    private static String replyText(List<Event> log) {
        return log.stream()
                .filter(e -> e.type() == EventType.TEXT_DELTA && e.runId() != null)
                .map(e -> e.dataText("text"))
                .collect(Collectors.joining());
    }
}
