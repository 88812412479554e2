package io.durablesessions.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real local stack for one test class, reached over its sockets only: in this JVM when it runs on
 * Java 21 or newer, otherwise in a child JVM on a JDK 21+ (the client artifacts target Java 17, the
 * stack is Java 21 code). The child's java is the system property {@code ds.stackJava} (the Maven
 * build sets it to the JDK that runs Maven), else {@code $JAVA_HOME/bin/java}. Setting
 * {@code ds.stack=child} starts a child on any JDK.
 *
 * <p>What the tests read back goes through the HTTP API with a development token, the same way in
 * both cases: {@link #storedLog} is {@code GET /v1/sessions/{id}/events}, {@link #runState} is
 * {@code GET /v1/sessions/{id}}, and a user's {@link #control} is {@code POST …/runs/{runId}/control}.
 * Tokens of the local development issuer come from {@link #token}, {@link #agentQuery} and
 * {@link #clientQuery}. {@link WithTestStack} gives a test class one stack as a parameter.
 */
public final class TestStack implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final URI webSocketUrl;
    private final URI httpApiUrl;
    private final URI iamHttpApiUrl;
    private final AutoCloseable inProcess;
    private final Process child;

    TestStack(URI ws, URI http, URI iam, AutoCloseable inProcess, Process child) {
        this.webSocketUrl = ws;
        this.httpApiUrl = http;
        this.iamHttpApiUrl = iam;
        this.inProcess = inProcess;
        this.child = child;
    }

    public static TestStack start() {
        return start(StackSettings.defaults());
    }

    public static TestStack start(StackSettings settings) {
        boolean forceChild = "child".equals(System.getProperty("ds.stack"));
        if (Runtime.version().feature() >= 21 && !forceChild) return InProcessStack.startTestStack(settings);
        return startChild(settings);
    }

    /** True when the stack runs in a child JVM. */
    public boolean isChildProcess() {
        return child != null;
    }

    /** {@code ws://127.0.0.1:PORT/local}: the WebSocket URL. */
    public URI webSocketUrl() {
        return webSocketUrl;
    }

    /** {@code http://127.0.0.1:PORT}: the HTTP API's base URL (its paths start with {@code /v1}). */
    public URI httpApiUrl() {
        return httpApiUrl;
    }

    /** The IAM-authorized HTTP API's base URL. */
    public URI iamHttpApiUrl() {
        return iamHttpApiUrl;
    }

    /** The stack itself when it runs in this JVM (an {@code EmbeddedStack}), else null. */
    Object inProcess() {
        return inProcess;
    }

    /** A development token of the stack's issuer: full rights of {@code role} ({@code agent}, {@code client}, {@code viewer}) on every session. */
    public String token(String subject, String role) {
        return TestTokens.devToken(subject, role);
    }

    /** The {@code $connect} query of an agent {@code id}: its token, and {@code id} as the connection's instance. */
    public String agentQuery(String id) {
        return "token=" + token(id, "agent") + "&instance=" + id;
    }

    /** The {@code $connect} query of user {@code id}'s tab {@code instance}. */
    public String clientQuery(String id, String instance) {
        return "token=" + token(id, "client") + "&instance=" + instance;
    }

    /**
     * User {@code user-1}'s {@code cancel}, {@code interrupt} or {@code steer} (with {@code text}) over the HTTP API, as a
     * browser tab's Stop button sends it; returns the seq of the recorded control event, fails if refused.
     */
    public long control(String sessionId, String runId, String command, String text) {
        ObjectNode body = Json.object().put("command", command);
        if (text != null) body.put("text", text);
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(
                        httpApiUrl + "/v1/sessions/" + encode(sessionId) + "/runs/" + encode(runId) + "/control"))
                .header("Authorization", "Bearer " + token("user-1", "client"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                .build());
        if (r.statusCode() != 200)
            throw new IllegalStateException(command + " of " + runId + ": " + r.statusCode() + " " + r.body());
        return Json.parseObject(r.body()).path("seq").asLong();
    }

    /** Every stored event of the session in seq order; empty when there is no such session (never written, or erased). */
    public List<Event> storedLog(String sessionId) {
        List<Event> all = new ArrayList<>();
        long after = 0;
        while (true) {
            HttpResponse<String> r = get("/v1/sessions/" + encode(sessionId) + "/events?limit=1000&afterSeq=" + after);
            if (r.statusCode() == 404) return all;
            if (r.statusCode() != 200)
                throw new IllegalStateException("reading " + sessionId + ": " + r.statusCode() + " " + r.body());
            ObjectNode page = Json.parseObject(r.body());
            for (JsonNode e : page.path("events")) all.add(Event.fromJson(Json.write(e)));
            if (!page.path("more").asBoolean()) return all;
            after = page.path("nextAfterSeq").asLong();
        }
    }

    /** The run's state as on the wire ({@code running}, {@code stopped}, …), or null when the session has no such run. */
    public String runState(String sessionId, String runId) {
        HttpResponse<String> r = get("/v1/sessions/" + encode(sessionId));
        if (r.statusCode() != 200)
            throw new IllegalStateException("reading " + sessionId + ": " + r.statusCode() + " " + r.body());
        for (JsonNode run : Json.parseObject(r.body()).path("runs")) {
            if (runId.equals(run.path("runId").asText()))
                return run.path("state").asText(null);
        }
        return null;
    }

    @Override
    public void close() {
        try {
            if (inProcess != null) inProcess.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the local stack", e);
        }
        if (child != null) stopChild(child);
    }

    private HttpResponse<String> get(String pathAndQuery) {
        return send(HttpRequest.newBuilder(URI.create(httpApiUrl + pathAndQuery))
                .header("Authorization", "Bearer " + TestTokens.devToken("test-reader", "client"))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    // ------------------------------------------------------------------------------ child JVM

    private static TestStack startChild(StackSettings settings) {
        String java = stackJava();
        List<String> command = new ArrayList<>(
                List.of(java, "-cp", System.getProperty("java.class.path"), StackProcessMain.class.getName()));
        command.addAll(settings.toArgs());
        Path log;
        Process p;
        try {
            Path dir = Path.of("target", "test-stack-logs");
            Files.createDirectories(dir);
            log = Files.createTempFile(dir.toAbsolutePath(), "stack-", ".log");
            // stderr to a file: the test JVM's own stdout and stderr belong to the test runner
            p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the local stack with " + java, e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader out =
                            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = out.readLine()) != null) {
                            if (line.startsWith(StackProcessMain.READY + " ")) ready.complete(line);
                        }
                        ready.completeExceptionally(new IllegalStateException("the stack's output ended"));
                    } catch (IOException e) {
                        ready.completeExceptionally(e);
                    }
                },
                "ds-test-stack-out");
        reader.setDaemon(true);
        reader.start();
        String line;
        try {
            line = ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            throw new IllegalStateException(
                    "the local stack did not start in a child JVM (" + java + "); its log: " + log + "\n" + tail(log),
                    e);
        }
        URI ws = null, http = null, iam = null;
        for (String part : line.split(" ")) {
            if (part.startsWith("ws=")) ws = URI.create(part.substring(3));
            else if (part.startsWith("http=")) http = URI.create(part.substring(5));
            else if (part.startsWith("iam=")) iam = URI.create(part.substring(4));
        }
        return new TestStack(ws, http, iam, null, p);
    }

    /** The java of a JDK 21+ for the child: {@code -Dds.stackJava}, else {@code $JAVA_HOME/bin/java}. */
    private static String stackJava() {
        String java = System.getProperty("ds.stackJava");
        if (java == null || java.isBlank()) {
            String home = System.getenv("JAVA_HOME");
            if (home == null) {
                throw new IllegalStateException(
                        "the local stack needs a JDK 21+: set -Dds.stackJava=<its bin/java> or JAVA_HOME");
            }
            java = Path.of(home, "bin", "java").toString();
        }
        return java;
    }

    private static void stopChild(Process p) {
        try {
            p.getOutputStream().close(); // the child stops when its stdin ends
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
            }
        } catch (IOException e) {
            p.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
