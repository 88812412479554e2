package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.RunState;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SnapshotParts;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Live control, multi-agent sessions, presence and crash liveness, end to end on the local
 * stack (short timeouts: liveness 10 s, stop acknowledgement 8 s, presence grace 4 s: short enough to
 * watch them expire, long enough that a busy machine does not expire them for a live agent or tab; a
 * loaded run saw an agent take over 2 s to acknowledge a stop).
 */
class LiveControlTest {
    static final StoreSettings FAST =
            new StoreSettings(Duration.ofSeconds(10), Duration.ofSeconds(8), Duration.ofSeconds(4));
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(EmbeddedStack.Config.defaults().withStore(FAST, Duration.ofMillis(200)));
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static List<Event> storedLog(String session) {
        return StoredLog.events(stack, session);
    }

    static String newSession() {
        return "ctl-" + UUID.randomUUID();
    }

    /** What may follow a stop in the log: its acknowledgement, or the service closing it. */
    static boolean isStopLifecycle(Event e) {
        return e.type() == EventType.RUN_STOP_ACKNOWLEDGED
                || e.type() == EventType.RUN_STOPPED
                || e.type() == EventType.RUN_FAILED;
    }

    static WsClient client(String query) {
        return WsClient.connect(stack.webSocketUrl(), query);
    }

    static ObjectNode subscribe(WsClient c, String session, long afterSeq) {
        return c.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("afterSeq", afterSeq));
    }

    static ObjectNode control(WsClient c, String session, String run, String command, String text) {
        ObjectNode f = Json.object()
                .put("action", "control")
                .put("sessionId", session)
                .put("runId", run)
                .put("command", command);
        if (text != null) f.put("text", text);
        return c.request(f);
    }

    static ObjectNode firstEvent(WsClient c, String type, String runId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ObjectNode f : c.framesOfType("events")) {
                for (var e : f.get("events")) {
                    if (type.equals(e.path("type").asText())
                            && (runId == null || runId.equals(e.path("runId").asText()))) {
                        return (ObjectNode) e;
                    }
                }
            }
            WsClient.sleep(5);
        }
        throw new AssertionError("no " + type + " for " + runId + " within " + timeout);
    }

    static SessionState hydrate(WsClient c, String session) {
        c.frames.clear();
        ObjectNode ok = c.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("hydrate", true));
        assertThat(ok.path("type").asText()).isEqualTo("subscribed");
        return SnapshotParts.join(c.framesOfType("snapshot"));
    }

    @Test
    void aStopRacingAStreamingAgentStopsAtTheSameSeqOnEveryClientAcross100Repetitions() throws Exception {
        Random random = new Random(42);
        try (WsClient user = client("id=user-1");
                WsClient later = client("id=user-2")) {
            for (int rep = 0; rep < 100; rep++) {
                String s = newSession();
                String run = "run-" + rep;
                try (WsClient live = client("id=tab-live");
                        TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
                    subscribe(live, s, 0);
                    agent.startReply(run, "m");
                    AtomicBoolean fenced = new AtomicBoolean();
                    Thread streaming = Thread.ofVirtual().start(() -> {
                        for (int i = 0; i < 500 && !fenced.get(); i++) {
                            ObjectNode answer = agent.tryAppend(run, TestAgent.delta("m", "t" + i));
                            if ("RUN_FENCED".equals(answer.path("code").asText())) fenced.set(true);
                        }
                    });
                    WsClient.sleep(random.nextInt(15));
                    ObjectNode ack = control(user, s, run, "cancel", null);
                    assertThat(ack.path("type").asText())
                            .as("cancel answer %s", ack)
                            .isEqualTo("ack");
                    streaming.join();
                    long stopSeq = ack.get("firstSeq").asLong();

                    List<Event> log = storedLog(s);
                    Event stop = log.stream()
                            .filter(e -> e.seq() == stopSeq)
                            .findFirst()
                            .orElseThrow();
                    long stoppedAt = stop.data().get("stoppedAtSeq").asLong();
                    assertThat(log)
                            .filteredOn(e -> run.equals(e.runId()) && e.seq() > stopSeq && !isStopLifecycle(e))
                            .isEmpty();
                    assertThat(log.stream()
                                    .filter(e -> run.equals(e.runId()) && e.seq() < stopSeq)
                                    .mapToLong(Event::seq)
                                    .max()
                                    .orElseThrow())
                            .isEqualTo(stoppedAt);
                    // live, resumed and hydrated clients all say "stopped at seq N"
                    ObjectNode seenLive = firstEvent(live, "run.stop_requested", run, Duration.ofSeconds(30));
                    assertThat(seenLive.at("/data/stoppedAtSeq").asLong()).isEqualTo(stoppedAt);
                    later.frames.clear();
                    subscribe(later, s, Math.max(0, stoppedAt - 3));
                    assertThat(firstEvent(later, "run.stop_requested", run, Duration.ofSeconds(30))
                                    .at("/data/stoppedAtSeq")
                                    .asLong())
                            .isEqualTo(stoppedAt);
                    SessionState.RunView view = hydrate(later, s).runs().stream()
                            .filter(r -> r.runId().equals(run))
                            .findFirst()
                            .orElseThrow();
                    assertThat(view.stoppedAtSeq()).isEqualTo(stoppedAt);
                    assertThat(view.state()).isIn(RunState.STOP_REQUESTED, RunState.STOPPED);
                    later.request(Json.object().put("action", "unsubscribe").put("sessionId", s));
                }
            }
        }
    }

    @Test
    void steerReachesTheStreamingAgentAndInterruptEndsTheReplyButKeepsTheRun() {
        String s = newSession();
        try (WsClient user = client("id=user-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.listenForControl();
            agent.startReply("run-1", "m-1");
            agent.delta("run-1", "m-1", "Once upon");
            assertThat(control(user, s, "run-1", "steer", "make it shorter")
                            .path("type")
                            .asText())
                    .isEqualTo("ack");
            ObjectNode steer = firstEvent(agent.ws, "run.steered", "run-1", Duration.ofSeconds(30));
            assertThat(steer.at("/data/text").asText()).isEqualTo("make it shorter");
            agent.delta("run-1", "m-1", " a time"); // still streaming

            assertThat(control(user, s, "run-1", "interrupt", null).path("type").asText())
                    .isEqualTo("ack");
            ObjectNode interrupt = firstEvent(agent.ws, "run.interrupted", "run-1", Duration.ofSeconds(30));
            assertThat(interrupt.at("/data/messageId").asText()).isEqualTo("m-1");
            assertThat(agent.tryAppend("run-1", TestAgent.delta("m-1", " more"))
                            .path("code")
                            .asText())
                    .isEqualTo("MESSAGE_FENCED");
            // the run takes new input: a new reply in the same run
            agent.append("run-1", TestAgent.messageStart("m-2"), TestAgent.delta("m-2", "Short version."));
            agent.endReply("run-1", "m-2");
            SessionState state = hydrate(user, s);
            assertThat(state.items())
                    .extracting(i -> ((SessionState.Message) i).status())
                    .containsExactly("interrupted", "complete");
            assertThat(state.runs())
                    .singleElement()
                    .extracting(SessionState.RunView::state)
                    .isEqualTo(RunState.COMPLETED);
        }
    }

    @Test
    void aStopIsAcknowledgedByTheAgentOrTimesOutIntoStopped() {
        String s = newSession();
        try (WsClient user = client("id=user-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.listenForControl();
            agent.startRun("acked", null);
            agent.startRun("ignored", null);
            control(user, s, "acked", "cancel", null);
            firstEvent(agent.ws, "run.stop_requested", "acked", Duration.ofSeconds(30));
            agent.append("acked", "{\"type\":\"run.stop_acknowledged\",\"data\":{}}");
            assertThat(stack.services().sessions().run(s, "acked").state()).isEqualTo(RunState.STOPPED);

            control(user, s, "ignored", "cancel", null);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> stack.services().sessions().run(s, "ignored").state() == RunState.STOPPED);
            // either way a stopped run ends with run.stopped: the reason says which way
            Map<String, Event> stoppedByRun = new HashMap<>();
            storedLog(s).stream()
                    .filter(e -> e.type() == EventType.RUN_STOPPED)
                    .forEach(e -> stoppedByRun.put(e.runId(), e));
            assertThat(stoppedByRun.keySet()).containsExactlyInAnyOrder("acked", "ignored");
            assertThat(stoppedByRun.get("acked").dataText("reason")).isEqualTo("acknowledged");
            assertThat(stoppedByRun.get("ignored").dataText("reason")).isEqualTo("stop not acknowledged");
            assertThat(stoppedByRun.values())
                    .allSatisfy(e -> assertThat(e.agentId()).isEqualTo("service"));
        }
    }

    @Test
    void threeAgentsStreamIntoOneSessionAndCancelsFollowTheRunTree() throws Exception {
        String s = newSession();
        try (WsClient user = client("id=user-1");
                WsClient tab = client("id=tab-1");
                TestAgent parent = new TestAgent(stack.webSocketUrl(), s, "planner");
                TestAgent researcher = new TestAgent(stack.webSocketUrl(), s, "researcher");
                TestAgent writer = new TestAgent(stack.webSocketUrl(), s, "writer")) {
            subscribe(tab, s, 0);
            parent.startRun("plan", null);
            researcher.startRun("research", "plan");
            writer.startRun("write", "plan");
            List<Thread> threads = new ArrayList<>();
            for (TestAgent a : List.of(parent, researcher, writer)) {
                String run = a == parent ? "plan" : a == researcher ? "research" : "write";
                threads.add(Thread.ofVirtual().start(() -> {
                    a.append(run, TestAgent.messageStart("m-" + run));
                    for (int i = 0; i < 60; i++) {
                        if (!"ack"
                                .equals(a.tryAppend(run, TestAgent.delta("m-" + run, i + " "))
                                        .path("type")
                                        .asText())) return;
                    }
                }));
            }
            WsClient.sleep(100);
            assertThat(control(user, s, "research", "cancel", null).path("type").asText())
                    .isEqualTo("ack");
            WsClient.sleep(100);
            assertThat(stack.services().sessions().run(s, "write").state()).isEqualTo(RunState.RUNNING);
            assertThat(stack.services().sessions().run(s, "plan").state()).isEqualTo(RunState.RUNNING);
            assertThat(control(user, s, "plan", "cancel", null).path("type").asText())
                    .isEqualTo("ack");
            for (Thread t : threads) t.join();
            assertThat(stack.services().sessions().run(s, "plan").state()).isEqualTo(RunState.STOP_REQUESTED);
            assertThat(stack.services().sessions().run(s, "write").state()).isEqualTo(RunState.STOP_REQUESTED);

            List<Event> log = storedLog(s);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                ClientLog probe = new ClientLog(0);
                probe.offerFrames(tab.frames);
                return probe.last() >= log.size();
            });
            ClientLog seen = new ClientLog(0);
            seen.offerFrames(tab.frames);
            assertThat(seen.applied.stream().map(Json::write).toList().subList(0, log.size()))
                    .containsExactlyElementsOf(log.stream().map(Event::toJson).toList());
            assertThat(log.stream().map(Event::agentId).distinct()).contains("planner", "researcher", "writer");
            for (String run : List.of("plan", "research", "write")) {
                long stopSeq = log.stream()
                        .filter(e -> e.type() == EventType.RUN_STOP_REQUESTED && run.equals(e.runId()))
                        .findFirst()
                        .orElseThrow()
                        .seq();
                assertThat(log)
                        .filteredOn(e -> run.equals(e.runId()) && e.seq() > stopSeq && !isStopLifecycle(e))
                        .isEmpty();
            }
            SessionState state = hydrate(user, s);
            assertThat(state.runs())
                    .extracting(SessionState.RunView::runId, SessionState.RunView::parentRunId)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("plan", null),
                            org.assertj.core.groups.Tuple.tuple("research", "plan"),
                            org.assertj.core.groups.Tuple.tuple("write", "plan"));
            assertThat(state.agents())
                    .extracting(SessionState.AgentView::agentId)
                    .contains("planner", "researcher", "writer");
        }
    }

    @Test
    void anAgentKilledMidReplyFailsItsRunWithinTheLivenessTimeoutOnEveryClient() {
        String s = newSession();
        try (WsClient tab = client("id=tab-1")) {
            subscribe(tab, s, 0);
            TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1");
            agent.startReply("run-1", "m-1");
            agent.delta("run-1", "m-1", "half a sentence");
            long killedAt = System.nanoTime();
            agent.ws.abort(); // the process is gone: no more appends, no heartbeats
            ObjectNode failed = firstEvent(tab, "run.failed", "run-1", Duration.ofSeconds(60));
            long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
            // the timeout plus the sweeper's period and what a busy machine adds; never the 30 s default
            assertThat(tookMs).isLessThan(FAST.livenessTimeout().toMillis() + 15_000);
            assertThat(failed.at("/data/reason").asText()).contains("heartbeat");
            SessionState state = hydrate(tab, s);
            assertThat(state.runs())
                    .singleElement()
                    .extracting(SessionState.RunView::state)
                    .isEqualTo(RunState.FAILED);
            assertThat(((SessionState.Message) state.items().get(0)).status()).isEqualTo("error");
        }
    }

    @Test
    void aHeartbeatingAgentStaysAliveWithoutWriting() {
        String s = newSession();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startRun("thinking", null);
            // heartbeats every 500 ms for longer than the liveness timeout
            long until =
                    System.nanoTime() + FAST.livenessTimeout().plusSeconds(1).toNanos();
            while (System.nanoTime() < until) {
                WsClient.sleep(500);
                ObjectNode hb = agent.ws.request(Json.object()
                        .put("action", "heartbeat")
                        .put("sessionId", s)
                        .put("runId", "thinking"));
                assertThat(hb.path("type").asText()).isEqualTo("ack");
            }
            assertThat(stack.services().sessions().run(s, "thinking").state()).isEqualTo(RunState.RUNNING);
        }
    }

    @Test
    void presenceSurvivesAReconnectWithinTheGraceAndAnnouncesALeaveForGood() {
        String s = newSession();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startRun("r", null); // presence is announced in sessions that exist
        }
        WsClient tabA = client("id=ana&instance=tab-a&surface=web&label=Ana");
        WsClient tabB = client("id=ana&instance=tab-b&surface=web&label=Ana");
        WsClient phone = client("id=ana&instance=phone&surface=phone&label=Ana");
        for (WsClient c : List.of(tabA, tabB, phone)) subscribe(c, s, 0);
        tabA.abort(); // network blip
        WsClient tabAAgain = client("id=ana&instance=tab-a&surface=web&label=Ana");
        subscribe(tabAAgain, s, 0);
        phone.close(); // leaves for good
        await().atMost(Duration.ofSeconds(30))
                .until(() -> storedLog(s).stream().anyMatch(e -> e.type() == EventType.PRESENCE_LEFT));
        WsClient.sleep(FAST.presenceGrace().toMillis() + 1000); // any leave for tab-a would be here by now
        List<Event> log = storedLog(s);
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.PRESENCE_JOINED)
                .extracting(e -> e.dataText("memberId"))
                .containsExactly("ana/tab-a", "ana/tab-b", "ana/phone");
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.PRESENCE_LEFT)
                .extracting(e -> e.dataText("memberId"))
                .containsExactly("ana/phone");
        assertThat(hydrate(tabB, s).presence())
                .extracting(SessionState.PresenceView::memberId)
                .containsExactly("ana/tab-a", "ana/tab-b");
        tabB.close();
        tabAAgain.close();
    }

    @Test
    void controlWithoutPermissionOrForAnotherSessionsRunIsRefusedAndChangesNothing() {
        String s = newSession();
        String other = newSession();
        try (WsClient viewer = client("id=guest&role=viewer");
                WsClient user = client("id=user-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            List<String> before = storedLog(s).stream().map(Event::toJson).toList();
            assertThat(control(viewer, s, "run-1", "cancel", null).path("code").asText())
                    .isEqualTo("FORBIDDEN");
            assertThat(control(user, other, "run-1", "cancel", null)
                            .path("code")
                            .asText())
                    .isEqualTo("RUN_NOT_FOUND");
            assertThat(viewer.request(Json.object()
                                    .put("action", "append")
                                    .put("sessionId", s)
                                    .set(
                                            "events",
                                            Json.MAPPER
                                                    .createArrayNode()
                                                    .add(Json.parseObject(
                                                            "{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}"))))
                            .path("code")
                            .asText())
                    .isEqualTo("FORBIDDEN");
            assertThat(storedLog(s).stream().map(Event::toJson).toList()).isEqualTo(before);
            assertThat(storedLog(other)).isEmpty();
            assertThat(stack.services().sessions().run(s, "run-1").state()).isEqualTo(RunState.RUNNING);
        }
    }
}
