package io.durablesessions.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What needs no service: arguments, defaults, formats, pacing. */
class CliUnitTest {

    record Result(int code, String out, String err) {}

    static Result ds(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(
                args,
                new Ds.Context(new PrintWriter(out), new PrintWriter(err), new ByteArrayInputStream(new byte[0]), env));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpListsEveryCommandAndTheExitCodes() {
        Result r = ds(Map.of(), "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains(
                        "tail",
                        "get",
                        "events",
                        "export",
                        "replay",
                        "delete",
                        "revoke",
                        "tokens",
                        "doctor",
                        "Exit codes:",
                        "3   the service refused the token",
                        "4   no such session",
                        "5   nothing answered");
        assertThat(ds(Map.of(), "tail", "--help").out()).contains("--after", "--hydrate", "--json", "--count");
        assertThat(ds(Map.of(), "--version").out()).startsWith("ds (durable-sessions) ");
    }

    @Test
    void usageErrorsAreExitCode2WithOneLine() {
        assertThat(ds(Map.of()).code()).isEqualTo(ExitCodes.USAGE);
        Result unknown = ds(Map.of(), "frob");
        assertThat(unknown.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("Unmatched argument", "'ds --help' shows the usage");
        Result badId = ds(Map.of(), "get", "bad id");
        assertThat(badId.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(badId.err()).contains("ds get: SESSION 'bad id' is not a session id");
        assertThat(ds(Map.of(), "tail", "s", "--after", "-1").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "tail", "s", "--after", "3", "--hydrate").code())
                .isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "revoke").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "revoke", "--jti", "a", "--subject", "b").code())
                .isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "revoke", "--subject", "a b").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "replay", "s", "--speed", "0").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "replay", "s", "--max-gap", "soon").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "get", "s", "--token", "t", "--hs256-secret", "x".repeat(32))
                        .code())
                .isEqualTo(ExitCodes.USAGE);
        assertThat(ds(Map.of(), "get", "s", "--hs256-secret", "x".repeat(32)).err())
                .contains("--hs256-secret needs --issuer");
        assertThat(ds(Map.of(), "get", "s", "--http", "ftp://x").err()).contains("--http must be a http or https URL");
        // a deployed stage without a token: said before anything is sent
        Result noToken = ds(
                Map.of(), "get", "s", "--http", "https://api.example.invalid", "--ws", "wss://ws.example.invalid/prod");
        assertThat(noToken.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(noToken.err()).contains("no token for api.example.invalid");
        // doctor cannot run the kit on one token
        Result doctor = ds(
                Map.of(),
                "doctor",
                "--http",
                "https://api.example.invalid",
                "--ws",
                "wss://ws.example.invalid/prod",
                "--token",
                "t");
        assertThat(doctor.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(doctor.err()).contains("doctor needs tokens for several principals");
    }

    @Test
    void targetsComeFromOptionsThenEnvironmentThenTheLocalStack() {
        Target local = Target.resolve(null, null, null, null, null, null, null, Map.of());
        assertThat(local.webSocketUrl()).isEqualTo(URI.create("ws://127.0.0.1:8787/local"));
        assertThat(local.httpUrl()).isEqualTo(URI.create("http://127.0.0.1:8787"));
        assertThat(local.usesLocalDevelopmentSecret()).isTrue();
        Target port = Target.resolve(null, null, null, null, null, null, null, Map.of("DS_LOCAL_PORT", "9000"));
        assertThat(port.httpUrl()).isEqualTo(URI.create("http://127.0.0.1:9000"));
        Map<String, String> env = Map.of(
                "DS_WS_URL", "wss://a.example/prod", "DS_HTTP_URL", "https://b.example/", "DS_TOKEN", "env-token");
        Target fromEnv = Target.resolve(null, null, null, null, null, null, null, env);
        assertThat(fromEnv.webSocketUrl()).isEqualTo(URI.create("wss://a.example/prod"));
        assertThat(fromEnv.httpUrl()).isEqualTo(URI.create("https://b.example"));
        assertThat(fromEnv.token(Target.Access.READ)).isEqualTo("env-token");
        Target given =
                Target.resolve("ws://127.0.0.1:1/local", "http://127.0.0.1:1", "given", null, null, null, null, env);
        assertThat(given.token(Target.Access.ADMIN)).isEqualTo("given");
        assertThat(Target.isLoopback(URI.create("http://localhost:1"))).isTrue();
        assertThat(Target.isLoopback(URI.create("http://127.0.0.2:1"))).isTrue();
        assertThat(Target.isLoopback(URI.create("http://[::1]:1"))).isTrue();
        assertThat(Target.isLoopback(URI.create("https://example.com"))).isFalse();
        assertThat(Target.isLoopback(URI.create("http://10.0.0.1"))).isFalse();
    }

    @Test
    void mintedTokensCarryJustTheRightsTheirCommandNeeds() {
        Target t = Target.resolve(null, null, null, "s".repeat(32), "my-issuer", null, "me", Map.of());
        ObjectNode read = claims(t.token(Target.Access.READ));
        assertThat(read.path("iss").asText()).isEqualTo("my-issuer");
        assertThat(read.path("sub").asText()).isEqualTo("me");
        assertThat(read.path("role").asText()).isEqualTo("viewer");
        assertThat(read.path("grants").get(0).path("all").asBoolean()).isTrue();
        assertThat(read.path("grants").get(0).path("caps").toString()).isEqualTo("[\"read\"]");
        ObjectNode admin = claims(t.token(Target.Access.ADMIN));
        assertThat(admin.path("role").asText()).isEqualTo("client");
        assertThat(admin.path("grants").get(0).path("caps").toString()).contains("admin", "control");
        // the local default: the local issuer, for loopback URLs only
        Target local = Target.resolve(null, null, null, null, null, null, null, Map.of());
        assertThat(claims(local.token(Target.Access.WRITE)).path("iss").asText())
                .isEqualTo(AuthConfig.LOCAL_ISSUER);
        assertThat(local.connectToken(Target.Access.READ)).isNotEqualTo(local.connectToken(Target.Access.READ));
    }

    static ObjectNode claims(String jwt) {
        return Json.parseObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1])));
    }

    @Test
    void eventLinesSayWhatHappenedInAFewWords() {
        EventLines lines = new EventLines(ZoneOffset.UTC);
        ObjectNode delta = Json.parseObject("""
                {"seq":12,"sessionId":"s","type":"text.delta","agentId":"agent-1","runId":"run-1","ts":1764456000123,
                 "data":{"messageId":"m-1","text":"Hello\\n\\"you\\""}}""");
        assertThat(lines.line(delta))
                .matches("#12 +22:40:00\\.123 +text\\.delta +agent-1 +run-1 +m-1 \"Hello\\\\n\\\\\"you\\\\\"\"");
        ObjectNode stop = Json.parseObject("""
                {"seq":40,"sessionId":"s","type":"run.stop_requested","agentId":"service","runId":"run-1","ts":0,
                 "data":{"command":"cancel","by":"ana","stoppedAtSeq":39}}""");
        assertThat(lines.line(stop)).endsWith("by ana, stopped at seq 39");
        ObjectNode unknown = Json.parseObject("""
                {"seq":41,"sessionId":"s","type":"future.kind","agentId":"a","ts":0,"data":{"x":1}}""");
        assertThat(lines.line(unknown)).endsWith("{\"x\":1}");
        String longText = "x".repeat(1000);
        assertThat(EventLines.quote(longText)).hasSize(EventLines.MAX_TEXT + 1).endsWith("…");
    }

    @Test
    void progressSaysHowFarALongReadGot() {
        StringWriter err = new StringWriter();
        Progress p = new Progress(new PrintWriter(err), "ds export", 4000, 0);
        p.update(1000, 1000);
        p.update(3000, 3000);
        assertThat(err.toString().split("\n")).hasSize(2);
        assertThat(err.toString())
                .contains("ds export: 1000 events, seq 1000 of 4000 (25%), ", "seq 3000 of 4000 (75%)", "events/s");
        StringWriter quiet = new StringWriter();
        new Progress(new PrintWriter(quiet), "ds export", 4000).update(10, 10); // the first two seconds say nothing
        assertThat(quiet.toString()).isEmpty();
    }

    @Test
    void durationsReadAsPeopleWriteThem() {
        assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(DurationConverter.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(DurationConverter.parse("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(DurationConverter.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(DurationConverter.parse("PT30S")).isEqualTo(Duration.ofSeconds(30));
        assertThat(DurationConverter.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(DurationConverter.parse("2.5")).isEqualTo(Duration.ofMillis(2500));
        assertThat(DurationConverter.parse("soon")).isNull();
        assertThat(DurationConverter.format(Duration.ofMillis(200))).isEqualTo("200ms");
        assertThat(DurationConverter.format(Duration.ofSeconds(3))).isEqualTo("3s");
        assertThat(DurationConverter.format(Duration.ofMinutes(2))).isEqualTo("2m");
    }

    @Test
    void replayPausesAreTheLogsGapsDividedBySpeedAndCapped() {
        assertThat(Pacer.pause(1000, 1400, 1, Duration.ofSeconds(5))).isEqualTo(Duration.ofMillis(400));
        assertThat(Pacer.pause(1000, 1400, 4, Duration.ofSeconds(5))).isEqualTo(Duration.ofMillis(100));
        assertThat(Pacer.pause(1000, 1400, 0.5, Duration.ofSeconds(5))).isEqualTo(Duration.ofMillis(800));
        assertThat(Pacer.pause(0, 60_000, 1, Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(5));
        assertThat(Pacer.pause(0, 60_000, 1, Duration.ZERO)).isEqualTo(Duration.ZERO);
        // a clock that went back (another writer's server clock): no pause, never a negative one
        assertThat(Pacer.pause(2000, 1000, 1, Duration.ofSeconds(5))).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> new Pacer(0, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
