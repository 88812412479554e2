package io.durablesessions.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.Json;
import io.durablesessions.testing.StackSettings;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.TestTokens;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command against a real local stack (in this JVM: real sockets, the embedded DynamoDB), run
 * as {@code ds} runs: the URLs from the environment ({@code DS_WS_URL}, {@code DS_HTTP_URL}), no
 * token given, so ds mints its own with the local development secret. A few cases start {@code ds}
 * as a child process: {@code tokens} (it is scripts/token, which exits by itself) and a tail ended
 * by a signal.
 */
class CliStackTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static TestStack stack;
    static Map<String, String> env;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        // store timers told to doctor below. Generous: on a busy machine the probe's agent took over 2 s to
        // acknowledge a stop, and the service had stopped the run as unacknowledged by then. Only a case
        // that waits for a timer to run out takes that long, and the quick check runs none
        stack = TestStack.start(StackSettings.defaults()
                .withStore(
                        Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofSeconds(3), Duration.ofMillis(200)));
        env = Map.of(
                "DS_WS_URL",
                stack.webSocketUrl().toString(),
                "DS_HTTP_URL",
                stack.httpApiUrl().toString());
    }

    @AfterAll
    static void stop() {
        if (stack != null) stack.close();
    }

    record Result(int code, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n"));
        }
    }

    static Result ds(String... args) {
        return dsWithInput("", args);
    }

    static Result dsWithInput(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(
                args,
                new Ds.Context(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                        env));
        return new Result(code, out.toString(), err.toString());
    }

    static String session(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Appends over the HTTP API as an agent; returns the answer. */
    static ObjectNode append(String session, String token, List<ObjectNode> events) throws Exception {
        ObjectNode body = Json.object();
        ArrayNode list = body.putArray("events");
        events.forEach(list::add);
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + "/v1/sessions/" + session + "/events"))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.parseObject(r.body());
    }

    static ObjectNode event(String type, String json) {
        return Json.parseObject("{\"type\":\"" + type + "\",\"data\":" + json + "}");
    }

    static String agentToken() {
        return TestTokens.devToken("agent-1", "agent");
    }

    /** A short conversation: a user message, a run with a reply and a tool call. */
    static void conversation(String s) throws Exception {
        String agent = agentToken();
        append(
                s,
                TestTokens.devToken("ana", "client"),
                List.of(
                        event("message.start", "{\"messageId\":\"u-1\",\"role\":\"user\"}"),
                        event("text.delta", "{\"messageId\":\"u-1\",\"text\":\"What is the weather?\"}"),
                        event("message.end", "{\"messageId\":\"u-1\"}")));
        ObjectNode run = Json.object().put("type", "run.started");
        run.putObject("data");
        run.put("runId", "run-1");
        List<ObjectNode> reply = new ArrayList<>(List.of(run));
        for (ObjectNode e : List.of(
                event("message.start", "{\"messageId\":\"m-1\",\"role\":\"assistant\"}"),
                event("tool.call", "{\"toolCallId\":\"t-1\",\"name\":\"weather\",\"arguments\":{\"city\":\"Lyon\"}}"),
                event("tool.result", "{\"toolCallId\":\"t-1\",\"result\":{\"sky\":\"clear\"}}"),
                event("text.delta", "{\"messageId\":\"m-1\",\"text\":\"Clear skies \"}"),
                event("text.delta", "{\"messageId\":\"m-1\",\"text\":\"in Lyon.\"}"),
                event("message.end", "{\"messageId\":\"m-1\"}"),
                event("run.completed", "{}"))) {
            e.put("runId", "run-1");
            reply.add(e);
        }
        append(s, agent, reply);
    }

    static List<ObjectNode> jsonLines(String text) {
        List<ObjectNode> out = new ArrayList<>();
        for (String line : text.split("\n")) if (!line.isBlank()) out.add(Json.parseStored(line));
        return out;
    }

    static List<ObjectNode> stored(String s) {
        return stack.storedLog(s).stream()
                .map(e -> Json.parseStored(e.toJson()))
                .toList();
    }

    // ----------------------------------------------------------------------------- get, events

    @Test
    void getPrintsTheConversationRunsAndToolsOrOneJsonObject() throws Exception {
        String s = session("get");
        conversation(s);
        Result text = ds("get", s);
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out())
                .contains(
                        "session   " + s,
                        "head seq  11",
                        "run-1",
                        "completed",
                        "[user ana, complete",
                        "What is the weather?",
                        "[assistant agent-1 run-1, complete",
                        "Clear skies in Lyon.",
                        "[tool t-1 weather, done",
                        "{\"city\":\"Lyon\"}",
                        "{\"sky\":\"clear\"}");

        Result json = ds("get", s, "--json");
        assertThat(json.code()).isZero();
        ObjectNode both = Json.parseStored(json.out().strip());
        assertThat(both.path("session").path("sessionId").asText()).isEqualTo(s);
        assertThat(both.path("snapshot").path("headSeq").asLong()).isEqualTo(11);
        assertThat(both.path("snapshot").path("state").path("items")).hasSize(3);
    }

    @Test
    void getOfASnapshotBeyondTheHttpLimitHydratesOverTheWebSocket() throws Exception {
        String s = session("big");
        String agent = agentToken();
        append(s, agent, List.of(event("message.start", "{\"messageId\":\"m-1\",\"role\":\"assistant\"}")));
        String chunk = "x".repeat(90 * 1024);
        for (int i = 0; i < 60; i++) { // 60 × 90 KiB: over the HTTP snapshot's 5 MiB
            append(s, agent, List.of(event("text.delta", "{\"messageId\":\"m-1\",\"text\":\"" + chunk + "\"}")));
        }
        Result json = ds("get", s, "--json");
        assertThat(json.code()).as(json.err()).isZero();
        ObjectNode snapshot = (ObjectNode) Json.parseStored(json.out().strip()).path("snapshot");
        assertThat(snapshot.path("headSeq").asLong()).isGreaterThanOrEqualTo(61);
        assertThat(snapshot.path("state").path("items").get(0).path("text").asText())
                .hasSize(60 * chunk.length());
    }

    @Test
    void eventsAfterASeqArePagedJsonLinesUpToTheLimit() throws Exception {
        String s = session("events");
        conversation(s);
        Result r = ds("events", s, "--after", "2", "--limit", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(jsonLines(r.out())).extracting(e -> e.path("seq").asLong()).containsExactly(3L, 4L, 5L);
        assertThat(jsonLines(r.out())).isEqualTo(stored(s).subList(2, 5));
        assertThat(ds("events", s, "--after", "11").out()).isEmpty();
        assertThat(ds("events", session("none")).code()).isEqualTo(ExitCodes.NOT_FOUND);
    }

    // ----------------------------------------------------------------------------- export

    @Test
    void exportOfMoreThanOnePageIsTheWholeLogInOrder(@TempDir Path dir) throws Exception {
        String s = session("export");
        String agent = agentToken();
        int total = 2_500; // two and a half pages of 1000
        for (int i = 0; i < total; i += 64) {
            List<ObjectNode> batch = new ArrayList<>();
            for (int j = i; j < Math.min(total, i + 64); j++)
                batch.add(event("custom", "{\"name\":\"n" + j + "\",\"payload\":{\"j\":" + j + "}}"));
            append(s, agent, batch);
        }
        Path file = dir.resolve("export.jsonl");
        Result r = ds("export", s, "-o", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("ds export: " + total + " events (seq 1-" + total + ")", "to " + file);
        List<ObjectNode> lines = jsonLines(Files.readString(file));
        assertThat(lines).hasSize(total);
        assertThat(lines)
                .extracting(e -> e.path("seq").asLong())
                .isSorted()
                .doesNotHaveDuplicates()
                .startsWith(1L)
                .endsWith((long) total);
        assertThat(lines).isEqualTo(stored(s));
        assertThat(Files.exists(dir.resolve("export.jsonl.part"))).isFalse();

        Result stdout = ds("export", s, "--quiet");
        assertThat(stdout.out()).isEqualTo(Files.readString(file));
        assertThat(stdout.err()).isEmpty();

        // across a page boundary
        Result part = ds("events", s, "--after", "998", "--limit", "4");
        assertThat(jsonLines(part.out()))
                .extracting(e -> e.path("seq").asLong())
                .containsExactly(999L, 1000L, 1001L, 1002L);
        assertThat(ds("export", session("none"), "-o", dir.resolve("none.jsonl").toString())
                        .code())
                .isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(Files.exists(dir.resolve("none.jsonl"))).isFalse();
    }

    // ----------------------------------------------------------------------------- replay

    @Test
    void replayPrintsTheLogAtItsPaceAsLinesJsonOrText() throws Exception {
        String s = session("replay");
        conversation(s);
        Result lines = ds("replay", s, "--speed", "1000", "--max-gap", "100ms");
        assertThat(lines.code()).as(lines.err()).isZero();
        assertThat(lines.lines()).hasSize(11);
        assertThat(lines.lines().get(0)).startsWith("#1 ").contains("message.start", "ana", "u-1 user");
        assertThat(lines.lines().get(10)).startsWith("#11 ").contains("run.completed", "run-1");

        Result json = ds("replay", s, "--max-gap", "0", "--json");
        assertThat(json.code()).as(json.err()).isZero();
        assertThat(jsonLines(json.out())).isEqualTo(stored(s));

        Result text = ds("replay", s, "--max-gap", "0", "--text");
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).contains("[user ana] What is the weather?", "[assistant agent-1] Clear skies in Lyon.");
        assertThat(ds("replay", session("none")).code()).isEqualTo(ExitCodes.NOT_FOUND);
    }

    // ----------------------------------------------------------------------------- tail

    /** A tail run in this JVM: its command object (to cut its connection) and its exit code to come. */
    record RunningTail(TailCommand command, CompletableFuture<Integer> exit, StringWriter out, StringWriter err) {}

    static RunningTail startTail(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(
                new Ds.Context(new PrintWriter(out), new PrintWriter(err), new ByteArrayInputStream(new byte[0]), env));
        TailCommand tail = cl.getSubcommands().get("tail").getCommand();
        String[] all = new String[args.length + 1];
        all[0] = "tail";
        System.arraycopy(args, 0, all, 1, args.length);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute(all));
        return new RunningTail(tail, exit, out, err);
    }

    /**
     * Waits until the tail's subscription was answered. A tail that ends first (a refusal, or its
     * --count reached by events posted before the answer: the service posts a subscriber's own
     * presence.joined before it answers the subscribe) fails here with what it printed.
     */
    static void awaitSubscribed(RunningTail t) {
        await().atMost(WAIT)
                .until(() -> t.exit().isDone()
                        || (t.command().subscriber != null
                                && t.command().subscriber.connects() >= 1));
        assertThat(t.exit())
                .as("the tail ended before it was subscribed; stderr: %s; stdout: %s", t.err(), t.out())
                .isNotDone();
    }

    @Test
    void tailResumesAfterAForcedDisconnectWithEveryEventOnceInOrder() throws Exception {
        String s = session("tail");
        RunningTail tail = startTail(s, "--json");
        try {
            awaitSubscribed(tail);
            CompletableFuture<Boolean> streamed = CompletableFuture.supplyAsync(() -> {
                try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                        .connectQuery(() -> "token=" + URLEncoder.encode(agentToken(), StandardCharsets.UTF_8)
                                + "&instance=agent-1")
                        .coalesceWindow(Duration.ofMillis(10))
                        .connect()) {
                    DurableAgent.Run run = agent.startRun("run-1");
                    DurableAgent.Reply reply = run.startReply("m-1");
                    long next = System.nanoTime();
                    for (int i = 0; i < 300; i++) { // a model streaming 300 tokens at 200/s
                        reply.delta("t" + i + " ");
                        next += 5_000_000L;
                        LockSupport.parkNanos(next - System.nanoTime());
                    }
                    return reply.end() && run.complete();
                }
            });
            // cut the tail's connection mid-stream, as a network cut would (no close frame)
            await().atMost(WAIT)
                    .alias("10 events tailed; stderr: " + tail.err() + "; stored "
                            + stack.storedLog(s).size() + "; streamed " + streamed)
                    .until(() -> jsonLines(tail.out().toString()).size() >= 10);
            tail.command().subscriber.dropConnection();
            assertThat(streamed.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            long head = stack.storedLog(s).size();
            await().atMost(WAIT).until(() -> {
                List<ObjectNode> got = jsonLines(tail.out().toString());
                return !got.isEmpty() && got.get(got.size() - 1).path("seq").asLong() >= head;
            });
            await().atMost(WAIT).until(() -> tail.command().subscriber.connects() >= 2);
        } finally {
            tail.command().stop();
        }
        assertThat(tail.exit().get(30, TimeUnit.SECONDS)).isZero();
        List<ObjectNode> got = jsonLines(tail.out().toString());
        List<ObjectNode> log = stored(s);
        assertThat(got)
                .extracting(e -> e.path("seq").asLong())
                .doesNotHaveDuplicates()
                .isSorted();
        assertThat(got).isEqualTo(log.subList(0, got.size()));
        assertThat(tail.err().toString())
                .contains("ds tail: tailing " + s, "disconnected", "reconnected; resumed after seq");
    }

    @Test
    void tailHydratesThenFollowsAndPrintsHumanLines() throws Exception {
        String s = session("hydrate");
        conversation(s);
        RunningTail hydrated = startTail(s, "--hydrate", "--json", "--count", "1");
        // its own presence.joined may end it before the subscribe is even answered; if it is not
        // announced (the principal's announcement budget spent), the custom event is the one
        await().atMost(WAIT)
                .until(() -> hydrated.exit().isDone()
                        || (hydrated.command().subscriber != null
                                && hydrated.command().subscriber.connects() >= 1));
        append(s, agentToken(), List.of(event("custom", "{\"name\":\"after-the-snapshot\"}")));
        assertThat(hydrated.exit().get(60, TimeUnit.SECONDS))
                .as(hydrated.err().toString())
                .isZero();
        List<ObjectNode> lines = jsonLines(hydrated.out().toString());
        assertThat(lines.get(0).path("snapshot").path("headSeq").asLong()).isEqualTo(11);
        assertThat(lines.get(0).path("snapshot").path("items")).hasSize(3);
        // the next event: its own presence.joined (labelled "ds tail") or the custom event
        assertThat(lines.get(1).path("seq").asLong()).isEqualTo(12);
        assertThat(stored(s).stream().filter(e -> e.path("type").asText().equals("presence.joined")))
                .allSatisfy(
                        e -> assertThat(e.path("data").path("label").asText()).isEqualTo("ds tail"));

        Result human = ds("tail", s, "--count", "3", "--quiet");
        assertThat(human.code()).isZero();
        assertThat(human.lines()).hasSize(3);
        assertThat(human.lines().get(1)).startsWith("#2 ").contains("text.delta", "ana", "\"What is the weather?\"");
        assertThat(human.err()).isEmpty();

        Result after = ds("tail", s, "--after", "10", "--count", "1", "--json");
        assertThat(jsonLines(after.out()).get(0).path("type").asText()).isEqualTo("run.completed");
        Result beyond = ds("tail", s, "--after", "1000");
        assertThat(beyond.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(beyond.err()).containsPattern("--after 1000 is beyond the session's head, seq \\d+");
    }

    @Test
    void aTailEndedByASignalExitsZeroAndOneOfAnErasedSessionFour() throws Exception {
        String s = session("signal");
        conversation(s);
        Process p = child(List.of("tail", s, "--after", "11"));
        try (BufferedReader err =
                new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line = err.readLine(); // the tail says it follows once it is subscribed
            assertThat(line).startsWith("ds tail: tailing " + s);
            p.destroy(); // SIGTERM; Ctrl-C (SIGINT) takes the same way out
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }

        RunningTail tail = startTail(s, "--after", "11");
        awaitSubscribed(tail);
        assertThat(ds("delete", s, "--yes").code()).isZero();
        assertThat(tail.exit().get(60, TimeUnit.SECONDS)).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(tail.err().toString()).contains("the session " + s + " was erased");
    }

    // ----------------------------------------------------------------------------- delete

    @Test
    void deleteAsksFirstThenGetIsNotFound() throws Exception {
        String s = session("delete");
        conversation(s);
        Result declined = dsWithInput("n\n", "delete", s);
        assertThat(declined.code()).isEqualTo(ExitCodes.FAILED);
        assertThat(declined.err()).contains("Erase session " + s + " (11 events", "not erased");
        Result noAnswer = dsWithInput("", "delete", s);
        assertThat(noAnswer.code()).isEqualTo(ExitCodes.FAILED);
        assertThat(ds("get", s).code()).isZero();

        Result confirmed = dsWithInput("y\n", "delete", s);
        assertThat(confirmed.code()).as(confirmed.err()).isZero();
        assertThat(confirmed.out()).contains("erased " + s + ": 11 events");
        Result gone = ds("get", s);
        assertThat(gone.code()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(gone.err()).contains("404 SESSION_NOT_FOUND");
        assertThat(ds("delete", s, "--yes").code()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(stack.storedLog(s)).isEmpty();
    }

    // ----------------------------------------------------------------------------- revoke

    @Test
    void aSubjectRevokedIsRefusedOverHttpAndWebSocket() throws Exception {
        String s = session("revoke");
        conversation(s);
        String subject = "revoked-" + UUID.randomUUID().toString().substring(0, 8);
        String token = TestTokens.devToken(subject, "client");
        assertThat(ds("get", s, "--token", token).code()).isZero();

        Result revoked = ds("revoke", "--subject", subject);
        assertThat(revoked.code()).as(revoked.err()).isZero();
        assertThat(revoked.out()).startsWith("revoked subject " + subject + " at ");

        Result refused = ds("get", s, "--token", token);
        assertThat(refused.code()).isEqualTo(ExitCodes.AUTH);
        assertThat(refused.err()).contains("401");
        assertThat(ds("tail", s, "--token", token).code()).isEqualTo(ExitCodes.AUTH);
        // a token minted after the revocation works (revocation is of the tokens issued until then)
        assertThat(ds("get", s, "--token", TestTokens.devToken("other-" + subject, "client"))
                        .code())
                .isZero();

        // revoking needs an operator: a client's token is refused
        Result notOperator = ds("revoke", "--jti", "some-jti", "--token", TestTokens.devToken("ana", "client"));
        assertThat(notOperator.code()).isEqualTo(ExitCodes.AUTH);
        assertThat(notOperator.err()).contains("403 FORBIDDEN");
        Result jti = ds("revoke", "--jti", "jti-" + UUID.randomUUID(), "--keep", "2h", "--json");
        assertThat(jti.code()).isZero();
        ObjectNode answer = Json.parseStored(jti.out().strip());
        assertThat(answer.path("expiresAt").asLong() - answer.path("revokedAt").asLong())
                .isEqualTo(7200);
    }

    // ----------------------------------------------------------------------------- tokens

    @Test
    void tokensIsScriptsTokenItsTokensWorkAndItsChecksHold() throws Exception {
        Process ok = child(List.of("tokens", "ana", "client", "tokens-*", "read"));
        String token = new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(ok.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(ok.exitValue()).isZero();
        ObjectNode claims = CliUnitTest.claims(token);
        assertThat(claims.path("sub").asText()).isEqualTo("ana");
        assertThat(claims.path("grants").get(0).path("prefix").asText()).isEqualTo("tokens-");
        String s = session("tokens");
        conversation(s);
        assertThat(ds("get", s, "--token", token).code()).isZero();
        assertThat(ds("get", session("elsewhere"), "--token", token).code()).isEqualTo(ExitCodes.AUTH);

        Process bad = child(List.of("tokens", "ana", "bogus"));
        String err = new String(bad.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bad.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isEqualTo(ExitCodes.USAGE);
        assertThat(err).contains("ROLE must be agent, client or viewer, not 'bogus'");
        assertThat(new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEmpty();
    }

    // ----------------------------------------------------------------------------- doctor

    @Test
    void doctorPassesOnTheLocalStack() {
        Result r = ds(
                "doctor",
                "--quick",
                "--liveness-timeout",
                "30s",
                "--stop-ack-timeout",
                "20s",
                "--presence-grace",
                "3s",
                "--sweep-interval",
                "200ms");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out())
                .contains(
                        "PASS  reachability",
                        "PASS  probe.resume",
                        "PASS  probe.stop",
                        "PASS  resume.abrupt-kills-mid-stream",
                        "8 cases: 8 passed, 0 failed, 0 skipped");
        assertThat(r.out()).containsPattern("probe +PASS +2 passed").containsPattern("overall +PASS");
    }

    @Test
    void doctorFailsWhereNothingListensAndOtherCommandsSayUnreachable() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String ws = "ws://127.0.0.1:" + port + "/local";
        String http = "http://127.0.0.1:" + port;
        Result r = ds("doctor", "--quick", "--ws", ws, "--http", http);
        assertThat(r.code()).isEqualTo(ExitCodes.FAILED);
        assertThat(r.out())
                .contains("FAIL  reachability", "nothing answered at " + http)
                .containsPattern("overall +FAIL");
        assertThat(ds("get", "s", "--http", http).code()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(ds("tail", "s", "--ws", ws).code()).isEqualTo(ExitCodes.UNREACHABLE);
    }

    // ----------------------------------------------------------------------------- child processes

    /** {@code ds} in a JVM of its own, as scripts/ds starts it, with the stack's URLs in its environment. */
    static Process child(List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        return pb.start();
    }
}
