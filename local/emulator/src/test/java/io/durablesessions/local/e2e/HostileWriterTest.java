package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.RunState;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SnapshotParts;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.local.EmbeddedStack;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Writers inside a session (docs/security.md): every test is a principal with a valid token trying
 * to break a guarantee, over real sockets, and every one checks the refusal code AND that the
 * victim's stored log is byte-for-byte what it was before the attack.
 */
class HostileWriterTest {
    static final AuthConfig LOCAL = AuthConfig.localDevelopment();
    /** Small budgets so the bounds show within a test; liveness shortened so a dead agent's run ends quickly. */
    static final Services.Limits LIMITS = new Services.Limits(200, 256 * 1024, 3);

    static final StoreSettings FAST =
            new StoreSettings(Duration.ofSeconds(6), Duration.ofSeconds(2), Duration.ofSeconds(2));
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(
                EmbeddedStack.Config.defaults().withLimits(LIMITS).withStore(FAST, Duration.ofMillis(200)));
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static String newSession() {
        return "hostile-" + UUID.randomUUID();
    }

    static List<String> log(String session) {
        return StoredLog.raw(stack, session);
    }

    static String token(String subject, String role, Capability... caps) {
        return DevTokens.mint(LOCAL, subject, role, List.of(Grant.prefix("hostile-", caps)), Duration.ofMinutes(10));
    }

    static WsClient agent(String name) {
        return WsClient.connectRaw(
                stack.webSocketUrl(),
                "token=" + token(name, "agent", Capability.READ, Capability.APPEND, Capability.AGENT));
    }

    static WsClient client(String name) {
        return WsClient.connectRaw(
                stack.webSocketUrl(),
                "token=" + token(name, "client", Capability.READ, Capability.APPEND, Capability.CONTROL));
    }

    static ObjectNode append(WsClient c, String session, String runId, String... events) {
        ObjectNode f = Json.object().put("action", "append").put("sessionId", session);
        if (runId != null) f.put("runId", runId);
        var arr = f.putArray("events");
        for (String e : events) arr.add(Json.parseObject(e));
        return c.request(f);
    }

    static ObjectNode subscribe(WsClient c, String session, long afterSeq) {
        return c.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("afterSeq", afterSeq));
    }

    static String start(String m, String role) {
        return "{\"type\":\"message.start\",\"data\":{\"messageId\":\"" + m + "\",\"role\":\"" + role + "\"}}";
    }

    static String delta(String m, String text) {
        return "{\"type\":\"text.delta\",\"data\":{\"messageId\":\"" + m + "\",\"text\":\"" + text + "\"}}";
    }

    static String end(String m) {
        return "{\"type\":\"message.end\",\"data\":{\"messageId\":\"" + m + "\"}}";
    }

    static final String RUN_STARTED = "{\"type\":\"run.started\",\"data\":{}}";

    static void assertRefused(ObjectNode answer, String code) {
        assertThat(answer.path("type").asText()).as("%s", answer).isEqualTo("error");
        assertThat(answer.path("code").asText()).as("%s", answer).isEqualTo(code);
    }

    static void assertAcked(ObjectNode answer) {
        assertThat(answer.path("type").asText()).as("%s", answer).isEqualTo("ack");
    }

    // ------------------------------------------------------------------ 1. message takeover

    @Test
    void aWriterCannotTakeOverAnotherWritersMessageOrChangeItsRole() {
        String s = newSession();
        try (WsClient ana = client("ana");
                WsClient eve = client("eve");
                WsClient eveAgent = agent("eve-bot")) {
            assertAcked(append(ana, s, null, start("m-ana", "user"), delta("m-ana", "hello")));
            List<String> before = log(s);
            assertRefused(append(eve, s, null, delta("m-ana", " (edited by eve)")), "NOT_OWNER");
            assertRefused(append(eve, s, null, end("m-ana")), "NOT_OWNER");
            assertRefused(append(eve, s, null, start("m-ana", "user")), "NOT_OWNER");
            // a client may not speak as the system or the assistant at all; an agent may not re-own the message
            assertRefused(append(eve, s, null, start("m-eve", "system")), "FORBIDDEN");
            assertRefused(append(eveAgent, s, null, start("m-ana", "system")), "NOT_OWNER");
            assertThat(log(s)).isEqualTo(before);
            SessionState.Message m = (SessionState.Message)
                    stack.services().sessions().hydrate(s).state().items().get(0);
            assertThat(m.agentId()).isEqualTo("ana");
            assertThat(m.role()).isEqualTo("user");
            assertThat(m.text()).isEqualTo("hello");
        }
    }

    @Test
    void anAgentsReplyCannotBeReachedByAnotherAgentOrAClientWithOrWithoutItsRun() {
        String s = newSession();
        try (WsClient a = agent("agent-a");
                WsClient b = agent("agent-b");
                WsClient user = client("user-1")) {
            assertAcked(append(a, s, "r", RUN_STARTED, start("m", "assistant"), delta("m", "Paris is")));
            List<String> before = log(s);
            assertRefused(append(b, s, "r", delta("m", " not")), "NOT_OWNER"); // through the run
            assertRefused(append(b, s, null, delta("m", " not")), "NOT_OWNER"); // around the run
            assertRefused(append(user, s, "r", delta("m", " not")), "NOT_OWNER"); // a client into the run
            assertRefused(append(user, s, null, end("m")), "NOT_OWNER");
            assertThat(log(s)).isEqualTo(before);
            assertAcked(append(a, s, "r", delta("m", " in France"), end("m")));
        }
    }

    @Test
    void reasoningPartsAndToolInputCannotBeAddedToAnotherWritersReplyNorToOneThatWasInterrupted() {
        String s = newSession();
        try (WsClient a = agent("agent-a");
                WsClient b = agent("agent-b");
                WsClient user = client("user-1")) {
            assertAcked(append(a, s, "r", RUN_STARTED, start("m", "assistant"), delta("m", "Paris is")));
            List<String> before = log(s);
            String reasoning = "{\"type\":\"reasoning.delta\",\"data\":{\"messageId\":\"m\",\"text\":\"I lie\"}}";
            String part = "{\"type\":\"message.part\",\"data\":{\"messageId\":\"m\",\"part\":"
                    + "{\"type\":\"source-url\",\"sourceId\":\"s\",\"url\":\"https://evil.example/\"}}}";
            String toolInput =
                    "{\"type\":\"tool.input.start\",\"data\":{\"toolCallId\":\"t-b\",\"messageId\":\"m\",\"name\":\"x\"}}";
            String toolCall =
                    "{\"type\":\"tool.call\",\"data\":{\"toolCallId\":\"t-b2\",\"messageId\":\"m\",\"name\":\"x\"}}";
            for (String hostile : List.of(reasoning, part, toolInput, toolCall))
                assertRefused(append(b, s, null, hostile), "NOT_OWNER");
            for (String hostile : List.of(reasoning, part)) assertRefused(append(user, s, null, hostile), "NOT_OWNER");
            for (String hostile : List.of(toolInput, toolCall))
                assertRefused(append(user, s, null, hostile), "FORBIDDEN");
            assertThat(log(s)).isEqualTo(before);
            assertAcked(user.request(Json.object()
                    .put("action", "control")
                    .put("sessionId", s)
                    .put("runId", "r")
                    .put("command", "interrupt")));
            for (String late : List.of(reasoning, part, toolInput))
                assertRefused(append(a, s, "r", late), "MESSAGE_FENCED");
        }
    }

    // ------------------------------------------------------------------ 2. run takeover

    @Test
    void anotherAgentCannotWriteIntoARunOrEndItAndTheOwnerIsNotFenced() {
        String s = newSession();
        try (WsClient a = agent("agent-a");
                WsClient b = agent("agent-b")) {
            assertAcked(append(
                    a,
                    s,
                    "r",
                    RUN_STARTED,
                    "{\"type\":\"tool.call\",\"data\":{\"toolCallId\":\"t\",\"name\":\"search\"}}"));
            List<String> before = log(s);
            for (String hostile : List.of(
                    "{\"type\":\"tool.call\",\"data\":{\"toolCallId\":\"t2\",\"name\":\"rm\"}}",
                    "{\"type\":\"tool.result\",\"data\":{\"toolCallId\":\"t\",\"result\":\"forged\"}}",
                    "{\"type\":\"run.completed\",\"data\":{}}",
                    "{\"type\":\"run.failed\",\"data\":{\"reason\":\"forged\"}}",
                    "{\"type\":\"run.stop_acknowledged\",\"data\":{}}")) {
                assertRefused(append(b, s, "r", hostile), "NOT_OWNER");
            }
            assertRefused(
                    b.request(Json.object()
                            .put("action", "heartbeat")
                            .put("sessionId", s)
                            .put("runId", "r")),
                    "NOT_OWNER");
            assertThat(log(s)).isEqualTo(before);
            // the owner goes on as if nothing happened: no RUN_FENCED
            assertAcked(append(
                    a,
                    s,
                    "r",
                    "{\"type\":\"tool.result\",\"data\":{\"toolCallId\":\"t\",\"result\":\"ok\"}}",
                    "{\"type\":\"run.completed\",\"data\":{}}"));
        }
    }

    // ------------------------------------------------------------------ 3. clients keeping a dead run alive

    @Test
    void aClientCannotWriteIntoAnAgentsRunNorKeepADeadAgentsRunAlive() {
        String s = newSession();
        WsClient a = agent("agent-a");
        assertAcked(append(a, s, "r", RUN_STARTED, start("m", "assistant")));
        a.abort(); // the agent died
        try (WsClient user = client("user-1")) {
            List<String> before = log(s);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            // the client keeps writing into the run; none of it lands, and none of it counts as the agent's life
            // (as fast as it can: past 200 messages a second its connection is rate limited as well)
            int notOwner = 0;
            while (stack.services().sessions().run(s, "r").state() == RunState.RUNNING
                    && System.nanoTime() < deadline) {
                ObjectNode answer = append(user, s, "r", start("m-" + UUID.randomUUID(), "user"));
                assertThat(answer.path("type").asText()).as("%s", answer).isEqualTo("error");
                assertThat(answer.path("code").asText()).as("%s", answer).isIn("NOT_OWNER", "RATE_LIMITED");
                if (answer.path("code").asText().equals("NOT_OWNER")) notOwner++;
            }
            assertThat(notOwner).isPositive();
            assertThat(stack.services().sessions().run(s, "r").state()).isEqualTo(RunState.FAILED);
            // the log is what it was, plus the service's verdict on the dead agent
            List<String> after = log(s);
            assertThat(after.subList(0, before.size())).isEqualTo(before);
            assertThat(after).hasSize(before.size() + 1);
            Event verdict = Event.fromJson(after.get(after.size() - 1));
            assertThat(verdict.type()).isEqualTo(EventType.RUN_FAILED);
            assertThat(verdict.agentId()).isEqualTo("service");
            assertThat(verdict.dataText("reason")).isEqualTo("heartbeat lost");
        }
    }

    // ------------------------------------------------------------------ 4. expired tokens on live sockets

    @Test
    void aTokenThatExpiresOnALiveSocketStopsWorkingForWritesAndForDelivery() throws Exception {
        String s = newSession();
        Instant now = Instant.now();
        // valid at connect only thanks to the minute of clock skew: it expires for good 8 s later (time
        // enough to connect and subscribe on a busy machine)
        String shortLived = DevTokens.mint(
                LOCAL,
                "mallory",
                "client",
                List.of(Grant.prefix("hostile-", Capability.READ, Capability.APPEND)),
                now.minusSeconds(120),
                now.minusSeconds(52),
                "jti-" + UUID.randomUUID(),
                LOCAL.audience());
        try (WsClient a = agent("agent-a");
                WsClient mallory = WsClient.connectRaw(stack.webSocketUrl(), "token=" + shortLived)) {
            assertAcked(append(a, s, null, "{\"type\":\"custom\",\"data\":{\"name\":\"first\"}}"));
            assertThat(subscribe(mallory, s, 0).path("type").asText()).isEqualTo("subscribed");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> "UNAUTHORIZED"
                            .equals(mallory.request(Json.object().put("action", "ping"))
                                    .path("code")
                                    .asText()));
            List<String> before = log(s);
            assertRefused(
                    append(mallory, s, null, "{\"type\":\"custom\",\"data\":{\"name\":\"late\"}}"), "UNAUTHORIZED");
            assertThat(log(s)).isEqualTo(before);
            int received = mallory.rawSeqs().size();
            // the next delivery drops its subscription and closes its connection
            assertAcked(append(a, s, null, "{\"type\":\"custom\",\"data\":{\"name\":\"second\"}}"));
            assertThat(mallory.awaitClose(Duration.ofSeconds(20))).isNotNull();
            assertThat(mallory.rawSeqs()).hasSize(received);
            assertThat(log(s).stream().map(Event::fromJson))
                    .noneMatch(e ->
                            e.dataText("name") != null && e.dataText("name").equals("late"));
        }
    }

    @Test
    void aTokenIssuedInTheFutureOrWithAMalformedGrantIsRefusedAtTheHandshake() throws Exception {
        Instant now = Instant.now();
        String future = hs256(new JWTClaimsSet.Builder()
                .issuer(LOCAL.issuer())
                .audience(LOCAL.audience())
                .subject("eve")
                .issueTime(Date.from(now.plusSeconds(3600)))
                .expirationTime(Date.from(now.plusSeconds(7200)))
                .claim("role", "client")
                .claim("grants", List.of(Map.of("prefix", "hostile-", "caps", List.of("read"))))
                .build());
        String wildcard = hs256(new JWTClaimsSet.Builder()
                .issuer(LOCAL.issuer())
                .audience(LOCAL.audience())
                .subject("eve")
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("role", "client")
                .claim("grants", List.of(Map.of("prefix", Map.of(), "caps", List.of("read"))))
                .build());
        for (String t : List.of(future, wildcard)) {
            assertThatThrownBy(() -> WsClient.connectRaw(stack.webSocketUrl(), "token=" + t))
                    .hasRootCauseMessage("Unexpected HTTP response status code 401");
        }
    }

    static String hs256(JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(LOCAL.hs256Secret()));
        return jwt.serialize();
    }

    // ------------------------------------------------------------------ 5. listing

    @Test
    void listingAnotherOwnersSessionsOrFilingOneUnderThemNeedsTheAdminCapability() {
        String mine = newSession();
        String eve = token("eve", "client", Capability.READ, Capability.APPEND);
        String ana = token("ana", "client", Capability.READ, Capability.APPEND);
        assertThat(http("POST", "/v1/sessions", ana, "{\"sessionId\":\"" + mine + "\"}")
                        .statusCode())
                .isEqualTo(201);
        assertThat(http("GET", "/v1/sessions?owner=ana", eve, null).statusCode())
                .isEqualTo(403);
        assertThat(http("POST", "/v1/sessions", eve, "{\"sessionId\":\"" + newSession() + "\",\"owner\":\"ana\"}")
                        .statusCode())
                .isEqualTo(403);
        // a made-up cursor is refused, whatever it contains
        String forged =
                Base64.getUrlEncoder().encodeToString("{\"s\":\"hostile-x\",\"c\":1}".getBytes(StandardCharsets.UTF_8));
        var r = http("GET", "/v1/sessions?cursor=" + forged, ana, null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.parseObject(r.body()).path("code").asText()).isEqualTo("INVALID_MESSAGE");
        // the session's own listing shows it to its owner
        assertThat(http("GET", "/v1/sessions", ana, null).body()).contains(mine);
    }

    // ------------------------------------------------------------------ 6. compaction

    @Test
    void oneMessageOverTheItemLimitDoesNotFreezeCompactionOrHydration() {
        String s = newSession();
        try (WsClient a = agent("agent-a");
                WsClient tab = client("tab")) {
            assertAcked(append(a, s, "r", RUN_STARTED, start("big", "assistant")));
            String piece = "x".repeat(90_000);
            for (int i = 0; i < 6; i++) assertAcked(append(a, s, "r", delta("big", piece))); // 540 KB: over 400 KB
            assertAcked(append(a, s, "r", end("big"), "{\"type\":\"run.completed\",\"data\":{}}"));
            for (int i = 0; i < 40; i++)
                assertAcked(append(a, s, null, "{\"type\":\"custom\",\"data\":{\"name\":\"n\"}}"));
            assertAcked(append(a, s, "r2", RUN_STARTED, "{\"type\":\"run.completed\",\"data\":{}}"));
            // the watermark catches up (the writer is answered before its append's compaction pass):
            // a hydrate re-reads no event, and the state is exactly the fold of the log
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> stack.services().sessions().hydrate(s).eventsRead() == 0);
            var h = stack.services().sessions().hydrate(s);
            assertThat(h.state().toJson())
                    .isEqualTo(
                            Assembler.fold(log(s).stream().map(Event::fromJson).toList())
                                    .toJson());
            // and a new tab hydrates it over the WebSocket, in frames that each fit one message
            tab.request(
                    Json.object().put("action", "subscribe").put("sessionId", s).put("hydrate", true));
            List<ObjectNode> parts = tab.framesOfType("snapshot");
            SessionState state = SnapshotParts.join(parts);
            assertThat(((SessionState.Message) state.items().get(0)).text()).hasSize(6 * 90_000);
        }
    }

    // ------------------------------------------------------------------ 7. run tree

    @Test
    void aSubRunNeedsARunningParentSoACancelCannotLoop() {
        String s = newSession();
        try (WsClient a = agent("agent-a");
                WsClient user = client("user-1")) {
            List<String> before = log(s);
            assertRefused(
                    append(a, s, "c1", "{\"type\":\"run.started\",\"data\":{\"parentRunId\":\"c2\"}}"),
                    "RUN_NOT_FOUND");
            assertThat(log(s)).isEqualTo(before);
            assertAcked(append(a, s, "c1", RUN_STARTED));
            assertAcked(append(a, s, "c2", "{\"type\":\"run.started\",\"data\":{\"parentRunId\":\"c1\"}}"));
            // c1 can never become c2's child: it exists already
            before = log(s);
            assertRefused(
                    append(a, s, "c1", "{\"type\":\"run.started\",\"data\":{\"parentRunId\":\"c2\"}}"), "RUN_EXISTS");
            assertThat(log(s)).isEqualTo(before);
            ObjectNode cancel = user.request(Json.object()
                    .put("action", "control")
                    .put("sessionId", s)
                    .put("runId", "c1")
                    .put("command", "cancel"));
            assertAcked(cancel);
            assertThat(stack.services().sessions().run(s, "c2").state()).isEqualTo(RunState.STOP_REQUESTED);
            // a fenced parent takes no new child
            assertRefused(
                    append(a, s, "c3", "{\"type\":\"run.started\",\"data\":{\"parentRunId\":\"c1\"}}"), "RUN_FENCED");
            // (the stop's own events may still be added by the sweeper; nothing of c3 is stored)
            assertThat(log(s)).noneMatch(e -> e.contains("\"c3\""));
        }
    }

    // ------------------------------------------------------------------ 8. read amplification

    @Test
    void aViewerReplayingALargeSessionIsBoundedByItsReadBudget() {
        String s = newSession();
        try (WsClient a = agent("agent-a")) {
            String text = "y".repeat(30_000);
            for (int i = 0; i < 40; i++)
                assertAcked(append(
                        a, s, null, "{\"type\":\"custom\",\"data\":{\"name\":\"n\",\"payload\":\"" + text + "\"}}"));
        }
        String viewer = DevTokens.mint(
                LOCAL, "peeker", "viewer", List.of(Grant.prefix("hostile-", Capability.READ)), Duration.ofMinutes(10));
        try (WsClient v = WsClient.connectRaw(stack.webSocketUrl(), "token=" + viewer)) {
            List<String> codes = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                ObjectNode answer = subscribe(v, s, 0);
                codes.add(
                        answer.path("type").asText().equals("subscribed")
                                ? "subscribed complete="
                                        + answer.path("complete").asBoolean()
                                : answer.path("code").asText());
            }
            long received = v.framesOfType("events").stream()
                    .mapToLong(f -> Json.write(f).getBytes(StandardCharsets.UTF_8).length)
                    .sum();
            // 5 full replays would be 6 MB; the budget (256 KiB a minute, charged every 256 KiB) stops it well before
            assertThat(received).isLessThan(1024 * 1024);
            assertThat(codes).contains("RATE_LIMITED");
            assertThat(codes.get(0)).isEqualTo("subscribed complete=false");
        }
    }

    // ------------------------------------------------------------------ 9. viewers growing the log

    @Test
    void viewersCannotGrowALogWithPresenceNorDisguiseThemselves() {
        String s = newSession();
        try (WsClient a = agent("agent-a")) {
            assertAcked(append(a, s, null, "{\"type\":\"custom\",\"data\":{\"name\":\"exists\"}}"));
        }
        String viewer = token("lurker", "viewer", Capability.READ);
        for (int i = 0; i < 8; i++) {
            try (WsClient v = WsClient.connectRaw(stack.webSocketUrl(), "token=" + viewer + "&instance=tab-" + i)) {
                assertThat(subscribe(v, s, 0).path("type").asText()).isEqualTo("subscribed");
            }
        }
        List<Event> joins = log(s).stream()
                .map(Event::fromJson)
                .filter(e -> e.type() == EventType.PRESENCE_JOINED)
                .toList();
        assertThat(joins).hasSizeLessThanOrEqualTo(LIMITS.presenceJoinsPerMinute());
        // member ids are principal/instance: unambiguous, and never a connection id
        assertThat(joins).allSatisfy(e -> assertThat(e.dataText("memberId")).startsWith("lurker/tab-"));
        // labels others will see cannot carry bidi overrides or control characters
        assertThatThrownBy(() -> WsClient.connectRaw(
                        stack.webSocketUrl(),
                        "token=" + viewer + "&label="
                                + URLEncoder.encode("admin\u202Egnp.exe", StandardCharsets.UTF_8)))
                .hasRootCauseMessage("Unexpected HTTP response status code 400");
    }

    // ------------------------------------------------------------------ low / info

    @Test
    void aWriterCannotSmuggleServiceFieldsSuchAsStoppedAtSeq() {
        String s = newSession();
        try (WsClient a = agent("agent-a")) {
            assertAcked(append(a, s, "r", RUN_STARTED));
            List<String> before = log(s);
            ObjectNode refused =
                    append(a, s, "r", "{\"type\":\"run.failed\",\"data\":{\"reason\":\"x\",\"stoppedAtSeq\":1}}");
            assertRefused(refused, "INVALID_MESSAGE");
            assertThat(refused.path("details").path("field").asText()).isEqualTo("events[0].data.stoppedAtSeq");
            assertThat(log(s)).isEqualTo(before);
        }
    }

    @Test
    void concurrentSubscribesNeverExceedTheCap() throws Exception {
        try (WsClient c = client("flooder")) {
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<ObjectNode>> answers = new ArrayList<>();
            String prefix = newSession();
            for (int i = 0; i < 130; i++) {
                String s = prefix + "-" + i;
                answers.add(pool.submit(() -> subscribe(c, s, 0)));
            }
            int subscribed = 0;
            int capped = 0;
            for (Future<ObjectNode> f : answers) {
                ObjectNode a = f.get();
                if ("subscribed".equals(a.path("type").asText())) subscribed++;
                else if ("RATE_LIMITED".equals(a.path("code").asText())) capped++;
            }
            pool.shutdown();
            assertThat(subscribed).isEqualTo(100);
            assertThat(capped).isEqualTo(30);
        }
    }

    @Test
    void malformedInputIsRefusedWithAFixedMessageThatNamesNoParserInternals() {
        String s = newSession();
        // a number longer than the parser allows: its own exception would name the parser's settings
        var r = http(
                "POST",
                "/v1/sessions/" + s + "/events",
                token("eve", "client", Capability.APPEND),
                "{\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\",\"payload\":" + "9".repeat(60) + "}}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.parseObject(r.body()).path("code").asText()).isEqualTo("MALFORMED_JSON");
        assertThat(r.body())
                .doesNotContain("StreamReadConstraints")
                .doesNotContain("com.fasterxml")
                .doesNotContain("jackson");
        try (WsClient eve = client("eve")) {
            eve.send("{\"action\":\"append\",\"requestId\":\"bad-1\",\"sessionId\":\"" + s + "\",\"events\":["
                    + "[".repeat(2000));
            ObjectNode answer =
                    eve.await(f -> "bad-1".equals(f.path("requestId").asText()), Duration.ofSeconds(20));
            assertRefused(answer, "MALFORMED_JSON");
            assertThat(answer.path("message").asText())
                    .doesNotContain("StreamReadConstraints")
                    .doesNotContain("getMax");
        }
        assertThat(log(s)).isEmpty();
    }

    @Test
    void onlyAnOperatorRevokesAndARevokedSubjectStopsOnItsLiveSocket() {
        String s = newSession();
        String operator = DevTokens.mint(
                LOCAL, "operator", "client", List.of(Grant.all(Capability.ADMIN)), Duration.ofMinutes(5));
        String tenantAdmin = token("tenant-admin", "client", Capability.ADMIN);
        try (WsClient leaver = client("leaver")) {
            assertAcked(append(leaver, s, null, start("m", "user"), end("m")));
            // admin on a prefix is not enough: revocation is global
            assertThat(http("POST", "/v1/admin/revocations", tenantAdmin, "{\"subject\":\"leaver\"}")
                            .statusCode())
                    .isEqualTo(403);
            var revoked =
                    http("POST", "/v1/admin/revocations", operator, "{\"subject\":\"leaver\",\"keepForSeconds\":3600}");
            assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(201);
            List<String> before = log(s);
            assertRefused(append(leaver, s, null, start("m2", "user")), "UNAUTHORIZED");
            assertThat(log(s)).isEqualTo(before);
        }
    }

    static HttpResponse<String> http(String method, String path, String token, String body) {
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
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
