package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent's behaviour against a scripted transport: no network, no stack. */
class DurableAgentTest {
    final AtomicReference<FakeTransport> fake = new AtomicReference<>();
    final List<ControlEvent> told = new CopyOnWriteArrayList<>();
    final List<AppendRecord> records = new CopyOnWriteArrayList<>();
    DurableAgent agent;

    /**
     * One append in flight: the script answers appends in the order they reach the transport, which
     * is the call order only without pipelining (PipelineTest covers several in flight).
     */
    DurableAgent.Builder builder() {
        return DurableAgent.builder(URI.create("ws://fake/local"), "s", "p1")
                .epoch(1)
                .maxInFlight(1)
                .backoff(new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)))
                .coalesceWindow(Duration.ofSeconds(30))
                .heartbeatInterval(Duration.ofHours(1))
                .onControl(told::add)
                .onAppend(records::add)
                .transport(sink -> {
                    FakeTransport t = new FakeTransport(sink);
                    fake.set(t);
                    return t;
                });
    }

    FakeTransport transport() {
        return fake.get();
    }

    @AfterEach
    void close() {
        if (agent != null) agent.close();
    }

    @Test
    void aLostAnswerIsSentAgainWithTheSameProducerSeqAndTheNextAppendTakesTheNext() {
        agent = builder()
                .transport(sink -> {
                    FakeTransport t = new FakeTransport(sink)
                            .thenAnswer(new AgentTransport.Lost("timeout"))
                            .thenAnswer(new AgentTransport.Lost("connection reset"));
                    fake.set(t);
                    return t;
                })
                .connect();
        assertThat(agent.append(EventType.CUSTOM, Json.object().put("name", "a"))
                        .join())
                .isTrue();
        assertThat(agent.append(EventType.CUSTOM, Json.object().put("name", "b"))
                        .join())
                .isTrue();
        assertThat(transport().appends())
                .extracting(a -> a.path("producer").path("seq").asLong())
                .containsExactly(0L, 0L, 0L, 1L);
        assertThat(agent.retries()).isEqualTo(2);
        assertThat(records.get(0).retries()).containsExactly("lost: timeout", "lost: connection reset");
        assertThat(records.get(0).stored()).isTrue();
        assertThat(records.get(0).firstSeq()).isEqualTo(1);
        assertThat(records.get(0).events()).extracting(EventInput::type).containsExactly(EventType.CUSTOM);
    }

    @Test
    void aRunFencedOnAppendDropsTheRunsQueuedEventsAndTellsTheOwnerOnce() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        transport().thenAnswer(FakeTransport.refused("RUN_FENCED", Json.object().put("state", "failed")));
        CompletableFuture<Boolean> first =
                run.append(EventType.CUSTOM, Json.object().put("name", "refused"));
        assertThat(first.join()).isFalse();
        assertThat(run.isFenced()).isTrue();
        assertThat(run.append(EventType.CUSTOM, Json.object().put("name", "after"))
                        .join())
                .isFalse();
        await().until(() -> told.size() == 1);
        assertThat(told.get(0).kind()).isEqualTo(ControlEvent.Kind.FENCED);
        assertThat(transport().types()).containsExactly("run.started", "custom");
        assertThat(records.get(1).refusal()).isEqualTo("RUN_FENCED");
    }

    @Test
    void aStopIsAcknowledgedOnceAndObeyedOnceHoweverOftenItArrives() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        DurableAgent.Reply reply = run.startReply("m");
        reply.delta("first words"); // a reply's first text goes at once, with its start
        agent.flush();
        reply.delta("held text, never sent"); // within the (30 s) window of the last send: held
        transport()
                .control(
                        3,
                        "run.stop_requested",
                        "r",
                        Json.object().put("command", "cancel").put("by", "u").put("stoppedAtSeq", 2));
        transport()
                .control(
                        3,
                        "run.stop_requested",
                        "r",
                        Json.object().put("command", "cancel").put("by", "u").put("stoppedAtSeq", 2));
        agent.flush();
        assertThat(run.isFenced()).isTrue();
        assertThat(reply.end()).isFalse();
        assertThat(transport().types())
                .containsExactly("run.started", "message.start", "text.delta", "run.stop_acknowledged");
        // acknowledged after the callback ran (and again if the repeat came after that)
        await().until(() -> transport().acknowledgements.contains("r@3"));
        assertThat(told).extracting(ControlEvent::kind).containsExactly(ControlEvent.Kind.CANCEL);
    }

    @Test
    void anInterruptedReplyIsTakenOutOfTheAppendAndTheRestIsSentAgainUnderTheSameProducerSeq() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        DurableAgent.Reply reply = run.startReply("m");
        reply.delta("first words"); // a reply's first text goes at once, with its start
        agent.flush();
        transport()
                .thenAnswer(
                        FakeTransport.refused("MESSAGE_FENCED", Json.object().put("messageId", "m")));
        reply.delta("interrupted"); // held: within the (30 s) window of the last send
        CompletableFuture<Boolean> tool =
                run.toolCall("t", "search", Json.object()); // one append: the text, then the call
        assertThat(tool.join()).isTrue();
        assertThat(reply.isFenced()).isTrue();
        assertThat(run.isFenced()).isFalse();
        int n = transport().appends().size();
        assertThat(transport().producerSeq(n - 1)).isEqualTo(transport().producerSeq(n - 2));
        assertThat(transport().appends().get(n - 2).path("events"))
                .extracting(e -> e.path("type").asText())
                .containsExactly("text.delta", "tool.call");
        assertThat(transport().appends().get(n - 1).path("events"))
                .extracting(e -> e.path("type").asText())
                .containsExactly("tool.call");
        assertThat(reply.end()).isFalse();
    }

    @Test
    void aStaleEpochFencesTheProducerForEveryLaterAppend() {
        agent = builder().connect();
        transport()
                .thenAnswer(FakeTransport.refused("STALE_EPOCH", Json.object().put("currentEpoch", 2)));
        CompletableFuture<Boolean> first =
                agent.append(EventType.CUSTOM, Json.object().put("name", "a"));
        assertThat(first)
                .failsWithin(Duration.ofSeconds(10))
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(DurableSessionException.ProducerFencedException.class);
        assertThat(agent.append(EventType.CUSTOM, Json.object().put("name", "b")))
                .isCompletedExceptionally();
        assertThatThrownBy(() -> agent.startRun("r"))
                .isInstanceOf(DurableSessionException.ProducerFencedException.class);
    }

    @Test
    void appendAllSendsItsEventsInOneAppend() {
        agent = builder().connect();
        agent.startRun("r");
        List<EventInput> events = List.of(
                EventInput.of(
                        EventType.TOOL_CALL,
                        "r",
                        Json.object().put("toolCallId", "t").put("name", "n").set("arguments", Json.object())),
                EventInput.of(
                        EventType.TOOL_RESULT,
                        "r",
                        Json.object().put("toolCallId", "t").put("result", "ok")));
        assertThat(agent.appendAll(events).join()).isTrue();
        assertThat(transport().appends().get(1).path("events")).hasSize(2);
        assertThatThrownBy(() -> agent.appendAll(List.of(
                        EventInput.of(EventType.CUSTOM, "r", Json.object()),
                        EventInput.of(EventType.CUSTOM, "other", Json.object()))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void textWrittenBeforeAnotherEventGoesFirstAsOneDelta() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        DurableAgent.Reply reply = run.startReply("m");
        reply.delta("first words "); // a reply's first text goes at once, with its start
        agent.flush();
        for (int i = 0; i < 100; i++) reply.delta("t" + i + " ");
        assertThat(reply.end()).isTrue();
        List<com.fasterxml.jackson.databind.node.ObjectNode> appends =
                transport().appends();
        assertThat(appends.get(appends.size() - 2).path("events"))
                .extracting(e -> e.path("type").asText() + ":"
                        + e.path("data").path("text").asText())
                .containsExactly("message.start:", "text.delta:first words ");
        assertThat(appends.get(appends.size() - 1).path("events"))
                .extracting(e -> e.path("type").asText())
                .containsExactly("text.delta", "message.end");
    }

    @Test
    void aRunsEndEndsItsOpenRepliesInTheSameAppendWithTheirLastText() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        DurableAgent.Reply reply = run.startReply("m");
        reply.delta("first words "); // at once, with the start
        agent.flush();
        DurableAgent.Reply unstarted = run.startReply("m2"); // no text yet: its start is held
        reply.delta("last words"); // held: within the (30 s) window of the last send
        int before = transport().appends().size(); // nothing is queued: all of the above is held
        assertThat(run.complete()).isTrue();
        List<com.fasterxml.jackson.databind.node.ObjectNode> appends =
                transport().appends();
        assertThat(appends).hasSize(before + 1);
        assertThat(appends.get(before).path("events"))
                .extracting(e -> e.path("type").asText() + ":"
                        + e.path("data").path("messageId").asText() + ":"
                        + e.path("data").path("text").asText())
                .containsExactly(
                        "message.start:m2:",
                        "text.delta:m:last words",
                        "message.end:m:",
                        "message.end:m2:",
                        "run.completed::");
        // already ended: nothing more is written
        assertThat(reply.end()).isFalse();
        assertThat(unstarted.end()).isFalse();
        assertThat(transport().appends()).hasSize(before + 1);
    }

    @Test
    void aFailedRunEndsItsOpenReplyWithReasonErrorAndLeavesAnEndedOneAlone() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        DurableAgent.Reply done = run.startReply("m1");
        done.delta("an answer");
        assertThat(done.end()).isTrue();
        DurableAgent.Reply open = run.startReply("m2");
        open.delta("half an answer");
        agent.flush();
        int before = transport().appends().size();
        assertThat(run.fail("the model went away")).isTrue();
        assertThat(transport().appends().get(before).path("events"))
                .extracting(e -> e.path("type").asText() + ":"
                        + e.path("data").path("messageId").asText() + ":"
                        + e.path("data").path("reason").asText())
                .containsExactly("message.end:m2:error", "run.failed::the model went away");
    }

    @Test
    void aRunsEndWritesNoEndForAReplyInterruptedMeanwhile() {
        agent = builder().connect();
        DurableAgent.Run run = agent.startRun("r");
        DurableAgent.Reply reply = run.startReply("m");
        reply.delta("first words");
        agent.flush();
        transport()
                .thenAnswer(
                        FakeTransport.refused("MESSAGE_FENCED", Json.object().put("messageId", "m")));
        reply.delta("interrupted"); // held
        assertThat(run.complete()).isTrue(); // the reply's text and end are refused, the run's end is stored
        assertThat(reply.isFenced()).isTrue();
        List<com.fasterxml.jackson.databind.node.ObjectNode> appends =
                transport().appends();
        assertThat(appends.get(appends.size() - 2).path("events"))
                .extracting(e -> e.path("type").asText())
                .containsExactly("text.delta", "message.end", "run.completed");
        assertThat(appends.get(appends.size() - 1).path("events"))
                .extracting(e -> e.path("type").asText())
                .containsExactly("run.completed");
    }

    @Test
    void aQuietRunSendsHeartbeatsAndIsFencedWhenOneIsRefusedBecauseTheRunFailed() {
        agent = builder().heartbeatInterval(Duration.ofMillis(20)).connect();
        DurableAgent.Run run = agent.startRun("quiet");
        await().until(() -> transport().heartbeats.contains("quiet"));
        transport()
                .heartbeatAnswer(
                        r -> FakeTransport.refused("RUN_FENCED", Json.object().put("state", "failed")));
        await().until(run::isFenced);
        await().until(() -> told.stream()
                .anyMatch(e -> e.kind() == ControlEvent.Kind.FENCED && e.runId().equals("quiet")));
    }

    @Test
    void anAttemptWhoseAnswerWasLostGoesAgainWithItsEventsEvenIfItsRunWasFencedMeanwhile() {
        agent = builder().heartbeatInterval(Duration.ofMillis(20)).connect();
        DurableAgent.Run run = agent.startRun("r");
        agent.flush();
        // the first attempt of run.completed is stored but its answer lost; meanwhile a heartbeat finds the run
        // completed (by that very attempt) and fences it locally
        transport()
                .heartbeatAnswer(
                        r -> FakeTransport.refused("RUN_FENCED", Json.object().put("state", "completed")));
        transport()
                .then(a -> {
                    await().until(run::isFenced);
                    return new AgentTransport.Lost("timeout");
                })
                .thenAnswer(new AgentTransport.Acked(2, 2, true));
        assertThat(run.complete()).isTrue();
        agent.startRun("next");
        agent.flush();
        // the same producer seq carried the same event again: the next run's start did not take it over
        assertThat(transport().types()).containsExactly("run.started", "run.completed", "run.completed", "run.started");
        assertThat(transport().appends())
                .extracting(a -> a.path("producer").path("seq").asLong())
                .containsExactly(0L, 1L, 1L, 2L);
    }
}
