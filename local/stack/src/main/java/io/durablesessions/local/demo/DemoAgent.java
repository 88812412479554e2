package io.durablesessions.local.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's simulated agent for one session, speaking the wire protocol directly (the Java SDK in
 * {@code clients/java} depends on this module for its tests, so this module cannot use it): one
 * agent connection, an idempotent producer with one append in flight (a lost ack or a cut
 * connection re-sends the same producer seq), text coalesced for the default window, a control-only
 * subscription, and obedience: cancel stops at once and acknowledges, interrupt ends the reply,
 * steer is woven into the rest of the reply. A heartbeat keeps a slow reply alive.
 */
final class DemoAgent implements AutoCloseable {
    private static final String[] WORDS = ("a durable session keeps every token of this reply in an ordered log so "
            + "you can reload the page open a second tab cut the network or press stop and every tab still shows "
            + "the same text at the same seq").split(" ");
    private static final AtomicLong REQUESTS = new AtomicLong();

    private final URI url;
    private final java.util.function.Supplier<String> connectQuery;
    private final String sessionId;
    private final String agentId;
    private final int tokensPerSecond;
    private final int replyTokens;
    private final HttpClient http = HttpClient.newHttpClient();
    private final LinkedBlockingQueue<String> turns = new LinkedBlockingQueue<>();
    private final Map<String, CompletableFuture<ObjectNode>> pending = new ConcurrentHashMap<>();
    private final Thread worker;
    private final long epoch = System.currentTimeMillis();
    private long producerSeq;
    private long controlAfter = -1;
    private long lastControlSeq;
    private volatile WebSocket socket;
    private volatile boolean closed;
    private volatile String currentRun;
    private volatile String currentMessage;
    private volatile boolean stopRequested;
    private volatile boolean interrupted;
    private volatile String steer;

    DemoAgent(URI url, java.util.function.Supplier<String> connectQuery, String sessionId, String agentId,
              int tokensPerSecond, int replyTokens) {
        this.url = url;
        this.connectQuery = connectQuery;
        this.sessionId = sessionId;
        this.agentId = agentId;
        this.tokensPerSecond = tokensPerSecond;
        this.replyTokens = replyTokens;
        this.worker = Thread.ofPlatform().daemon().name("demo-agent-" + sessionId).start(this::work);
    }

    void turn(String userText) {
        turns.add(userText == null ? "" : userText);
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        WebSocket s = socket;
        if (s != null) s.abort();
    }

    private void work() {
        while (!closed) {
            try {
                String text = turns.poll(500, TimeUnit.MILLISECONDS);
                if (text != null) reply(text);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!closed) System.err.println("demo agent " + sessionId + ": " + e);
            }
        }
    }

    private void reply(String question) {
        String run = "run-" + UUID.randomUUID().toString().substring(0, 8);
        String message = "m-" + UUID.randomUUID().toString().substring(0, 8);
        stopRequested = false;
        interrupted = false;
        steer = null;
        currentRun = run;
        currentMessage = message;
        if (!append(run, event("run.started", Json.object()),
                event("message.start", Json.object().put("messageId", message).put("role", "assistant")))) return;
        String[] echo = ("You said: \"" + question.strip() + "\". Here is a simulated streamed answer:").split("\\s+");
        int total = echo.length + replyTokens;
        long interval = 1_000_000_000L / Math.max(1, tokensPerSecond);
        long next = System.nanoTime();
        long lastFlush = System.nanoTime();
        long lastBeat = System.nanoTime();
        StringBuilder buffered = new StringBuilder();
        for (int i = 0; i < total; i++) {
            long wait = next - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            next += interval;
            if (stopRequested || closed) return; // the stop was acknowledged when it arrived
            if (interrupted) break;
            String s = steer;
            if (s != null) {
                steer = null;
                buffered.append(" [steered: ").append(s).append("]");
            }
            buffered.append(i == 0 ? "" : " ").append(i < echo.length ? echo[i] : WORDS[(i - echo.length) % WORDS.length]);
            if (System.nanoTime() - lastFlush >= io.durablesessions.events.Coalescing.DEFAULT_WINDOW.toNanos() || i == total - 1) {
                if (!append(run, delta(message, buffered.toString()))) return;
                buffered.setLength(0);
                lastFlush = System.nanoTime();
                lastBeat = lastFlush;
            } else if (System.nanoTime() - lastBeat > 5_000_000_000L) {
                request(Json.object().put("action", "heartbeat").put("sessionId", sessionId).put("runId", run));
                lastBeat = System.nanoTime();
            }
        }
        if (interrupted) {
            append(run, event("run.completed", Json.object()));
        } else {
            append(run, event("message.end", Json.object().put("messageId", message)),
                    event("run.completed", Json.object()));
        }
    }

    private static ObjectNode event(String type, ObjectNode data) {
        ObjectNode e = Json.object().put("type", type);
        e.set("data", data);
        return e;
    }

    private static ObjectNode delta(String messageId, String text) {
        return event("text.delta", Json.object().put("messageId", messageId).put("text", text));
    }

    /** One idempotent append, retried with the same producer seq. False once the run or reply is fenced. */
    private synchronized boolean append(String runId, ObjectNode... events) {
        for (int attempt = 0; !closed; attempt++) {
            ObjectNode f = Json.object().put("action", "append").put("sessionId", sessionId).put("runId", runId);
            f.putObject("producer").put("id", agentId).put("epoch", epoch).put("seq", producerSeq);
            ArrayNode list = f.putArray("events");
            for (ObjectNode e : events) list.add(e);
            ObjectNode answer;
            try {
                answer = request(f).get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (Exception lostOrTimedOut) {
                sleep(Math.min(2000, 100L << Math.min(attempt, 4)));
                continue;
            }
            if ("ack".equals(answer.path("type").asText())) {
                producerSeq++;
                if (controlAfter < 0) {
                    controlAfter = answer.path("firstSeq").asLong() - 1;
                    subscribeControl();
                }
                return true;
            }
            String code = answer.path("code").asText();
            switch (code) {
                case "INTERNAL", "CONTENTION", "RATE_LIMITED" -> sleep(Math.min(2000, 100L << Math.min(attempt, 4)));
                case "RUN_FENCED" -> {
                    if ("stop_requested".equals(answer.path("details").path("state").asText())) stop(runId);
                    return false;
                }
                case "MESSAGE_FENCED" -> {
                    interrupted = true;
                    return false;
                }
                default -> {
                    System.err.println("demo agent " + sessionId + ": append refused: " + answer);
                    return false;
                }
            }
        }
        return false;
    }

    private void stop(String runId) {
        if (stopRequested && !runId.equals(currentRun)) return;
        boolean first = !stopRequested;
        stopRequested = true;
        if (first) {
            // acknowledge on another thread: the streaming thread may hold the append lock
            Thread.ofVirtual().start(() -> append(runId, event("run.stop_acknowledged", Json.object())));
        }
    }

    private void subscribeControl() {
        request(Json.object().put("action", "subscribe").put("sessionId", sessionId).put("controlOnly", true)
                .put("afterSeq", Math.max(controlAfter, lastControlSeq)));
    }

    private void onControl(JsonNode e) {
        long seq = e.path("seq").asLong();
        synchronized (pending) {
            if (seq <= lastControlSeq) return;
            lastControlSeq = seq;
        }
        String run = e.path("runId").asText();
        if (!run.equals(currentRun)) return;
        switch (e.path("type").asText()) {
            case "run.stop_requested" -> stop(run);
            case "run.stopped" -> stopRequested = true;
            case "run.interrupted" -> interrupted = true;
            case "run.steered" -> steer = e.path("data").path("text").asText();
            default -> { }
        }
    }

    // --------------------------------------------------------------------------------- socket

    private CompletableFuture<ObjectNode> request(ObjectNode frame) {
        String id = "demo-" + REQUESTS.incrementAndGet();
        frame.put("requestId", id);
        CompletableFuture<ObjectNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            WebSocket s = connection();
            synchronized (this.http) {
                s.sendText(Json.write(frame), true).get(5, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            pending.remove(id);
            answer.completeExceptionally(e);
        }
        return answer;
    }

    private WebSocket connection() throws Exception {
        synchronized (pending) {
            WebSocket s = socket;
            if (s != null && !s.isInputClosed() && !s.isOutputClosed()) return s;
            URI uri = URI.create(url + "?" + connectQuery.get());
            s = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).buildAsync(uri, listener())
                    .get(10, TimeUnit.SECONDS);
            socket = s;
            if (controlAfter >= 0) Thread.ofVirtual().start(this::subscribeControl);
            return s;
        }
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    ObjectNode f = Json.parseObject(partial.toString());
                    partial.setLength(0);
                    CompletableFuture<ObjectNode> p = pending.remove(f.path("requestId").asText(""));
                    if (p != null) p.complete(f);
                    if ("events".equals(f.path("type").asText())) f.path("events").forEach(DemoAgent.this::onControl);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                lost();
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                lost();
            }
        };
    }

    private void lost() {
        socket = null;
        pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("connection lost")));
        pending.clear();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
