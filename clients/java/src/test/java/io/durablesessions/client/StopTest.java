package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

@WithTestStack(livenessMillis = 6000, stopAckMillis = 5000, presenceGraceMillis = 2000, sweepMillis = 200)
class StopTest {
    final TestStack stack;

    StopTest(TestStack stack) {
        this.stack = stack;
    }

    ObjectNode control(String session, String run, String command, String text) throws Exception {
        WsConnection c = WsConnection.open(
                HttpClient.newHttpClient(),
                WsConnection.connectUri(stack.webSocketUrl(), () -> stack.clientQuery("user-1", "tab-1")),
                Duration.ofSeconds(30),
                f -> {},
                x -> {},
                f -> true);
        try {
            ObjectNode f = Json.object()
                    .put("action", "control")
                    .put("sessionId", session)
                    .put("runId", run)
                    .put("command", command);
            if (text != null) f.put("text", text);
            return c.request(f).get(30, TimeUnit.SECONDS);
        } finally {
            c.close();
        }
    }

    @Test
    void aCancelFiresTheCallbackTheAgentStopsAppendingAndAcknowledges() throws Exception {
        String s = "stop-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .onControl(e -> {
                    controls.add(e);
                    if (e.kind() == ControlEvent.Kind.CANCEL) stop.set(true);
                })
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            Thread streaming = Stacks.startThread(() -> {
                for (int i = 0; i < 2000 && !stop.get(); i++) {
                    reply.delta("t" + i + " ");
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            Thread.sleep(700);
            // a steer first: delivered, the run goes on
            assertThat(control(s, "run-1", "steer", "be brief").path("type").asText())
                    .isEqualTo("ack");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> controls.stream()
                            .anyMatch(c -> c.kind() == ControlEvent.Kind.STEER && "be brief".equals(c.text())));
            ObjectNode ack = control(s, "run-1", "cancel", null);
            assertThat(ack.path("type").asText()).isEqualTo("ack");
            await().atMost(Duration.ofSeconds(20)).untilTrue(stop);
            streaming.join();
            assertThat(run.isFenced()).isTrue();
            // the agent's run.stop_acknowledged moves the run to stopped (the service's run.stopped only
            // comes when nobody acknowledges)
            await().atMost(Duration.ofSeconds(20))
                    .until(() ->
                            stack.storedLog(s).stream().anyMatch(e -> e.type() == EventType.RUN_STOP_ACKNOWLEDGED));
            long appends = agent.appendsAcked();
            reply.delta("after the stop");
            assertThat(reply.end()).isFalse();
            assertThat(agent.appendsAcked()).isEqualTo(appends);
        }
        List<Event> log = stack.storedLog(s);
        Event requested = log.stream()
                .filter(e -> e.type() == EventType.RUN_STOP_REQUESTED)
                .findFirst()
                .orElseThrow();
        long stoppedAt = requested.data().get("stoppedAtSeq").asLong();
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.TEXT_DELTA)
                .allSatisfy(e -> assertThat(e.seq()).isLessThanOrEqualTo(stoppedAt));
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.RUN_STOP_ACKNOWLEDGED)
                .hasSize(1);
        assertThat(controls)
                .filteredOn(c -> c.kind() == ControlEvent.Kind.CANCEL)
                .hasSize(1);
    }

    @Test
    void anInterruptFencesTheReplyAndTheRunGoesOnWithANewOne() throws Exception {
        String s = "int-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .onControl(controls::add)
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply first = run.startReply("m-1");
            first.delta("hello");
            agent.flush();
            assertThat(control(s, "run-1", "interrupt", null).path("type").asText())
                    .isEqualTo("ack");
            await().atMost(Duration.ofSeconds(20)).until(first::isFenced);
            assertThat(controls).extracting(ControlEvent::kind).containsExactly(ControlEvent.Kind.INTERRUPT);
            first.delta(" more");
            assertThat(first.end()).isFalse();
            DurableAgent.Reply second = run.startReply("m-2");
            second.delta("again");
            assertThat(second.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo("hello");
        assertThat(Stacks.text(log, "m-2")).isEqualTo("again");
    }

    @Test
    void heartbeatsKeepAQuietRunAlive() throws Exception {
        String s = "hb-" + UUID.randomUUID();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .heartbeatInterval(Duration.ofMillis(500))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            Thread.sleep(8000); // longer than the 6 s liveness timeout
            assertThat(run.isFenced()).isFalse();
            assertThat(run.complete()).isTrue();
        }
    }
}
