package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.ClientRule;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Event;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SnapshotParts;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Reads one session and never loses or repeats an event (docs/protocol.md §7): it resumes after a
 * given seq or hydrates the assembled state first, applies the client rule (drop seq ≤ last,
 * hold gaps, re-subscribe from last when a gap stays open for {@code gapTimeout}), reconnects with
 * jittered exponential backoff after any close, and replaces its connection before API Gateway's
 * 2-hour cap (make before break: the new connection is subscribed before the old one is closed).
 *
 * <p>Listener callbacks run one at a time, in seq order, on the SDK's threads: keep them short.
 */
public final class SessionSubscriber implements AutoCloseable {

    /** What a subscriber tells its owner. Every method has a default. */
    public interface Listener {
        /** An event applied in seq order, exactly once. */
        default void onEvent(Event event) {}

        /** A hydrate finished: the assembled state up to {@code state.headSeq()}. */
        default void onSnapshot(SessionState state) {}

        /** A connection is subscribed (catch-up done). */
        default void onConnected() {}

        /** The current connection went away; the subscriber reconnects by itself. */
        default void onDisconnected(String reason) {}

        /** The service refused the subscription for good (e.g. FORBIDDEN); the subscriber stopped. */
        default void onFailed(DurableSessionException error) {}

        /**
         * The session was erased ({@code DELETE /v1/sessions/{id}} or its retention ran out): its
         * events are gone, the subscriber stopped and will not resume it. Drop what you show of it.
         */
        default void onDeleted() {}
    }

    private final URI url;
    private final Supplier<String> connectQuery;
    private final String sessionId;
    private final Listener listener;
    private final Duration gapTimeout;
    private final Duration maxConnectionAge;
    private final Duration pingInterval;
    private final Duration requestTimeout;
    private final Backoff backoff;
    private final HttpClient http;
    private final Predicate<ObjectNode> deliver;
    private final ScheduledExecutorService executor;

    // state, guarded by this
    /** The client rule (events/ClientRule): {@code last}, and events held behind a gap. */
    private final ClientRule rule;

    private boolean synced; // we have a starting point (afterSeq given, or a hydrate finished)
    private long gapSinceNanos;
    private Assembler assembler = Assembler.empty();
    private SnapshotParts parts;
    private String hydrateRequestId;
    private WsConnection current;
    private WsConnection replacement;
    private int attempts;
    private boolean reconnectScheduled;
    private volatile boolean closed;
    private int connects;
    private long lastSentNanos = System.nanoTime();

    private SessionSubscriber(Builder b) {
        url = b.url;
        connectQuery = b.connectQuery;
        sessionId = b.sessionId;
        listener = b.listener;
        gapTimeout = b.gapTimeout;
        maxConnectionAge = b.maxConnectionAge;
        pingInterval = b.pingInterval;
        requestTimeout = b.requestTimeout;
        backoff = b.backoff;
        http = b.http != null ? b.http : HttpClient.newHttpClient();
        deliver = b.deliver;
        rule = new ClientRule(b.afterSeq);
        synced = !b.hydrate;
        executor = Executors.newSingleThreadScheduledExecutor(Threads.daemonFactory("ds-subscriber-" + sessionId));
    }

    public static Builder builder(URI url, String sessionId) {
        return new Builder(url, sessionId);
    }

    public static final class Builder {
        private final URI url;
        private final String sessionId;
        private Supplier<String> connectQuery = () -> "";
        private long afterSeq;
        private boolean hydrate;
        private Listener listener = new Listener() {};
        private Duration gapTimeout = Duration.ofSeconds(2);
        private Duration maxConnectionAge = Duration.ofMinutes(110);
        private Duration pingInterval = Duration.ofMinutes(5);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Backoff backoff = Backoff.DEFAULT;
        private HttpClient http;
        private Predicate<ObjectNode> deliver = f -> true;

        private Builder(URI url, String sessionId) {
            this.url = Objects.requireNonNull(url);
            this.sessionId = Objects.requireNonNull(sessionId);
        }

        /**
         * Produces the {@code $connect} query string for each (re)connect, e.g.
         * {@code () -> "token=" + freshJwt() + "&instance=tab-1"} (a fresh token every time).
         */
        public Builder connectQuery(Supplier<String> query) {
            this.connectQuery = Objects.requireNonNull(query);
            return this;
        }

        /** Resume after this seq (the default is 0: the whole log). */
        public Builder afterSeq(long seq) {
            this.afterSeq = seq;
            this.hydrate = false;
            return this;
        }

        /** Start from the assembled snapshot, then tail live. */
        public Builder hydrate() {
            this.hydrate = true;
            this.afterSeq = 0;
            return this;
        }

        public Builder listener(Listener l) {
            this.listener = Objects.requireNonNull(l);
            return this;
        }

        public Builder gapTimeout(Duration d) {
            this.gapTimeout = d;
            return this;
        }

        /** Replace the connection after this age (API Gateway closes at 2 h). Default 1 h 50 min. */
        public Builder maxConnectionAge(Duration d) {
            this.maxConnectionAge = d;
            return this;
        }

        /** Send a {@code ping} when nothing was sent for this long, against the 10-minute idle close. */
        public Builder pingInterval(Duration d) {
            this.pingInterval = d;
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        public Builder backoff(Backoff b) {
            this.backoff = b;
            return this;
        }

        public Builder httpClient(HttpClient client) {
            this.http = client;
            return this;
        }

        /** Fault injection for tests: frames for which this returns false are dropped as if lost. */
        public Builder deliverInbound(Predicate<ObjectNode> deliver) {
            this.deliver = Objects.requireNonNull(deliver);
            return this;
        }

        /** Starts connecting in the background and returns at once. */
        public SessionSubscriber start() {
            SessionSubscriber s = new SessionSubscriber(this);
            s.executor.execute(s::connect);
            long tick = Math.max(50, Math.min(250, gapTimeout.toMillis() / 4));
            s.executor.scheduleWithFixedDelay(s::tick, tick, tick, TimeUnit.MILLISECONDS);
            return s;
        }
    }

    // ------------------------------------------------------------------------------------ public

    public String sessionId() {
        return sessionId;
    }

    /** The highest seq applied. */
    public synchronized long lastSeq() {
        return rule.last();
    }

    /** The assembled state of everything applied so far. */
    public synchronized SessionState state() {
        return assembler.state();
    }

    /** Events dropped by the client rule (duplicates and already-applied seqs). */
    public synchronized long duplicatesDropped() {
        return rule.duplicates();
    }

    /** Events that arrived after a later one had (a catch-up overlapping live delivery): a diagnostic. */
    public synchronized long outOfOrderArrivals() {
        return rule.outOfOrder();
    }

    /** How many connections were subscribed so far (1 + reconnects). */
    public synchronized int connects() {
        return connects;
    }

    public synchronized boolean isConnected() {
        return current != null && current.isOpen();
    }

    /** Waits until an event with at least this seq was applied. */
    public synchronized boolean awaitSeq(long seq, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (rule.last() < seq) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** Drops the current connection as a network cut would (tests, or a client that knows better). */
    public void dropConnection() {
        WsConnection c;
        synchronized (this) {
            c = current;
        }
        if (c != null) c.abort();
    }

    @Override
    public void close() {
        WsConnection a, b;
        synchronized (this) {
            if (closed) return;
            closed = true;
            a = current;
            b = replacement;
            current = null;
            replacement = null;
            notifyAll();
        }
        if (a != null) a.close();
        if (b != null) b.close();
        executor.shutdownNow();
    }

    /**
     * Asks the run's agent to stop ({@code control} {@code cancel}, docs/protocol.md §3.3) over this
     * subscriber's connection (its token needs the {@code control} grant). Completes when the service
     * recorded the stop ({@code run.stop_requested}); fails with a {@link DurableSessionException}
     * when refused ({@code RUN_FENCED}: the run had ended or was stopping already), or with a
     * {@link java.util.concurrent.TimeoutException} or connection error when no answer came (then the
     * stop may or may not be recorded: the log says).
     */
    public CompletableFuture<Void> cancel(String runId) {
        return control(runId, "cancel", null, null);
    }

    /** Interrupts the run's reply in progress ({@code messageId}, or null for the current one); the run goes on. */
    public CompletableFuture<Void> interrupt(String runId, String messageId) {
        return control(runId, "interrupt", null, messageId);
    }

    /** Gives the running run new instructions ({@code run.steered}). */
    public CompletableFuture<Void> steer(String runId, String text) {
        return control(runId, "steer", Objects.requireNonNull(text), null);
    }

    private CompletableFuture<Void> control(String runId, String command, String text, String messageId) {
        ObjectNode frame = Json.object()
                .put("action", "control")
                .put("sessionId", sessionId)
                .put("runId", runId)
                .put("command", command);
        if (text != null) frame.put("text", text);
        if (messageId != null) frame.put("messageId", messageId);
        CompletableFuture<Void> result = new CompletableFuture<>();
        sendControl(frame, 0, System.nanoTime() + requestTimeout.toNanos(), result);
        return result;
    }

    /** Sends once connected; refusals worth a retry ({@code CONTENTION}, …) are sent again, nothing else is. */
    private void sendControl(ObjectNode frame, int attempt, long deadlineNanos, CompletableFuture<Void> result) {
        if (closed) {
            result.completeExceptionally(new IllegalStateException("subscriber closed"));
            return;
        }
        WsConnection c;
        synchronized (this) {
            c = current;
        }
        if (c == null || !c.isOpen()) {
            if (System.nanoTime() >= deadlineNanos) {
                result.completeExceptionally(new TimeoutException("not connected within " + requestTimeout));
            } else {
                executor.schedule(() -> sendControl(frame, attempt, deadlineNanos, result), 50, TimeUnit.MILLISECONDS);
            }
            return;
        }
        c.request(frame.deepCopy())
                .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync(
                        (a, err) -> {
                            if (err != null) {
                                result.completeExceptionally(err);
                            } else if ("ack".equals(a.path("type").asText())) {
                                result.complete(null);
                            } else {
                                ErrorCode code =
                                        ErrorCode.fromWire(a.path("code").asText());
                                if (code != null && code.retryable() && attempt < 10) {
                                    long wait = Math.max(
                                            a.path("details")
                                                    .path("retryAfterMs")
                                                    .asLong(0),
                                            backoff.delay(attempt).toMillis());
                                    executor.schedule(
                                            () -> sendControl(frame, attempt + 1, deadlineNanos, result),
                                            wait,
                                            TimeUnit.MILLISECONDS);
                                } else {
                                    result.completeExceptionally(DurableSessionException.of(a));
                                }
                            }
                        },
                        executor);
    }

    // ------------------------------------------------------------------------------ connections

    private void connect() {
        if (closed) return;
        WsConnection c;
        try {
            c = open();
        } catch (RuntimeException e) {
            scheduleReconnect("connect failed: " + e.getMessage());
            return;
        }
        synchronized (this) {
            if (closed) {
                c.close();
                return;
            }
            current = c;
        }
        subscribe(c);
    }

    private WsConnection open() {
        URI uri = WsConnection.connectUri(url, connectQuery);
        return WsConnection.open(http, uri, Duration.ofSeconds(10), this::onFrame, this::onClosed, deliver);
    }

    private void onClosed(WsConnection c) {
        if (closed) return;
        executor.execute(() -> {
            boolean lostCurrent;
            synchronized (this) {
                if (c == replacement) replacement = null;
                lostCurrent = c == current;
                if (lostCurrent) {
                    current = null;
                    if (replacement != null && replacement.isOpen()) {
                        current = replacement;
                        replacement = null;
                        lostCurrent = false;
                    }
                }
            }
            if (lostCurrent) {
                listener.onDisconnected("connection lost");
                scheduleReconnect("connection lost");
            }
        });
    }

    private void scheduleReconnect(String why) {
        if (closed) return;
        long delay;
        synchronized (this) {
            if (reconnectScheduled) return;
            reconnectScheduled = true;
            delay = backoff.delay(attempts++).toMillis();
        }
        executor.schedule(
                () -> {
                    synchronized (this) {
                        reconnectScheduled = false;
                    }
                    connect();
                },
                delay,
                TimeUnit.MILLISECONDS);
    }

    /** Subscribes on {@code c}: hydrate if we have no starting point yet, else resume after last. */
    private void subscribe(WsConnection c) {
        if (closed || !c.isOpen()) return;
        ObjectNode frame = Json.object().put("action", "subscribe").put("sessionId", sessionId);
        boolean hydrate;
        synchronized (this) {
            hydrate = !synced;
            if (hydrate) {
                frame.put("hydrate", true);
                parts = new SnapshotParts();
                rule.clearHeld();
            } else {
                frame.put("afterSeq", rule.last());
            }
            lastSentNanos = System.nanoTime();
            if (hydrate) {
                // the snapshot frames carry the requestId, which request() assigns: set it first
                hydrateRequestId = null;
            }
        }
        var answer = c.request(frame);
        if (hydrate) {
            synchronized (this) {
                hydrateRequestId = frame.path("requestId").asText();
            }
        }
        answer.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync((a, err) -> onSubscribeAnswer(c, a, err), executor);
    }

    private void onSubscribeAnswer(WsConnection c, ObjectNode answer, Throwable err) {
        if (closed) return;
        if (err != null) {
            if (err instanceof TimeoutException || err.getCause() instanceof TimeoutException) c.abort();
            return; // a lost connection reconnects through onClosed
        }
        String type = answer.path("type").asText();
        if ("error".equals(type)) {
            ErrorCode code = ErrorCode.fromWire(answer.path("code").asText());
            if (code != null && !code.retryable()) { // refused for good (a token refused, no grant, a bad request)
                listener.onFailed(DurableSessionException.of(answer));
                close();
                return;
            }
            int attempt;
            synchronized (this) {
                attempt = attempts++;
            }
            long retryAfter = answer.path("details").path("retryAfterMs").asLong(0);
            executor.schedule(
                    () -> subscribe(c),
                    Math.max(retryAfter, backoff.delay(attempt).toMillis()),
                    TimeUnit.MILLISECONDS);
            return;
        }
        if (!answer.path("complete").asBoolean(true)) {
            subscribe(c); // the catch-up stopped early: continue from what we applied
            return;
        }
        WsConnection old = null;
        synchronized (this) {
            if (!synced) {
                // the snapshot did not complete (should not happen): hydrate again
                executor.execute(() -> subscribe(c));
                return;
            }
            attempts = 0;
            connects++;
            if (c == replacement) {
                old = current;
                current = c;
                replacement = null;
            }
        }
        if (old != null) old.close();
        listener.onConnected();
    }

    /** Periodic: gap timeout, connection age, keep-alive ping. */
    private void tick() {
        if (closed) return;
        WsConnection c;
        boolean resubscribe = false, replace = false, ping = false;
        synchronized (this) {
            c = current;
            if (c == null || !c.isOpen()) return;
            long now = System.nanoTime();
            if (rule.hasGap() && gapSinceNanos != 0 && now - gapSinceNanos >= gapTimeout.toNanos()) {
                gapSinceNanos = now;
                resubscribe = synced;
            }
            if (replacement == null && c.age().compareTo(maxConnectionAge) >= 0) replace = true;
            if (now - lastSentNanos >= pingInterval.toNanos()) {
                lastSentNanos = now;
                ping = true;
            }
        }
        if (resubscribe) subscribe(c);
        if (ping) {
            c.request(Json.object().put("action", "ping"))
                    .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((pong, err) -> {
                        if (err == null) onPong(c, pong);
                        else c.abort(); // no pong: the socket is dead although it never said so; reconnect
                    });
        }
        if (replace) {
            try {
                WsConnection fresh = open();
                synchronized (this) {
                    if (closed) {
                        fresh.close();
                        return;
                    }
                    replacement = fresh;
                }
                subscribe(fresh);
            } catch (RuntimeException e) {
                // try again at the next tick; the old connection still works until the gateway closes it
            }
        }
    }

    /**
     * A {@code pong} names the session's head: if it is past what we applied and no gap is pending,
     * the last events never reached us (their delivery gave up), so resume from the last one we have.
     */
    private void onPong(WsConnection c, ObjectNode pong) {
        long head = pong.path("heads").path(sessionId).asLong(0);
        boolean behind;
        synchronized (this) {
            behind = synced && !rule.hasGap() && head > rule.last() && hydrateRequestId == null;
        }
        if (behind && !closed) subscribe(c);
    }

    // ----------------------------------------------------------------------------------- frames

    private void onFrame(ObjectNode frame) {
        switch (frame.path("type").asText()) {
            case "events" -> {
                synchronized (this) {
                    for (JsonNode e : frame.path("events")) {
                        if (e instanceof ObjectNode o && o.has("seq")) offer(o);
                    }
                }
            }
            case "snapshot" -> onSnapshotPart(frame);
            case "session_deleted" -> {
                if (sessionId.equals(frame.path("sessionId").asText())) {
                    close();
                    listener.onDeleted();
                }
            }
            default -> {}
        }
    }

    private void onSnapshotPart(ObjectNode frame) {
        SessionState state = null;
        synchronized (this) {
            if (synced || parts == null) return;
            String rid = frame.path("requestId").asText();
            if (hydrateRequestId != null && !hydrateRequestId.equals(rid)) return;
            if (parts.add(frame)) {
                state = parts.state();
                parts = null;
                assembler = Assembler.from(state);
                rule.advanceTo(state.headSeq());
                synced = true;
                notifyAll();
            }
        }
        if (state != null) {
            listener.onSnapshot(state);
            synchronized (this) {
                drain();
            }
        }
    }

    /** The client rule: drop seq ≤ last, apply last+1, hold the rest until the gap closes. */
    private void offer(ObjectNode event) {
        if (rule.hold(event) && synced) drain();
    }

    private void drain() {
        rule.drain(this::apply);
        if (!rule.hasGap()) gapSinceNanos = 0;
        else if (gapSinceNanos == 0) gapSinceNanos = System.nanoTime();
    }

    private void apply(ObjectNode raw) {
        Event e;
        try {
            e = Event.fromJson(Json.write(raw));
        } catch (RuntimeException unknownType) {
            e = null; // a newer event type: its seq still counts
        }
        if (e != null) {
            assembler.apply(e);
            try {
                listener.onEvent(e);
            } catch (RuntimeException ignored) {
                // a failing listener must not break the stream
            }
        }
        notifyAll();
    }
}
