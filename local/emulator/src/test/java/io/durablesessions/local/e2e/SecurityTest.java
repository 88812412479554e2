package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.local.EmbeddedStack;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nobody reads, writes or controls a session without a grant: the token matrix at $connect, the
 * grant checks on every message, tenant isolation at fan-out, revocation, and rate limiting.
 */
class SecurityTest {
    static final AuthConfig LOCAL = AuthConfig.localDevelopment();
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(
                EmbeddedStack.Config.defaults().withLimits(Services.Limits.DEFAULTS.withMessagesPerSecond(40)));
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static List<String> log(String session) {
        return StoredLog.raw(stack, session);
    }

    static String token(String subject, String role, Grant... grants) {
        return DevTokens.mint(LOCAL, subject, role, List.of(grants), Duration.ofMinutes(10));
    }

    static WsClient connectWith(String token) {
        return WsClient.connectRaw(stack.webSocketUrl(), "token=" + token);
    }

    static ObjectNode append(WsClient c, String session, String runId, String eventJson) {
        ObjectNode f = Json.object().put("action", "append").put("sessionId", session);
        if (runId != null) f.put("runId", runId);
        f.putArray("events").add(Json.parseObject(eventJson));
        return c.request(f);
    }

    static ObjectNode subscribe(WsClient c, String session) {
        return c.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("afterSeq", 0));
    }

    static final String CUSTOM = "{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}";

    @Test
    void connectingWithoutAValidTokenIsRefusedAtTheHandshake() {
        Instant now = Instant.now();
        Grant all = Grant.all(Capability.READ);
        AuthConfig wrongKey = new AuthConfig(
                LOCAL.issuer(),
                LOCAL.audience(),
                "not-the-local-secret-but-long-enough-0123456789".getBytes(StandardCharsets.UTF_8),
                null,
                null);
        List<String> refused = List.of(
                "",
                "garbage",
                DevTokens.mint(wrongKey, "u", "client", List.of(all), Duration.ofMinutes(5)),
                DevTokens.mint(
                        LOCAL,
                        "u",
                        "client",
                        List.of(all),
                        now.minusSeconds(900),
                        now.minusSeconds(300),
                        "j1",
                        LOCAL.audience()),
                DevTokens.mint(
                        LOCAL,
                        "u",
                        "client",
                        List.of(all),
                        now.plusSeconds(600),
                        now.plusSeconds(900),
                        "j2",
                        LOCAL.audience()),
                DevTokens.mint(LOCAL, "u", "client", List.of(all), now, now.plusSeconds(300), "j3", "some-other-api"));
        for (String t : refused) {
            assertThatThrownBy(() -> connectWith(t))
                    .as("token %s", t)
                    .hasRootCauseMessage("Unexpected HTTP response status code 401");
        }
        assertThatThrownBy(() -> WsClient.connectRaw(stack.webSocketUrl(), ""))
                .hasRootCauseMessage("Unexpected HTTP response status code 401");
    }

    @Test
    void everyMessageIsCheckedAgainstTheConnectionsGrants() {
        String mine = "tenant-a:" + UUID.randomUUID();
        String theirs = "tenant-b:" + UUID.randomUUID();
        try (WsClient agentB = connectWith(token(
                        "agent-b",
                        "agent",
                        Grant.prefix("tenant-b:", Capability.READ, Capability.APPEND, Capability.AGENT)));
                WsClient reader = connectWith(token("reader", "client", Grant.session(mine, Capability.READ)));
                WsClient writer = connectWith(
                        token("writer", "client", Grant.prefix("tenant-a:", Capability.READ, Capability.APPEND)))) {
            assertThat(append(agentB, theirs, "r1", "{\"type\":\"run.started\",\"data\":{}}")
                            .path("type")
                            .asText())
                    .isEqualTo("ack");
            List<String> theirsBefore = log(theirs);

            // wrong session: same answer whether it exists or not, and nothing is sent
            assertThat(subscribe(reader, theirs).path("code").asText()).isEqualTo("FORBIDDEN");
            assertThat(subscribe(reader, "tenant-b:does-not-exist").path("code").asText())
                    .isEqualTo("FORBIDDEN");
            assertThat(reader.framesOfType("events")).isEmpty();
            // missing capability
            assertThat(append(reader, mine, null, CUSTOM).path("code").asText()).isEqualTo("FORBIDDEN");
            assertThat(append(writer, mine, "r9", "{\"type\":\"run.started\",\"data\":{}}")
                            .path("code")
                            .asText())
                    .isEqualTo("FORBIDDEN"); // runs are an agent's to write
            assertThat(writer.request(Json.object()
                                    .put("action", "control")
                                    .put("sessionId", mine)
                                    .put("runId", "r1")
                                    .put("command", "cancel"))
                            .path("code")
                            .asText())
                    .isEqualTo("FORBIDDEN");
            assertThat(append(writer, theirs, null, CUSTOM).path("code").asText())
                    .isEqualTo("FORBIDDEN");
            // allowed
            assertThat(append(writer, mine, null, CUSTOM).path("type").asText()).isEqualTo("ack");
            assertThat(subscribe(reader, mine).path("type").asText()).isEqualTo("subscribed");
            assertThat(log(theirs)).isEqualTo(theirsBefore);
        }
    }

    @Test
    void theWriterIdentityIsTheTokensSubjectWhateverTheFrameClaims() {
        String s = "tenant-a:" + UUID.randomUUID();
        try (WsClient w = connectWith(token("real-writer", "client", Grant.prefix("tenant-a:", Capability.APPEND)))) {
            ObjectNode f =
                    Json.object().put("action", "append").put("sessionId", s).put("agentId", "ceo");
            f.putArray("events")
                    .add(Json.parseObject("{\"type\":\"custom\",\"agentId\":\"ceo\",\"data\":{\"name\":\"x\"}}"));
            assertThat(w.request(f).path("type").asText()).isEqualTo("ack");
            assertThat(Event.fromJson(log(s).get(0)).agentId()).isEqualTo("real-writer");
        }
    }

    @Test
    void aSubscriberNeverReceivesAnotherTenantsEvents() {
        String a = "tenant-a:" + UUID.randomUUID();
        String b = "tenant-b:" + UUID.randomUUID();
        try (WsClient tabA = connectWith(token("tab-a", "client", Grant.prefix("tenant-a:", Capability.READ)));
                WsClient agent = connectWith(
                        token("agent", "agent", Grant.all(Capability.READ, Capability.APPEND, Capability.AGENT)))) {
            assertThat(subscribe(tabA, a).path("type").asText()).isEqualTo("subscribed");
            assertThat(subscribe(tabA, b).path("code").asText()).isEqualTo("FORBIDDEN");
            for (int i = 0; i < 5; i++) {
                append(agent, b, null, CUSTOM);
                append(agent, a, null, CUSTOM);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> tabA.rawSeqs().size() >= log(a).size());
            WsClient.sleep(300);
            assertThat(tabA.framesOfType("events"))
                    .allSatisfy(f -> assertThat(f.get("sessionId").asText()).isEqualTo(a));
        }
    }

    @Test
    void aRevokedTokenStopsAtItsNextMessageAndAtTheNextFanOut() throws Exception {
        String s = "tenant-a:" + UUID.randomUUID();
        String revokedId = "jti-" + UUID.randomUUID();
        String t = DevTokens.mint(
                LOCAL,
                "leaver",
                "client",
                List.of(Grant.prefix("tenant-a:", Capability.READ, Capability.APPEND)),
                Instant.now().minusSeconds(1),
                Instant.now().plusSeconds(600),
                revokedId,
                LOCAL.audience());
        try (WsClient leaver = connectWith(t);
                WsClient writer = connectWith(t);
                WsClient agent = connectWith(
                        token("agent", "agent", Grant.all(Capability.READ, Capability.APPEND, Capability.AGENT)))) {
            assertThat(subscribe(leaver, s).path("type").asText()).isEqualTo("subscribed");
            // wait for the agent's event itself: the subscriber's own presence.joined may arrive first
            long delivered = append(agent, s, null, CUSTOM).path("lastSeq").asLong();
            await().atMost(Duration.ofSeconds(30)).until(() -> leaver.rawSeqs().contains(delivered));
            int before = leaver.rawSeqs().size();

            stack.services().revocations().revokeToken(revokedId, Duration.ofHours(1));
            append(agent, s, null, CUSTOM);
            // the next delivery ends the subscription and closes the connection: nothing more reaches it
            leaver.awaitClose(Duration.ofSeconds(20));
            append(agent, s, null, CUSTOM);
            assertThat(leaver.rawSeqs()).hasSize(before);
            // another connection of the same token is refused at its next message
            assertThat(append(writer, s, null, CUSTOM).path("code").asText()).isEqualTo("UNAUTHORIZED");
            // the signature is still valid, so a new connection opens, but every message is refused
            try (WsClient again = connectWith(t)) {
                assertThat(again.request(Json.object().put("action", "ping"))
                                .path("code")
                                .asText())
                        .isEqualTo("UNAUTHORIZED");
            }
            assertThat(log(s).stream().map(Event::fromJson))
                    .as("nothing of the revoked writer landed")
                    .noneMatch(e ->
                            e.agentId().equals("leaver") && e.type() == io.durablesessions.events.EventType.CUSTOM);
        }
    }

    @Test
    void aFloodFromOneConnectionIsRateLimitedWithAClearCode() {
        try (WsClient c = connectWith(token("flooder", "client", Grant.all(Capability.READ)))) {
            for (int i = 0; i < 120; i++) c.send("{\"action\":\"ping\",\"requestId\":\"p" + i + "\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> c.frames.size() >= 120);
            assertThat(c.frames)
                    .anySatisfy(f -> assertThat(f.path("code").asText()).isEqualTo("RATE_LIMITED"));
            assertThat(c.frames)
                    .filteredOn(f -> "pong".equals(f.path("type").asText()))
                    .isNotEmpty();
            WsClient.sleep(1100);
            assertThat(c.request(Json.object().put("action", "ping"))
                            .path("type")
                            .asText())
                    .isEqualTo("pong");
        }
    }

    @Test
    void browsersCarryTheTokenAsASubprotocolAndGetAnotherOneEchoed() throws Exception {
        String t = token("browser", "client", Grant.all(Capability.READ));
        var ws = java.net.http.HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .subprotocols("durable-sessions", "token." + t)
                .buildAsync(stack.webSocketUrl(), new java.net.http.WebSocket.Listener() {})
                .join();
        assertThat(ws.getSubprotocol()).isEqualTo("durable-sessions");
        ws.abort();
    }
}
