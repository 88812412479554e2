package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The agent over the API Gateway WebSocket: one connection, reopened with backoff whenever it is
 * lost, with a {@code controlOnly} subscription that brings the control events (resumed from the
 * last seq seen after every reconnect).
 */
final class WsAgentTransport implements AgentTransport {
    private final HttpClient http;
    private final URI url;
    private final Supplier<String> connectQuery;
    private final String sessionId;
    private final Duration requestTimeout;
    private final Duration maxConnectionAge;
    private final Backoff backoff;
    private final Predicate<ObjectNode> deliver;
    private final ControlSink sink;
    private final ScheduledExecutorService timers;
    private final Object connectLock = new Object();

    // guarded by this
    private WsConnection conn;
    private long cursor =
            -1; // the control subscription's resume point; -1: not subscribed (the session may not exist yet)
    private volatile boolean closed;
    private volatile String lastConnectError;

    WsAgentTransport(
            HttpClient http,
            URI url,
            Supplier<String> connectQuery,
            String sessionId,
            Duration requestTimeout,
            Duration maxConnectionAge,
            Backoff backoff,
            Predicate<ObjectNode> deliver,
            ControlSink sink,
            ScheduledExecutorService timers) {
        this.http = http;
        this.url = url;
        this.connectQuery = connectQuery;
        this.sessionId = sessionId;
        this.requestTimeout = requestTimeout;
        this.maxConnectionAge = maxConnectionAge;
        this.backoff = backoff;
        this.deliver = deliver;
        this.sink = sink;
        this.timers = timers;
    }

    @Override
    public void start() {
        ensureConnected();
    }

    @Override
    public Outcome append(ObjectNode append) {
        WsConnection c = ensureConnected();
        if (c == null) return new Lost("closed");
        ObjectNode frame = Json.object().put("action", "append").put("sessionId", sessionId);
        frame.setAll(append);
        ObjectNode answer;
        try {
            answer = c.request(frame).get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return new Lost(WsConnection.rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Lost("interrupted");
        }
        Outcome o = outcome(answer);
        if (o instanceof Acked a && a.firstSeq() > 0) {
            boolean subscribeNow;
            synchronized (this) {
                // the session exists from our first write on: subscribe to its control from there
                subscribeNow = cursor < 0;
                if (subscribeNow) cursor = a.firstSeq() - 1;
            }
            if (subscribeNow) subscribeControl(c);
        }
        return o;
    }

    @Override
    public CompletableFuture<Outcome> heartbeat(String runId) {
        WsConnection c;
        synchronized (this) {
            c = conn;
        }
        if (c == null || !c.isOpen()) return CompletableFuture.completedFuture(new Lost("not connected"));
        return c.request(Json.object()
                        .put("action", "heartbeat")
                        .put("sessionId", sessionId)
                        .put("runId", runId))
                .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle((a, err) -> err != null ? new Lost(WsConnection.rootMessage(err)) : outcome(a));
    }

    @Override
    public void acknowledge(String runId, long controlSeq) {
        // nothing to do: the subscription resumes after the last seq seen, so control is not sent twice
    }

    @Override
    public void maintain() {
        WsConnection c;
        synchronized (this) {
            c = conn;
        }
        if (c != null && c.isOpen() && c.age().compareTo(maxConnectionAge) >= 0) {
            c.close(); // before API Gateway does; the next append or the background reconnect resumes
        }
    }

    @Override
    public void drop() {
        WsConnection c;
        synchronized (this) {
            c = conn;
        }
        if (c != null) c.abort();
    }

    @Override
    public void close() {
        closed = true;
        WsConnection c;
        synchronized (this) {
            c = conn;
            conn = null;
        }
        if (c != null) c.close();
    }

    private static Outcome outcome(ObjectNode answer) {
        if ("ack".equals(answer.path("type").asText())) {
            return new Acked(
                    answer.path("firstSeq").asLong(0),
                    answer.path("lastSeq").asLong(0),
                    answer.path("duplicate").asBoolean(false));
        }
        ObjectNode details = answer.get("details") instanceof ObjectNode d ? d : Json.object();
        return new Refused(
                answer.path("code").asText("UNKNOWN"),
                answer.path("message").asText(""),
                details,
                details.path("retryAfterMs").asLong(0));
    }

    /** The open connection, (re)connecting with backoff as long as it takes; null once closed. */
    private WsConnection ensureConnected() {
        int attempt = 0;
        while (!closed) {
            WsConnection c;
            synchronized (this) {
                c = conn;
            }
            if (c != null && c.isOpen()) return c;
            synchronized (connectLock) {
                synchronized (this) {
                    if (conn != null && conn.isOpen()) return conn;
                }
                try {
                    c = WsConnection.open(
                            http,
                            WsConnection.connectUri(url, connectQuery),
                            Duration.ofSeconds(10),
                            this::onFrame,
                            this::onClosed,
                            deliver);
                    synchronized (this) {
                        conn = c;
                    }
                } catch (RuntimeException e) {
                    lastConnectError = e.getMessage();
                    c = null;
                }
            }
            if (c != null) {
                boolean resubscribe;
                synchronized (this) {
                    resubscribe = cursor >= 0;
                }
                if (resubscribe) subscribeControl(c);
                return c;
            }
            if (attempt == 3)
                System.getLogger(DurableAgent.class.getName())
                        .log(System.Logger.Level.WARNING, "cannot connect, retrying: " + lastConnectError);
            Threads.sleep(backoff.delay(attempt++).toMillis());
        }
        return null;
    }

    private void onClosed(WsConnection c) {
        if (closed) return;
        // reconnect in the background so control events keep coming while no append is pending
        timers.schedule(
                () -> {
                    if (!closed) ensureConnected();
                },
                backoff.delay(0).toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void subscribeControl(WsConnection c) {
        ObjectNode f = Json.object()
                .put("action", "subscribe")
                .put("sessionId", sessionId)
                .put("controlOnly", true);
        synchronized (this) {
            f.put("afterSeq", cursor);
        }
        c.request(f)
                .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync(
                        (a, err) -> {
                            if (closed || err != null) return; // a lost connection subscribes again on reconnect
                            if ("subscribed".equals(a.path("type").asText())) {
                                synchronized (this) {
                                    cursor = Math.max(cursor, a.path("headSeq").asLong(0));
                                }
                                if (!a.path("complete").asBoolean(true)) subscribeControl(c);
                            } else {
                                timers.schedule(
                                        () -> subscribeControl(c),
                                        backoff.delay(1).toMillis(),
                                        TimeUnit.MILLISECONDS);
                            }
                        },
                        timers);
    }

    private void onFrame(ObjectNode frame) {
        if (!"events".equals(frame.path("type").asText())) return;
        for (JsonNode e : frame.path("events")) {
            synchronized (this) {
                cursor = Math.max(cursor, e.path("seq").asLong());
            }
            sink.control(e);
        }
    }
}
