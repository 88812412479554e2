package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Throws ≥ 10,000 generated hostile frames (seeded: {@code -Dfuzz.seed}) at the local stack from
 * an attacker holding a valid token for its own tenant, then checks that the victim's log is
 * byte-identical, that no frame caused an internal error, and that a normal client is still served.
 */
class HostileInputFuzzTest {
    static final long SEED = Long.getLong("fuzz.seed", 20261129L);
    static final int FRAMES = Integer.getInteger("fuzz.frames", 10_000);
    static final int CONNECTIONS = 8;
    static final String VICTIM = "victim:chat-1";
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(
                EmbeddedStack.Config.defaults().withLimits(Services.Limits.DEFAULTS.withMessagesPerSecond(0)));
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static List<String> log(String session) {
        return StoredLog.raw(stack, session);
    }

    @Test
    void hostileFramesChangeNothingTheyMayNotAndNeverBreakTheService() {
        System.out.println("fuzz seed " + SEED + ", frames " + FRAMES);
        // a normal conversation in the victim's session
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), VICTIM, "victim-agent")) {
            agent.startReply("run-1", "m-1");
            for (int i = 0; i < 20; i++) agent.delta("run-1", "m-1", "tok" + i);
            agent.endReply("run-1", "m-1");
        }
        List<String> victimBefore = log(VICTIM);

        String attackerToken = DevTokens.mint(
                AuthConfig.localDevelopment(),
                "mallory",
                "agent",
                List.of(Grant.prefix(
                        "attacker:", Capability.READ, Capability.APPEND, Capability.CONTROL, Capability.AGENT)),
                Duration.ofHours(1));
        Random rnd = new Random(SEED);
        List<WsClient> attackers = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++)
            attackers.add(WsClient.connectRaw(stack.webSocketUrl(), "token=" + attackerToken));
        Map<String, Integer> kinds = new HashMap<>();
        int[] sent = new int[CONNECTIONS];
        for (int i = 0; i < FRAMES; i++) {
            Hostile h = hostile(rnd);
            kinds.merge(h.kind(), 1, Integer::sum);
            int c = i % CONNECTIONS;
            attackers.get(c).send(h.frame());
            sent[c]++;
            if (i % 200 == 199) WsClient.sleep(20); // bounded pace: loopback only, no unbounded queueing
        }
        System.out.println("fuzz frame kinds: " + kinds);
        for (int c = 0; c < CONNECTIONS; c++) {
            WsClient a = attackers.get(c);
            int expected = sent[c];
            await().atMost(Duration.ofSeconds(240)).until(() -> answers(a) >= expected || a.closed.isDone());
        }
        List<ObjectNode> all =
                attackers.stream().flatMap(a -> a.frames.stream()).toList();
        Map<String, Long> codes = new HashMap<>();
        all.forEach(f -> codes.merge(
                f.has("code") ? f.get("code").asText() : f.path("type").asText(), 1L, Long::sum));
        System.out.println("fuzz answers: " + codes);

        assertThat(attackers)
                .allSatisfy(a -> assertThat(a.closed.isDone())
                        .as("connection stayed open")
                        .isFalse());
        assertThat(all).noneSatisfy(f -> assertThat(f.path("code").asText()).isEqualTo("INTERNAL"));
        assertThat(all).noneSatisfy(f -> assertThat(f.path("message").asText()).isEqualTo("Internal server error"));
        assertThat(log(VICTIM)).as("victim log byte-identical").isEqualTo(victimBefore);
        attackers.forEach(WsClient::close);

        // the service still serves a normal client
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=victim-user")) {
            ObjectNode ok = tab.request(Json.object()
                    .put("action", "subscribe")
                    .put("sessionId", VICTIM)
                    .put("afterSeq", 0));
            assertThat(ok.path("type").asText()).isEqualTo("subscribed");
            await().atMost(Duration.ofSeconds(20)).until(() -> tab.rawSeqs().size() >= victimBefore.size());
            assertThat(tab.rawSeqs().subList(0, victimBefore.size()))
                    .hasSize(victimBefore.size())
                    .doesNotHaveDuplicates();
        }
    }

    /** Answer frames (not live events) received on a connection. */
    static int answers(WsClient c) {
        return (int) c.frames.stream()
                .filter(f -> !"events".equals(f.path("type").asText())
                        && !"snapshot".equals(f.path("type").asText()))
                .count();
    }

    record Hostile(String kind, String frame) {}

    /** JSON string contents as they appear in the frame's source (escapes included, lone surrogates too). */
    static final String[] WEIRD = {
        "",
        " ",
        "\\u0000",
        "\\ud800",
        "\\udfff",
        "\\u202e",
        "😀",
        "é",
        "\\\\",
        "\\\"",
        "../../etc",
        "a".repeat(129),
        "VICTIM",
        "victim:chat-1",
        "attacker:x",
        "null",
        "<script>",
        "${jndi:x}",
        "%00",
        "\\n"
    };

    static final String[] NUMBERS = {
        "-1",
        "0",
        "1.5",
        "1e309",
        "9007199254740992",
        "9223372036854775807",
        "99999999999999999999999999",
        "\"7\"",
        "null",
        "true",
        "[]",
        "{}",
        "NaN",
        "-0"
    };

    static Hostile hostile(Random r) {
        String session = r.nextInt(3) == 0 ? VICTIM : "attacker:s" + r.nextInt(20);
        return switch (r.nextInt(15)) {
            case 0 -> new Hostile("malformed", garble(r, validAppend(r, session)));
            case 1 ->
                new Hostile(
                        "unknown-action",
                        "{\"action\":"
                                + pick(r, new String[] {
                                    "\"dance\"", "42", "null", "[]", "{}", "\"$connect\"", "\"APPEND\"", "\"append \""
                                })
                                + ",\"sessionId\":\"" + session + "\"}");
            case 2 ->
                new Hostile(
                        "wrong-types",
                        "{\"action\":\"append\",\"sessionId\":" + pick(r, NUMBERS) + ",\"events\":"
                                + pick(r, new String[] {"\"x\"", "{}", "[1]", "[[]]", "null"}) + "}");
            case 3 ->
                new Hostile("missing-fields", pick(r, new String[] {
                    "{\"action\":\"append\"}",
                    "{\"action\":\"subscribe\"}",
                    "{\"action\":\"control\",\"sessionId\":\"" + session + "\"}",
                    "{\"action\":\"heartbeat\",\"sessionId\":\"" + session + "\"}",
                    "{\"action\":\"append\",\"sessionId\":\"" + session + "\",\"events\":[{}]}"
                }));
            case 4 ->
                new Hostile(
                        "deep-nesting",
                        "{\"action\":\"append\",\"sessionId\":\"" + session
                                + "\",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"n\",\"payload\":"
                                + "[".repeat(33 + r.nextInt(2000)) + "]".repeat(0) + "}}]}");
            case 5 ->
                new Hostile(
                        "enormous-string",
                        "{\"action\":\"append\",\"sessionId\":\"" + session
                                + "\",\"events\":[{\"type\":\"text.delta\",\"data\":{\"messageId\":\"m\",\"text\":\""
                                + "x".repeat(90_000 + r.nextInt(30_000)) + "\"}}]}");
            case 6 -> new Hostile("unicode-ids", "{\"action\":\"subscribe\",\"sessionId\":\"" + pick(r, WEIRD) + "\"}");
            case 7 ->
                new Hostile(
                        "unicode-data",
                        validAppend(r, session).replace("\"hi\"", "\"" + pick(r, WEIRD) + pick(r, WEIRD) + "\""));
            case 8 ->
                new Hostile(
                        "seq-overflow",
                        "{\"action\":\"" + (r.nextBoolean() ? "subscribe" : "append")
                                + "\",\"sessionId\":\"" + session + "\",\"afterSeq\":" + pick(r, NUMBERS)
                                + ",\"producer\":{\"id\":\"p\",\"epoch\":"
                                + pick(r, NUMBERS) + ",\"seq\":" + pick(r, NUMBERS)
                                + "},\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"o\"}}]}");
            case 9 ->
                new Hostile(
                        "forged-agent",
                        "{\"action\":\"append\",\"sessionId\":\"" + session
                                + "\",\"agentId\":\"victim-agent\",\"events\":[{\"type\":\"custom\",\"agentId\":\"victim-agent\",\"seq\":1,"
                                + "\"data\":{\"name\":\"forged\"}}]}");
            case 10 ->
                new Hostile(
                        "replayed-producer",
                        "{\"action\":\"append\",\"sessionId\":\"" + session
                                + "\",\"producer\":{\"id\":\"replayer\",\"epoch\":0,\"seq\":" + r.nextInt(3)
                                + "},\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"again\"}}]}");
            case 11 ->
                new Hostile(
                        "subscribe-flood",
                        "{\"action\":\"subscribe\",\"sessionId\":\""
                                + (r.nextBoolean() ? VICTIM : "attacker:flood-" + r.nextInt(500))
                                + "\",\"afterSeq\":0}");
            case 12 ->
                new Hostile(
                        "control",
                        "{\"action\":\"control\",\"sessionId\":\"" + session + "\",\"runId\":\"run-1\","
                                + "\"command\":\"" + pick(r, new String[] {"cancel", "interrupt", "steer", "explode"})
                                + "\",\"text\":\"stop\"}");
            case 13 ->
                new Hostile(
                        "service-only-types",
                        "{\"action\":\"append\",\"sessionId\":\"" + session + "\",\"runId\":\"run-1\","
                                + "\"events\":[{\"type\":\""
                                + pick(r, new String[] {
                                    "run.stopped",
                                    "run.stop_requested",
                                    "presence.joined",
                                    "run.steered",
                                    "run.failed",
                                    "run.completed"
                                })
                                + "\",\"data\":{\"stoppedAtSeq\":1}}]}");
            default ->
                new Hostile(
                        "binary-ish",
                        new String(randomBytes(r, 1 + r.nextInt(200)), java.nio.charset.StandardCharsets.ISO_8859_1));
        };
    }

    static String validAppend(Random r, String session) {
        return "{\"action\":\"append\",\"requestId\":\"f" + r.nextInt(1000) + "\",\"sessionId\":\"" + session
                + "\",\"events\":[{\"type\":\"text.delta\",\"data\":{\"messageId\":\"m\",\"text\":\"hi\"}}]}";
    }

    static String garble(Random r, String s) {
        StringBuilder b = new StringBuilder(s);
        int edits = 1 + r.nextInt(4);
        for (int i = 0; i < edits && b.length() > 1; i++) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(3)) {
                case 0 -> b.deleteCharAt(at);
                case 1 -> b.insert(at, "{}[]\",:\\".charAt(r.nextInt(8)));
                default -> b.setLength(at);
            }
        }
        return b.toString();
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static String pick(Random r, String[] options) {
        return options[r.nextInt(options.length)];
    }
}
