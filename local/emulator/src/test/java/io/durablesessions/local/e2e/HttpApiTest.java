package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.local.EmbeddedStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** The HTTP API end to end: real HTTP requests to the local stack, real WebSocket subscribers. */
class HttpApiTest {
    static EmbeddedStack stack;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String AGENT = EmbeddedStack.devToken("agent-h", "agent");
    static final String USER = EmbeddedStack.devToken("user-h", "client");

    record Res(int status, String contentType, ObjectNode json) {}

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static Res call(String method, String path, String token, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + path))
                    .timeout(Duration.ofSeconds(30))
                    .method(
                            method,
                            body == null
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofString(body));
            if (token != null) b.header("Authorization", "Bearer " + token);
            if (body != null) b.header("Content-Type", "application/json");
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Res(
                    r.statusCode(),
                    r.headers().firstValue("content-type").orElse(""),
                    r.body().isEmpty() ? Json.object() : Json.parseObject(r.body()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String session() {
        return "http-" + UUID.randomUUID();
    }

    static String post(String runId, String producer, int seq, String... events) {
        ObjectNode f = Json.object();
        if (runId != null) f.put("runId", runId);
        if (producer != null)
            f.putObject("producer").put("id", producer).put("epoch", 0).put("seq", seq);
        var arr = f.putArray("events");
        for (String e : events) arr.add(Json.parseObject(e));
        return Json.write(f);
    }

    static void assertProblem(Res r, int status, String code) {
        assertThat(r.status()).as("status of %s", r.json()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().path("code").asText()).isEqualTo(code);
        assertThat(r.json().path("status").asInt()).isEqualTo(status);
        assertThat(r.json().has("type") && r.json().has("title") && r.json().has("detail"))
                .isTrue();
    }

    @Test
    void anAgentThatOnlyPostsStreamsAReplyAWebSocketSubscriberReceivesLive() {
        String s = session();
        Res created = call(
                "POST", "/v1/sessions", USER, "{\"sessionId\":\"" + s + "\",\"title\":\"t\",\"metadata\":{\"k\":1}}");
        assertThat(created.status()).as("%s", created.json()).isEqualTo(201);
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-h")) {
            assertThat(tab.request(Json.object()
                                    .put("action", "subscribe")
                                    .put("sessionId", s)
                                    .put("afterSeq", 0))
                            .path("type")
                            .asText())
                    .isEqualTo("subscribed");
            Res r1 = call(
                    "POST",
                    "/v1/sessions/" + s + "/events",
                    AGENT,
                    post("run-1", "p", 0, "{\"type\":\"run.started\",\"data\":{}}", TestAgent.messageStart("m-1")));
            assertThat(r1.status()).as("%s", r1.json()).isEqualTo(200);
            assertThat(r1.json().path("firstSeq").asLong()).isEqualTo(2); // 1 is the tab's presence.joined
            assertThat(r1.json().path("control")).isEmpty();
            assertThat(r1.json().path("runs").get(0).path("state").asText()).isEqualTo("running");
            for (int i = 0; i < 5; i++) {
                Res r = call(
                        "POST",
                        "/v1/sessions/" + s + "/events",
                        AGENT,
                        post("run-1", "p", i + 1, TestAgent.delta("m-1", "w" + i)));
                assertThat(r.status()).isEqualTo(200);
            }
            call(
                    "POST",
                    "/v1/sessions/" + s + "/events",
                    AGENT,
                    post(
                            "run-1",
                            "p",
                            6,
                            "{\"type\":\"message.end\",\"data\":{\"messageId\":\"m-1\"}}",
                            "{\"type\":\"run.completed\",\"data\":{}}"));
            await().atMost(Duration.ofSeconds(20)).until(() -> tab.rawSeqs().contains(10L));
            ClientLog log = new ClientLog(0);
            log.offerFrames(tab.frames);
            assertThat(log.seqs()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        }
        Res snap = call("GET", "/v1/sessions/" + s + "/snapshot", USER, null);
        assertThat(snap.status()).isEqualTo(200);
        assertThat(snap.json().path("headSeq").asLong()).isEqualTo(10);
        assertThat(snap.json().path("state").path("items").get(0).path("text").asText())
                .isEqualTo("w0w1w2w3w4");
        Res info = call("GET", "/v1/sessions/" + s, USER, null);
        assertThat(info.json().path("headSeq").asLong()).isEqualTo(10);
        assertThat(info.json().path("title").asText()).isEqualTo("t");
        assertThat(info.json().path("metadata").path("k").asInt()).isEqualTo(1);
        assertThat(info.json().path("runs").get(0).path("state").asText()).isEqualTo("completed");
        assertThat(info.json().path("presence").path("count").asInt()).isEqualTo(1);
        Res page1 = call("GET", "/v1/sessions/" + s + "/events?afterSeq=0&limit=4", USER, null);
        assertThat(page1.json().path("events")).hasSize(4);
        assertThat(page1.json().path("nextAfterSeq").asLong()).isEqualTo(4);
        Res page2 = call("GET", "/v1/sessions/" + s + "/events?afterSeq=4&limit=100", USER, null);
        assertThat(page2.json().path("events")).hasSize(6);
        assertThat(page2.json().path("more").asBoolean()).isFalse();
    }

    @Test
    void aCancelFromAWebSocketClientReachesThePostingAgentAndFencesTheRun() {
        String s = session();
        assertThat(call(
                                "POST",
                                "/v1/sessions/" + s + "/events",
                                AGENT,
                                post(
                                        "run-c",
                                        "pc",
                                        0,
                                        "{\"type\":\"run.started\",\"data\":{}}",
                                        TestAgent.messageStart("m-c")))
                        .status())
                .isEqualTo(200);
        assertThat(call(
                                "POST",
                                "/v1/sessions/" + s + "/events",
                                AGENT,
                                post("run-c", "pc", 1, TestAgent.delta("m-c", "a")))
                        .status())
                .isEqualTo(200);
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-c")) {
            ObjectNode ack = tab.request(Json.object()
                    .put("action", "control")
                    .put("sessionId", s)
                    .put("runId", "run-c")
                    .put("command", "cancel"));
            assertThat(ack.path("type").asText()).isEqualTo("ack");
        }
        Res next = call(
                "POST", "/v1/sessions/" + s + "/events", AGENT, post("run-c", "pc", 2, TestAgent.delta("m-c", "b")));
        assertProblem(next, 409, "RUN_FENCED");
        assertThat(next.json().path("details").path("stoppedAtSeq").asLong()).isEqualTo(3);
        assertThat(next.json().path("control")).hasSize(1);
        JsonNode stop = next.json().path("control").get(0);
        assertThat(stop.path("type").asText()).isEqualTo("run.stop_requested");
        assertThat(stop.path("data").path("stoppedAtSeq").asLong()).isEqualTo(3);
        assertThat(next.json().path("runs").get(0).path("state").asText()).isEqualTo("stop_requested");
        assertProblem(
                call(
                        "POST",
                        "/v1/sessions/" + s + "/events",
                        AGENT,
                        post("run-c", "pc", 2, TestAgent.delta("m-c", "c"))),
                409,
                "RUN_FENCED");
        // acknowledging the stop ends the run like the WebSocket path, once
        Res ackd = call(
                "POST",
                "/v1/sessions/" + s + "/runs/run-c/ack",
                AGENT,
                "{\"controlSeq\":" + stop.path("seq").asLong() + "}");
        assertThat(ackd.status()).as("%s", ackd.json()).isEqualTo(200);
        assertThat(ackd.json().path("state").asText()).isEqualTo("stopped");
        assertThat(ackd.json().has("stopAcknowledgedSeq")).isTrue();
        Res again = call(
                "POST",
                "/v1/sessions/" + s + "/runs/run-c/ack",
                AGENT,
                "{\"controlSeq\":" + stop.path("seq").asLong() + "}");
        assertThat(again.json().has("stopAcknowledgedSeq")).isFalse();
        List<String> types = new ArrayList<>();
        call("GET", "/v1/sessions/" + s + "/events", USER, null)
                .json()
                .path("events")
                .forEach(e -> types.add(e.path("type").asText()));
        assertThat(types)
                .containsExactly(
                        "run.started",
                        "message.start",
                        "text.delta",
                        "run.stop_requested",
                        "run.stop_acknowledged",
                        "run.stopped");
        // after the ack nothing is pending
        Res hb = call("POST", "/v1/sessions/" + s + "/runs/run-c/heartbeat", AGENT, null);
        assertProblem(hb, 409, "RUN_FENCED");
        assertThat(hb.json().path("control")).isEmpty();
    }

    @Test
    void steerAndInterruptOverHttpArriveInTheAgentsNextResponseUntilAcknowledged() {
        String s = session();
        call(
                "POST",
                "/v1/sessions/" + s + "/events",
                AGENT,
                post("run-s", "ps", 0, "{\"type\":\"run.started\",\"data\":{}}", TestAgent.messageStart("m-s")));
        Res steer = call(
                "POST",
                "/v1/sessions/" + s + "/runs/run-s/control",
                USER,
                "{\"command\":\"steer\",\"text\":\"shorter\"}");
        assertThat(steer.status()).as("%s", steer.json()).isEqualTo(200);
        Res r = call(
                "POST", "/v1/sessions/" + s + "/events", AGENT, post("run-s", "ps", 1, TestAgent.delta("m-s", "x")));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("control")).hasSize(1);
        assertThat(r.json().path("control").get(0).path("data").path("text").asText())
                .isEqualTo("shorter");
        long steerSeq = r.json().path("control").get(0).path("seq").asLong();
        // a future control cannot be pre-acknowledged: the ack is capped at what the run received
        Res ack = call("POST", "/v1/sessions/" + s + "/runs/run-s/ack", AGENT, "{\"controlSeq\":1000}");
        assertThat(ack.json().path("controlAckSeq").asLong()).isEqualTo(steerSeq);
        Res after = call(
                "POST", "/v1/sessions/" + s + "/events", AGENT, post("run-s", "ps", 2, TestAgent.delta("m-s", "y")));
        assertThat(after.json().path("control")).isEmpty();
        assertThat(call("POST", "/v1/sessions/" + s + "/runs/run-s/control", USER, "{\"command\":\"interrupt\"}")
                        .status())
                .isEqualTo(200);
        Res fenced = call(
                "POST", "/v1/sessions/" + s + "/events", AGENT, post("run-s", "ps", 3, TestAgent.delta("m-s", "z")));
        assertProblem(fenced, 409, "MESSAGE_FENCED");
        assertThat(fenced.json().path("control").get(0).path("type").asText()).isEqualTo("run.interrupted");
    }

    @Test
    void aRetriedPostWithTheSameProducerSeqNeverDuplicates() {
        String s = session();
        String body = post(null, "pr", 0, "{\"type\":\"custom\",\"data\":{\"name\":\"once\"}}");
        Res first = call("POST", "/v1/sessions/" + s + "/events", USER, body);
        Res retry = call("POST", "/v1/sessions/" + s + "/events", USER, body); // as if the first answer was lost
        assertThat(first.json().path("duplicate").asBoolean()).isFalse();
        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.json().path("duplicate").asBoolean()).isTrue();
        assertThat(retry.json().path("firstSeq").asLong())
                .isEqualTo(first.json().path("firstSeq").asLong());
        assertThat(call("GET", "/v1/sessions/" + s + "/events", USER, null)
                        .json()
                        .path("events"))
                .hasSize(1);
        assertProblem(
                call(
                        "POST",
                        "/v1/sessions/" + s + "/events",
                        USER,
                        post(null, "pr", 5, "{\"type\":\"custom\",\"data\":{\"name\":\"gap\"}}")),
                409,
                "PRODUCER_GAP");
    }

    @Test
    void deletingASessionErasesItFromAllThreeTablesAndLeavesOthersAlone() {
        String doomed = session();
        String kept = session();
        for (String s : List.of(doomed, kept)) {
            assertThat(call("POST", "/v1/sessions", USER, "{\"sessionId\":\"" + s + "\",\"retentionDays\":7}")
                            .status())
                    .isEqualTo(201);
            call(
                    "POST",
                    "/v1/sessions/" + s + "/events",
                    AGENT,
                    post("run-d", "pd", 0, "{\"type\":\"run.started\",\"data\":{}}", TestAgent.messageStart("m-d")));
            call(
                    "POST",
                    "/v1/sessions/" + s + "/events",
                    AGENT,
                    post(
                            "run-d",
                            "pd",
                            1,
                            "{\"type\":\"message.end\",\"data\":{\"messageId\":\"m-d\"}}",
                            "{\"type\":\"run.completed\",\"data\":{}}"));
        }
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-d&instance=i1")) {
            for (String s : List.of(doomed, kept)) {
                assertThat(tab.request(Json.object()
                                        .put("action", "subscribe")
                                        .put("sessionId", s)
                                        .put("afterSeq", 0))
                                .path("type")
                                .asText())
                        .isEqualTo("subscribed");
            }
            assertThat(rows(stack.tables().events(), Attrs.SESSION_ID, doomed)).isNotEmpty();
            assertThat(rows(stack.tables().connections(), Attrs.PK, "SUB#" + doomed))
                    .hasSize(1);
            assertProblem(
                    call("DELETE", "/v1/sessions/" + doomed, EmbeddedStack.devToken("v", "viewer"), null),
                    403,
                    "FORBIDDEN");
            Res del = call("DELETE", "/v1/sessions/" + doomed, USER, null);
            assertThat(del.status()).as("%s", del.json()).isEqualTo(200);
            tab.await(
                    f -> "session_deleted".equals(f.path("type").asText())
                            && doomed.equals(f.path("sessionId").asText()),
                    Duration.ofSeconds(30));
            assertThat(rows(stack.tables().events(), Attrs.SESSION_ID, doomed)).isEmpty();
            assertThat(rows(stack.tables().sessions(), Attrs.SESSION_ID, doomed))
                    .isEmpty();
            assertThat(rows(stack.tables().connections(), Attrs.PK, "SUB#" + doomed))
                    .isEmpty();
            String conn = rows(stack.tables().connections(), Attrs.PK, "SUB#" + kept)
                    .get(0)
                    .get(Attrs.SK)
                    .s();
            List<String> connRows = rows(stack.tables().connections(), Attrs.PK, "CONN#" + conn).stream()
                    .map(i -> i.get(Attrs.SK).s())
                    .toList();
            assertThat(connRows).contains("META", "SUB#" + kept).doesNotContain("SUB#" + doomed);
            // the other session is whole, and its subscriber is still connected and served
            assertThat(rows(stack.tables().events(), Attrs.SESSION_ID, kept)).hasSize(5); // + presence.joined
            assertThat(call("GET", "/v1/sessions/" + kept, USER, null)
                            .json()
                            .path("headSeq")
                            .asLong())
                    .isEqualTo(5);
            assertProblem(call("GET", "/v1/sessions/" + doomed, USER, null), 404, "SESSION_NOT_FOUND");
            call(
                    "POST",
                    "/v1/sessions/" + kept + "/events",
                    USER,
                    post(null, null, 0, "{\"type\":\"custom\",\"data\":{\"name\":\"still\"}}"));
            tab.await(
                    f -> "events".equals(f.path("type").asText())
                            && kept.equals(f.path("sessionId").asText())
                            && f.path("events").get(0).path("seq").asLong() == 6,
                    Duration.ofSeconds(30));
        }
    }

    @Test
    void onlyTheRunsOwnAgentMayHeartbeatItOrAcknowledgeItsControl() {
        String s = session();
        String other = EmbeddedStack.devToken("agent-other", "agent");
        assertThat(call(
                                "POST",
                                "/v1/sessions/" + s + "/events",
                                AGENT,
                                post("run-o", "po", 0, "{\"type\":\"run.started\",\"data\":{}}"))
                        .status())
                .isEqualTo(200);
        long steer = call(
                        "POST",
                        "/v1/sessions/" + s + "/runs/run-o/control",
                        USER,
                        "{\"command\":\"steer\",\"text\":\"shorter\"}")
                .json()
                .path("seq")
                .asLong();
        assertProblem(call("POST", "/v1/sessions/" + s + "/runs/run-o/heartbeat", other, null), 403, "NOT_OWNER");
        assertProblem(
                call("POST", "/v1/sessions/" + s + "/runs/run-o/ack", other, "{\"controlSeq\":" + steer + "}"),
                403,
                "NOT_OWNER");
        // the owner still sees the steer as pending, and may do both
        Res beat = call("POST", "/v1/sessions/" + s + "/runs/run-o/heartbeat", AGENT, null);
        assertThat(beat.status()).isEqualTo(200);
        assertThat(beat.json().path("control").get(0).path("seq").asLong()).isEqualTo(steer);
        Res ack = call("POST", "/v1/sessions/" + s + "/runs/run-o/ack", AGENT, "{\"controlSeq\":" + steer + "}");
        assertThat(ack.json().path("controlAckSeq").asLong()).isEqualTo(steer);
    }

    @Test
    void aSessionWhoseRetentionRanOutIsErasedWholeByTheSweeper() {
        String expiring = session();
        String forever = session();
        assertThat(call("POST", "/v1/sessions", USER, "{\"sessionId\":\"" + expiring + "\",\"retentionDays\":1}")
                        .status())
                .isEqualTo(201);
        assertThat(call("POST", "/v1/sessions", USER, "{\"sessionId\":\"" + forever + "\"}")
                        .status())
                .isEqualTo(201);
        long expiresAt = call("GET", "/v1/sessions/" + expiring, USER, null)
                .json()
                .path("expiresAt")
                .asLong();
        assertThat(expiresAt)
                .isBetween(
                        Instant.now().getEpochSecond() + 86_000, Instant.now().getEpochSecond() + 86_500);
        for (String s : List.of(expiring, forever)) {
            call(
                    "POST",
                    "/v1/sessions/" + s + "/events",
                    AGENT,
                    post(null, null, 0, "{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}"));
        }
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-r&instance=i1")) {
            assertThat(tab.request(Json.object()
                                    .put("action", "subscribe")
                                    .put("sessionId", expiring)
                                    .put("afterSeq", 0))
                            .path("type")
                            .asText())
                    .isEqualTo("subscribed");
            // a day passes: move the SESSION row's deadline into the past, as the clock would
            stack.dynamoClient()
                    .updateItem(u -> u.tableName(stack.tables().sessions())
                            .key(Map.of(
                                    Attrs.SESSION_ID,
                                    AttributeValue.fromS(expiring),
                                    Attrs.SK,
                                    AttributeValue.fromS("SESSION")))
                            .updateExpression("SET #due = :due, retainUntil = :until")
                            .expressionAttributeNames(Map.of("#due", Attrs.DUE_AT))
                            .expressionAttributeValues(Map.of(
                                    ":due",
                                    AttributeValue.fromN(Long.toString(System.currentTimeMillis() - 1000)),
                                    ":until",
                                    AttributeValue.fromN(
                                            Long.toString(Instant.now().getEpochSecond() - 1)))));
            // the sweeper (every second locally, every minute in AWS) erases it like a DELETE
            tab.await(
                    f -> "session_deleted".equals(f.path("type").asText())
                            && expiring.equals(f.path("sessionId").asText()),
                    Duration.ofSeconds(20));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(rows(stack.tables().events(), Attrs.SESSION_ID, expiring))
                        .isEmpty();
                assertThat(rows(stack.tables().sessions(), Attrs.SESSION_ID, expiring))
                        .isEmpty();
                assertThat(rows(stack.tables().connections(), Attrs.PK, "SUB#" + expiring))
                        .isEmpty();
            });
        }
        // a session without retention stays
        assertThat(call("GET", "/v1/sessions/" + forever, USER, null)
                        .json()
                        .path("headSeq")
                        .asLong())
                .isEqualTo(1);
        assertThat(call("GET", "/v1/sessions/" + forever, USER, null)
                        .json()
                        .path("expiresAt")
                        .isNull())
                .isTrue();
    }

    @Test
    void sessionsAreListedByOwnerThroughTheIndexWithASealedCursor() {
        String owner = "owner-" + UUID.randomUUID().toString().substring(0, 8);
        String admin = DevTokens.mint(
                AuthConfig.localDevelopment(),
                "operator",
                "client",
                List.of(Grant.all(Capability.READ, Capability.APPEND, Capability.ADMIN)),
                Duration.ofMinutes(5));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String s = session();
            ids.add(s);
            // filing a session under someone else is an admin's act
            assertProblem(
                    call("POST", "/v1/sessions", USER, "{\"sessionId\":\"" + s + "\",\"owner\":\"" + owner + "\"}"),
                    403,
                    "FORBIDDEN");
            assertThat(call("POST", "/v1/sessions", admin, "{\"sessionId\":\"" + s + "\",\"owner\":\"" + owner + "\"}")
                            .status())
                    .isEqualTo(201);
        }
        assertProblem(
                call("POST", "/v1/sessions", admin, "{\"sessionId\":\"" + ids.get(0) + "\"}"), 409, "SESSION_EXISTS");
        // someone else's list needs the admin grant too
        assertProblem(call("GET", "/v1/sessions?owner=" + owner, USER, null), 403, "FORBIDDEN");
        List<String> seen = new ArrayList<>();
        List<String> cursors = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Res r = call(
                    "GET",
                    "/v1/sessions?owner=" + owner + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
                    admin,
                    null);
            assertThat(r.status()).as("%s", r.json()).isEqualTo(200);
            r.json().path("sessions").forEach(x -> seen.add(x.path("sessionId").asText()));
            cursor = r.json().path("nextCursor").isNull()
                    ? null
                    : r.json().path("nextCursor").asText();
            if (cursor != null) cursors.add(cursor);
            pages++;
        } while (cursor != null && pages < 10);
        assertThat(seen).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(pages).isGreaterThanOrEqualTo(3);
        // a cursor names no session (it is sealed), and works for its own caller and list only
        String first = cursors.get(0);
        assertThat(new String(Base64.getUrlDecoder().decode(first), StandardCharsets.ISO_8859_1))
                .doesNotContain(owner)
                .doesNotContain("http-");
        assertProblem(call("GET", "/v1/sessions?owner=user-h&cursor=" + first, USER, null), 400, "INVALID_MESSAGE");
        String tampered = (first.charAt(5) == 'A' ? "B" : "A");
        tampered = first.substring(0, 5) + tampered + first.substring(6);
        assertProblem(
                call("GET", "/v1/sessions?owner=" + owner + "&cursor=" + tampered, admin, null),
                400,
                "INVALID_MESSAGE");
        // without an owner, a caller lists its own sessions
        assertThat(call("GET", "/v1/sessions", USER, null).json().path("owner").asText())
                .isEqualTo("user-h");
    }

    @Test
    void badInputIsAProblemWithTheRightStatusAndCodeAndStoresNothing() {
        String s = session();
        String events = "/v1/sessions/" + s + "/events";
        String ok = post(null, null, 0, "{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}");
        String narrow = DevTokens.mint(
                AuthConfig.localDevelopment(),
                "narrow",
                "client",
                List.of(Grant.session("other", Capability.READ, Capability.APPEND)),
                Duration.ofMinutes(5));
        record Case(String method, String path, String token, String body, int status, String code) {}
        List<Case> cases = List.of(
                new Case("POST", events, AGENT, "{not json", 400, "MALFORMED_JSON"),
                new Case("POST", events, AGENT, "[1,2]", 400, "MALFORMED_JSON"),
                new Case("POST", events, AGENT, null, 400, "MALFORMED_JSON"),
                new Case("POST", events, AGENT, "{\"events\":\"nope\"}", 400, "INVALID_MESSAGE"),
                new Case("POST", events, AGENT, "{}", 400, "INVALID_MESSAGE"),
                new Case(
                        "POST",
                        events,
                        AGENT,
                        "{\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}],\"producer\":{\"id\":\"p\",\"epoch\":\"0\",\"seq\":0}}",
                        400,
                        "INVALID_MESSAGE"),
                new Case(
                        "POST",
                        events,
                        AGENT,
                        "{\"events\":[{\"type\":\"nope\",\"data\":{}}]}",
                        400,
                        "UNKNOWN_EVENT_TYPE"),
                new Case(
                        "POST",
                        events,
                        AGENT,
                        "{\"events\":[{\"type\":\"run.steered\",\"runId\":\"r\",\"data\":{\"text\":\"x\"}}]}",
                        400,
                        "FORBIDDEN_EVENT_TYPE"),
                new Case("POST", events, AGENT, "{\"sessionId\":\"elsewhere\",\"events\":[]}", 400, "INVALID_MESSAGE"),
                new Case(
                        "POST",
                        events,
                        AGENT,
                        "{\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"" + "x".repeat(140_000) + "\"}}]}",
                        413,
                        "MESSAGE_TOO_LARGE"),
                new Case(
                        "POST",
                        events,
                        USER,
                        post("r", null, 0, "{\"type\":\"run.started\",\"data\":{}}"),
                        403,
                        "FORBIDDEN"),
                new Case("POST", events, narrow, ok, 403, "FORBIDDEN"),
                new Case("POST", events, EmbeddedStack.devToken("v", "viewer"), ok, 403, "FORBIDDEN"),
                new Case(
                        "POST",
                        "/v1/sessions",
                        USER,
                        "{\"sessionId\":\"" + s + "\",\"retentionDays\":0}",
                        400,
                        "INVALID_MESSAGE"),
                new Case(
                        "POST",
                        "/v1/sessions",
                        USER,
                        "{\"sessionId\":\"" + s + "\",\"metadata\":[1]}",
                        400,
                        "INVALID_MESSAGE"),
                new Case(
                        "POST",
                        "/v1/sessions",
                        USER,
                        "{\"sessionId\":\"" + s + "\",\"colour\":\"red\"}",
                        400,
                        "INVALID_MESSAGE"),
                new Case("POST", "/v1/sessions", USER, "{\"sessionId\":\"bad id!\"}", 400, "INVALID_MESSAGE"),
                new Case("GET", "/v1/sessions/" + s + "/events?afterSeq=x", USER, null, 400, "INVALID_MESSAGE"),
                new Case("GET", "/v1/sessions?cursor=zzz", USER, null, 400, "INVALID_MESSAGE"),
                new Case("GET", "/v1/sessions/" + s, USER, null, 404, "SESSION_NOT_FOUND"),
                new Case("GET", "/v1/nothing/here", USER, null, 404, "UNKNOWN_ACTION"),
                new Case("PUT", events, USER, ok, 405, "METHOD_NOT_ALLOWED"),
                new Case(
                        "POST",
                        "/v1/sessions/" + s + "/runs/r-x/control",
                        USER,
                        "{\"command\":\"explode\"}",
                        400,
                        "INVALID_MESSAGE"),
                new Case(
                        "POST",
                        "/v1/sessions/" + s + "/runs/r-x/control",
                        USER,
                        "{\"command\":\"cancel\"}",
                        404,
                        "RUN_NOT_FOUND"),
                new Case(
                        "POST",
                        "/v1/sessions/" + s + "/runs/r-x/control",
                        EmbeddedStack.devToken("v", "viewer"),
                        "{\"command\":\"cancel\"}",
                        403,
                        "FORBIDDEN"),
                new Case(
                        "POST",
                        "/v1/sessions/" + s + "/runs/r-x/ack",
                        AGENT,
                        "{\"controlSeq\":-1}",
                        400,
                        "INVALID_MESSAGE"),
                new Case("POST", "/v1/sessions/" + s + "/runs/r-x/ack", USER, "{\"controlSeq\":1}", 403, "FORBIDDEN"));
        for (Case c : cases) {
            Res r = call(c.method(), c.path(), c.token(), c.body());
            assertThat(r.status())
                    .as("%s %s %s -> %s", c.method(), c.path(), c.code(), r.json())
                    .isEqualTo(c.status());
            assertProblem(r, c.status(), c.code());
        }
        assertThat(rows(stack.tables().events(), Attrs.SESSION_ID, s)).isEmpty();
        assertThat(rows(stack.tables().sessions(), Attrs.SESSION_ID, s)).isEmpty();
    }

    static List<Map<String, AttributeValue>> rows(String table, String keyName, String key) {
        return StoredLog.rows(stack, table, keyName, key);
    }
}
