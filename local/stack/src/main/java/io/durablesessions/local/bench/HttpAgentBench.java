package io.durablesessions.local.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.local.LocalStack;
import io.durablesessions.local.dynamodb.Stats;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The agent that only POSTs (the HTTP API), measured against the same agent on a WebSocket:
 * what one streaming append costs and takes, and how soon a stop reaches an agent that learns of
 * control only from the answers to its own posts.
 */
final class HttpAgentBench {
    /** The agent's posting interval in the stop trials: a coalescing window's worth of tokens per post. */
    static final Duration POST_INTERVAL = Duration.ofMillis(100);

    private final LocalStack stack;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String agentToken = LocalStack.devToken("bench-http-agent", "agent");
    private final String userToken = LocalStack.devToken("bench-http-user", "client");

    HttpAgentBench(LocalStack stack) {
        this.stack = stack;
    }

    record Answer(int status, ObjectNode json, long micros) {}

    Answer post(String path, String token, ObjectNode body) {
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + path))
                    .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body().isEmpty() ? Json.object() : Json.parseObject(r.body()),
                    (System.nanoTime() - t0) / 1000);
        } catch (Exception e) {
            throw new IllegalStateException("POST " + path + " failed", e);
        }
    }

    static ObjectNode append(String runId, String producer, long seq, ObjectNode... events) {
        ObjectNode f = Json.object().put("runId", runId);
        f.putObject("producer").put("id", producer).put("epoch", 0).put("seq", seq);
        ArrayNode arr = f.putArray("events");
        for (ObjectNode e : events) arr.add(e);
        return f;
    }

    /** What one streaming append (8 tokens of a reply, with producer and run) costs over one transport. */
    record AppendCost(String transport, int appends, double wcuPerAppend, double rcuPerAppend, Histogram micros) {}

    AppendCost httpAppends(int n) {
        String s = "bench-http-" + UUID.randomUUID();
        String path = "/v1/sessions/" + s + "/events";
        require(post(path, agentToken, append("run-1", "p", 0, ProducerWriter.event("run.started", Json.object()),
                ProducerWriter.event("message.start", Json.object().put("messageId", "m-1").put("role", "assistant")))));
        Stats stats = stack.dynamo().stats();
        Benchmarks.quiesce(stats);
        Stats.Snapshot before = stats.snapshot();
        Histogram h = new Histogram(3_600_000_000L, 3);
        for (int i = 1; i <= n; i++) {
            Answer a = require(post(path, agentToken, append("run-1", "p", i, ProducerWriter.delta("m-1", tokens(i)))));
            h.recordValue(a.micros());
        }
        Stats.Snapshot after = stats.snapshot();
        return new AppendCost("HTTP API (POST …/events)", n, (Benchmarks.sumWcu(after) - Benchmarks.sumWcu(before)) / n, (Benchmarks.sumRcu(after) - Benchmarks.sumRcu(before)) / n, h);
    }

    AppendCost webSocketAppends(int n) {
        String s = "bench-ws-" + UUID.randomUUID();
        try (ProducerWriter w = new ProducerWriter(BenchClient.connect(stack.webSocketUrl(), "bench-ws-agent", "agent", f -> {}),
                s, "p")) {
            w.append("run-1", List.of(ProducerWriter.event("run.started", Json.object()),
                    ProducerWriter.event("message.start", Json.object().put("messageId", "m-1").put("role", "assistant"))));
            Stats stats = stack.dynamo().stats();
            Benchmarks.quiesce(stats);
            Stats.Snapshot before = stats.snapshot();
            Histogram h = new Histogram(3_600_000_000L, 3);
            for (int i = 1; i <= n; i++) {
                long t0 = System.nanoTime();
                w.append("run-1", List.of(ProducerWriter.delta("m-1", tokens(i))));
                h.recordValue((System.nanoTime() - t0) / 1000);
            }
            Stats.Snapshot after = stats.snapshot();
            return new AppendCost("WebSocket (append)", n, (Benchmarks.sumWcu(after) - Benchmarks.sumWcu(before)) / n, (Benchmarks.sumRcu(after) - Benchmarks.sumRcu(before)) / n, h);
        }
    }

    /**
     * One stop trial: how long from the user sending cancel to the agent knowing, and how many of
     * the agent's posts started after the stop was recorded (the cancel's answer) before it knew.
     */
    record StopTrial(long micros, int postsAfterRecorded) {}

    /**
     * An agent posts a delta every {@link #POST_INTERVAL}; after a random 300–700 ms a user cancels
     * the run over the HTTP API. The agent knows when an answer carries {@code run.stop_requested}
     * in {@code control}, or refuses its post with 409 {@code RUN_FENCED}.
     */
    StopTrial stopTrial(Random random) throws InterruptedException {
        String s = "bench-stop-" + UUID.randomUUID();
        String path = "/v1/sessions/" + s + "/events";
        require(post(path, agentToken, append("run-1", "p", 0, ProducerWriter.event("run.started", Json.object()),
                ProducerWriter.event("message.start", Json.object().put("messageId", "m-1").put("role", "assistant")))));
        AtomicLong cancelSent = new AtomicLong();
        AtomicLong cancelRecorded = new AtomicLong();
        AtomicLong learned = new AtomicLong();
        int[] postsAfter = new int[1];
        Thread agent = Thread.ofPlatform().name("http-agent").start(() -> {
            for (int i = 1; i < 10_000 && learned.get() == 0; i++) {
                long started = System.nanoTime();
                if (cancelRecorded.get() != 0) postsAfter[0]++;
                Answer a = post(path, agentToken, append("run-1", "p", i, ProducerWriter.delta("m-1", tokens(i))));
                if (knowsOfStop(a)) {
                    learned.set(System.nanoTime());
                    return;
                }
                long wait = POST_INTERVAL.toNanos() - (System.nanoTime() - started);
                if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
        });
        Thread.sleep(300 + random.nextInt(400));
        cancelSent.set(System.nanoTime());
        require(post("/v1/sessions/" + s + "/runs/run-1/control", userToken, Json.object().put("command", "cancel")));
        cancelRecorded.set(System.nanoTime());
        agent.join(30_000);
        if (learned.get() == 0) throw new IllegalStateException("the agent never learned of the stop");
        return new StopTrial((learned.get() - cancelSent.get()) / 1000, postsAfter[0]);
    }

    static boolean knowsOfStop(Answer a) {
        if (a.status() == 409 && "RUN_FENCED".equals(a.json().path("code").asText())) return true;
        for (JsonNode c : a.json().path("control")) {
            if ("run.stop_requested".equals(c.path("type").asText())) return true;
        }
        return false;
    }

    private static Answer require(Answer a) {
        if (a.status() != 200) throw new IllegalStateException("refused: " + a.status() + " " + a.json());
        return a;
    }

    private static String tokens(int i) {
        StringBuilder sb = new StringBuilder();
        for (int t = 0; t < 8; t++) sb.append("t").append(i * 8 + t).append(' ');
        return sb.toString();
    }

    static List<String> header() {
        return List.of("transport", "appends", "WCU / append", "RCU / append", "p50 ms", "p99 ms", "max ms");
    }

    static String[] row(AppendCost c) {
        return new String[] {c.transport(), String.valueOf(c.appends()), Benchmarks.fmt(c.wcuPerAppend()),
                Benchmarks.fmt(c.rcuPerAppend()), Benchmarks.ms(c.micros(), 50), Benchmarks.ms(c.micros(), 99),
                Benchmarks.fmt(c.micros().getMaxValue() / 1000.0)};
    }

    static List<String[]> stopRows(List<StopTrial> trials) {
        Histogram h = new Histogram(3_600_000_000L, 3);
        int maxPosts = 0;
        for (StopTrial t : trials) {
            h.recordValue(Math.max(0, t.micros()));
            maxPosts = Math.max(maxPosts, t.postsAfterRecorded());
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {String.valueOf(trials.size()), Benchmarks.ms(h, 50), Benchmarks.ms(h, 95),
                Benchmarks.fmt(h.getMaxValue() / 1000.0), String.valueOf(maxPosts)});
        return rows;
    }
}
