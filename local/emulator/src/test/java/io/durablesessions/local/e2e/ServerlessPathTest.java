package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.Event;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SnapshotParts;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The product's shape end to end on the local stack: real WebSockets → API Gateway emulator →
 * the Lambda handlers → embedded DynamoDB → its stream → the fan-out handler → PostToConnection.
 * Direct delivery is off here: these are the Streams fan-out's own guarantees (order, partial batch
 * failures, 410 handling), which direct delivery relies on for whatever it misses
 * ({@link DirectDeliveryTest} covers both paths together).
 */
class ServerlessPathTest {
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(EmbeddedStack.Config.builder()
                .features(Services.Features.DEFAULTS.withDirectDelivery(false))
                .build());
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static List<Event> storedLog(String session) {
        return StoredLog.events(stack, session);
    }

    static String newSession() {
        return "e2e-" + UUID.randomUUID();
    }

    static WsClient subscriber(String session, long afterSeq, String name) {
        WsClient c = WsClient.connect(stack.webSocketUrl(), "id=" + name);
        ObjectNode ok = c.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("afterSeq", afterSeq));
        assertThat(ok.path("type").asText()).as("subscribe answer %s", ok).isEqualTo("subscribed");
        return c;
    }

    static List<Long> oneTo(long n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    @Test
    void aStreamedReplyOf500DeltasReachesTwoSubscribersExactlyOnceInOrder() {
        String s = newSession();
        try (WsClient tab = subscriber(s, 0, "tab-1");
                WsClient phone = subscriber(s, 0, "phone-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            for (int i = 0; i < 500; i++) agent.delta("run-1", "m-1", "t" + i + " ");
            agent.endReply("run-1", "m-1");
            // 504 of the agent's; the tabs subscribed before the session existed: they are announced when
            // the agent's first append creates it
            long total = storedLog(s).size();
            assertThat(total).isEqualTo(506);
            await().atMost(Duration.ofSeconds(60))
                    .until(() ->
                            tab.rawSeqs().contains(total) && phone.rawSeqs().contains(total));
            // every event, each first arriving in order (direct delivery and the fan-out may both send
            // one that raced: the client rule drops the second)
            assertThat(tab.rawSeqs().stream().distinct().toList()).containsExactlyElementsOf(oneTo(total));
            assertThat(phone.rawSeqs().stream().distinct().toList()).containsExactlyElementsOf(oneTo(total));
            assertThat(storedLog(s)).hasSize((int) total);
        }
    }

    @Test
    void aSubscriberCutOffMidStreamResumesFromItsLastSeqWithoutGapOrDuplicate() throws Exception {
        String s = newSession();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            WsClient first = subscriber(s, 0, "tab-1");
            agent.startReply("run-1", "m-1");
            Thread writer = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 300; i++) agent.delta("run-1", "m-1", "t" + i);
                agent.endReply("run-1", "m-1");
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> first.rawSeqs().size() >= 100);
            first.abort(); // network cut: no close frame
            ClientLog log = new ClientLog(0);
            log.offerFrames(first.frames);
            long resumeAfter = log.last();

            WsClient second = subscriber(s, resumeAfter, "tab-1");
            writer.join();
            long total = storedLog(s).size();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                ClientLog probe = new ClientLog(resumeAfter);
                probe.offerFrames(second.frames);
                return probe.last() >= total;
            });
            log.offerFrames(second.frames);
            assertThat(log.seqs()).containsExactlyElementsOf(oneTo(total));
            assertThat(log.held()).isEmpty();
            assertThat(log.applied.stream().map(Json::write).toList())
                    .containsExactlyElementsOf(
                            storedLog(s).stream().map(Event::toJson).toList());
            second.close();
        }
    }

    @Test
    void aNewTabHydratesMidStreamThenTailsLiveWithNoGapAndNoOverlap() throws Exception {
        String s = newSession();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-0", "m-0");
            for (int i = 0; i < 100; i++) agent.delta("run-0", "m-0", "old" + i);
            agent.endReply("run-0", "m-0");
            agent.startReply("run-1", "m-1");
            Thread writer = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 200; i++) agent.delta("run-1", "m-1", "new" + i);
                agent.endReply("run-1", "m-1");
            });
            WsClient.sleep(150);
            WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-2&surface=web");
            ObjectNode ok = tab.request(
                    Json.object().put("action", "subscribe").put("sessionId", s).put("hydrate", true));
            assertThat(ok.path("type").asText()).isEqualTo("subscribed");
            SessionState snapshot = SnapshotParts.join(tab.framesOfType("snapshot"));
            assertThat(snapshot.headSeq()).isEqualTo(ok.get("headSeq").asLong()).isGreaterThan(104);
            writer.join();
            long total = storedLog(s).size();
            ClientLog live = new ClientLog(snapshot.headSeq());
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                ClientLog probe = new ClientLog(snapshot.headSeq());
                probe.offerFrames(tab.frames);
                return probe.last() >= total;
            });
            live.offerFrames(tab.frames);
            assertThat(live.held()).isEmpty();
            assertThat(live.seqs())
                    .containsExactlyElementsOf(LongStream.rangeClosed(snapshot.headSeq() + 1, total)
                            .boxed()
                            .toList());
            Assembler resumed = Assembler.from(snapshot);
            live.applied.forEach(e -> resumed.apply(Event.fromJson(Json.write(e))));
            assertThat(resumed.state().toJson())
                    .isEqualTo(Assembler.fold(storedLog(s)).toJson());
            tab.close();
        }
    }

    @Test
    void aConnectionThatVanishedIsRemovedOnGoneAndTheOthersKeepReceiving() {
        String s = newSession();
        // a subscriber whose $disconnect never arrived: API Gateway no longer knows it
        var connections = stack.services().connections();
        Principal ghost = new Principal("ghost", "client", List.of(Grant.all(Capability.READ)), "jti-ghost", 0, 0);
        connections.register(new Connection("ghost0000000000=", ghost, null, null, "ghost", 0));
        connections.subscribe("ghost0000000000=", s, ghost, false, 100);
        try (WsClient tab = subscriber(s, 0, "tab-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.append(null, "{\"type\":\"custom\",\"data\":{\"name\":\"one\"}}");
            await().atMost(Duration.ofSeconds(20)).until(() -> connections.get("ghost0000000000=") == null);
            agent.append(null, "{\"type\":\"custom\",\"data\":{\"name\":\"two\"}}");
            long total = storedLog(s).size();
            await().atMost(Duration.ofSeconds(20)).until(() -> tab.rawSeqs().size() >= total);
            assertThat(tab.rawSeqs()).containsExactlyElementsOf(oneTo(total));
            assertThat(connections.subscribers(s))
                    .hasSize(1)
                    .noneMatch(sub -> sub.connectionId().equals("ghost0000000000="));
        }
    }

    @Test
    void aFailedDeliveryIsRetriedByTheEventSourceAndOrderHolds() {
        String s = newSession();
        long failuresBefore = stack.fanout().counters().batchesFailed();
        try (WsClient tab = subscriber(s, 0, "tab-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            for (int i = 0; i < 20; i++) agent.append(null, "{\"type\":\"custom\",\"data\":{\"name\":\"a" + i + "\"}}");
            long before = storedLog(s).size();
            await().atMost(Duration.ofSeconds(20)).until(() -> tab.rawSeqs().size() >= before);
            stack.gateway().setManagementApiAvailable(false);
            agent.append(null, "{\"type\":\"custom\",\"data\":{\"name\":\"during\"}}");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> stack.fanout().counters().batchesFailed() > failuresBefore);
            stack.gateway().setManagementApiAvailable(true);
            for (int i = 0; i < 20; i++) agent.append(null, "{\"type\":\"custom\",\"data\":{\"name\":\"b" + i + "\"}}");
            long total = storedLog(s).size();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                ClientLog probe = new ClientLog(0);
                probe.offerFrames(tab.frames);
                return probe.last() >= total;
            });
            ClientLog log = new ClientLog(0);
            log.offerFrames(tab.frames);
            assertThat(log.seqs()).containsExactlyElementsOf(oneTo(total));
            // what was delivered before the failure is not sent again
            assertThat(tab.rawSeqs().subList(0, (int) before + 1)).containsExactlyElementsOf(oneTo(before + 1));
            assertThat(stack.failedBatches()).isEmpty();
        } finally {
            stack.gateway().setManagementApiAvailable(true);
        }
    }

    @Test
    void badFramesGetProtocolErrorsAndLeaveTheConnectionAndTheLogIntact() throws Exception {
        String s = newSession();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.append(null, "{\"type\":\"custom\",\"data\":{\"name\":\"kept\"}}");
            List<String> before = storedLog(s).stream().map(Event::toJson).toList();
            WsClient ws = agent.ws;

            ws.send("{\"action\":\"dance\",\"requestId\":\"u1\"}");
            assertThat(ws.await(f -> "u1".equals(f.path("requestId").asText()), Duration.ofSeconds(30))
                            .get("code")
                            .asText())
                    .isEqualTo("UNKNOWN_ACTION");
            ws.send("{not json");
            assertThat(ws.await(f -> "MALFORMED_JSON".equals(f.path("code").asText()), Duration.ofSeconds(30)))
                    .isNotNull();
            String tooBigEvent = "{\"action\":\"append\",\"requestId\":\"u2\",\"sessionId\":\"" + s
                    + "\",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\",\"payload\":\""
                    + "y".repeat(100_000) + "\"}}]}";
            ws.send(tooBigEvent);
            assertThat(ws.await(f -> "u2".equals(f.path("requestId").asText()), Duration.ofSeconds(30))
                            .get("code")
                            .asText())
                    .isEqualTo("EVENT_TOO_LARGE");
            assertThat(ws.request(Json.object().put("action", "ping"))
                            .path("type")
                            .asText())
                    .isEqualTo("pong");
            assertThat(storedLog(s).stream().map(Event::toJson).toList()).isEqualTo(before);

            // beyond API Gateway's 128 KB message limit the gateway itself closes the socket (1009)
            WsClient other = WsClient.connect(stack.webSocketUrl(), "id=agent-2&role=agent");
            other.send("{\"action\":\"append\",\"sessionId\":\"" + s
                    + "\",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"" + "z".repeat(140_000) + "\"}}]}");
            assertThat(other.awaitClose(Duration.ofSeconds(30))).isEqualTo(1009);
            assertThat(storedLog(s).stream().map(Event::toJson).toList()).isEqualTo(before);
            assertThat(ws.request(Json.object().put("action", "ping"))
                            .path("type")
                            .asText())
                    .isEqualTo("pong");
        }
    }
}
