package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The agent side of a session: opens runs, streams replies, calls tools, and obeys stop, interrupt
 * and steer.
 *
 * <ul>
 *   <li>Every append goes through ONE idempotent producer {@code (id, epoch, seq)}, one at a time
 *       (the next is sent when the previous is acked). A timeout, {@code INTERNAL},
 *       {@code CONTENTION}, {@code RATE_LIMITED} or a lost connection re-sends the SAME producer
 *       seq, so a lost ack never writes twice ({@code duplicate: true} counts as success).</li>
 *   <li>{@link Reply#delta} is coalesced: text waits at most {@code coalesceWindow} (default
 *       75 ms) from its first character and goes out as one {@code text.delta}; big text is split
 *       so every event stays under {@link Limits#MAX_EVENT_BYTES}.</li>
 *   <li>The agent subscribes itself with {@code controlOnly: true} and reports cancel, interrupt
 *       and steer to {@code onControl}, deduplicated by seq. Once a run (or reply) is fenced the
 *       SDK drops its pending and later events, and acknowledges a requested stop.</li>
 *   <li>While a run is open it sends {@code heartbeat} every {@code heartbeatInterval} (5 s).</li>
 * </ul>
 *
 * <p>Calls are thread-safe. Appends keep the order in which they were called.
 */
public final class DurableAgent implements AutoCloseable {
    /** Room left in a stored event for its envelope (ids are at most 128 chars each). */
    private static final int ENVELOPE_RESERVE = 2048;
    /** Events of one append frame, in encoded bytes: well under the 128 KB message limit. */
    private static final int APPEND_BUDGET = 100 * 1024;
    private static final Set<String> RETRY = Set.of("INTERNAL", "CONTENTION", "RATE_LIMITED");

    private final URI url;
    private final Supplier<String> connectQuery;
    private final String sessionId;
    private final String producerId;
    private final long epoch;
    private final Duration window;
    private final int maxDeltaBytes;
    private final Duration heartbeatInterval;
    private final Duration requestTimeout;
    private final Duration maxConnectionAge;
    private final Backoff backoff;
    private final Consumer<ControlEvent> onControl;
    private final Predicate<ObjectNode> deliver;
    private final HttpClient http;
    private final ScheduledExecutorService timers;
    private final Thread sender;

    // guarded by this
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final Map<String, RunState> runs = new HashMap<>();
    private final Set<String> fencedMessages = new HashSet<>();
    private final List<Reply> buffered = new ArrayList<>();
    private boolean inFlight;
    private long controlCursor = -1; // -1: not subscribed yet (the session may not exist)
    private long lastControlSeq;
    private WsConnection conn;
    private final Object connectLock = new Object();
    private volatile String lastConnectError;
    private volatile boolean closed;
    private volatile DurableSessionException producerFenced;

    private long nextProducerSeq;
    private final AtomicLong appendsAcked = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong duplicateAcks = new AtomicLong();

    private DurableAgent(Builder b) {
        url = b.url;
        connectQuery = b.connectQuery;
        sessionId = b.sessionId;
        producerId = b.producerId;
        epoch = b.epoch;
        window = b.window;
        maxDeltaBytes = Math.min(b.maxDeltaBytes, Limits.MAX_EVENT_BYTES - ENVELOPE_RESERVE);
        heartbeatInterval = b.heartbeatInterval;
        requestTimeout = b.requestTimeout;
        maxConnectionAge = b.maxConnectionAge;
        backoff = b.backoff;
        onControl = b.onControl;
        deliver = b.deliver;
        http = b.http != null ? b.http : HttpClient.newHttpClient();
        timers = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("ds-agent-timers-" + producerId).factory());
        sender = Thread.ofPlatform().daemon().name("ds-agent-sender-" + producerId).unstarted(this::sendLoop);
    }

    /**
     * @param url        the WebSocket URL, e.g. {@code ws://127.0.0.1:8787/local}
     * @param sessionId  the session this agent writes to
     * @param producerId the idempotent producer's id (stable across restarts of this agent)
     */
    public static Builder builder(URI url, String sessionId, String producerId) {
        return new Builder(url, sessionId, producerId);
    }

    public static final class Builder {
        private final URI url;
        private final String sessionId;
        private final String producerId;
        private Supplier<String> connectQuery = () -> "";
        private long epoch = System.currentTimeMillis();
        private Duration window = Duration.ofMillis(75);
        private int maxDeltaBytes = 16 * 1024;
        private Duration heartbeatInterval = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration maxConnectionAge = Duration.ofMinutes(110);
        private Backoff backoff = Backoff.DEFAULT;
        private Consumer<ControlEvent> onControl = e -> { };
        private Predicate<ObjectNode> deliver = f -> true;
        private HttpClient http;

        private Builder(URI url, String sessionId, String producerId) {
            this.url = Objects.requireNonNull(url);
            this.sessionId = Objects.requireNonNull(sessionId);
            this.producerId = Objects.requireNonNull(producerId);
        }

        /** Produces the {@code $connect} query string for each (re)connect ({@code id=…&role=agent} or a token). */
        public Builder connectQuery(Supplier<String> query) {
            this.connectQuery = Objects.requireNonNull(query);
            return this;
        }

        /** The producer epoch: must grow with every restart. Default: the start time in ms. */
        public Builder epoch(long epoch) {
            this.epoch = epoch;
            return this;
        }

        /** How long text waits for more text before it is sent; zero sends every delta at once. */
        public Builder coalesceWindow(Duration window) {
            this.window = window;
            return this;
        }

        /** Text of one {@code text.delta} event, in encoded bytes; more is flushed at once and split. */
        public Builder maxDeltaBytes(int bytes) {
            if (bytes < 64) throw new IllegalArgumentException("maxDeltaBytes too small");
            this.maxDeltaBytes = bytes;
            return this;
        }

        public Builder heartbeatInterval(Duration d) {
            this.heartbeatInterval = d;
            return this;
        }

        /** How long to wait for an ack before re-sending the same producer seq. */
        public Builder requestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        public Builder maxConnectionAge(Duration d) {
            this.maxConnectionAge = d;
            return this;
        }

        public Builder backoff(Backoff b) {
            this.backoff = b;
            return this;
        }

        /** Cancel, interrupt, steer and other fences of this agent's runs; runs on an SDK thread. */
        public Builder onControl(Consumer<ControlEvent> handler) {
            this.onControl = Objects.requireNonNull(handler);
            return this;
        }

        /** Fault injection for tests: inbound frames for which this returns false are dropped as if lost. */
        public Builder deliverInbound(Predicate<ObjectNode> deliver) {
            this.deliver = Objects.requireNonNull(deliver);
            return this;
        }

        public Builder httpClient(HttpClient client) {
            this.http = client;
            return this;
        }

        /** Connects (retrying with backoff until it works) and returns the running agent. */
        public DurableAgent connect() {
            DurableAgent a = new DurableAgent(this);
            a.ensureConnected();
            a.sender.start();
            long hb = heartbeatInterval.toMillis();
            a.timers.scheduleWithFixedDelay(a::heartbeatTick, hb, hb, TimeUnit.MILLISECONDS);
            return a;
        }
    }

    // ----------------------------------------------------------------------------- public API

    public String sessionId() {
        return sessionId;
    }

    /** Opens a run ({@code run.started}) and waits for the ack. */
    public Run startRun(String runId) {
        return startRun(runId, null);
    }

    /** Opens a sub-run of {@code parentRunId}; cancelling the parent cancels it too. */
    public Run startRun(String runId, String parentRunId) {
        ObjectNode data = Json.object();
        if (parentRunId != null) data.put("parentRunId", parentRunId);
        Run run;
        synchronized (this) {
            if (runs.containsKey(runId)) throw new IllegalStateException("run " + runId + " was started already");
            run = new Run(runId);
            runs.put(runId, new RunState(run));
        }
        Pending p = enqueue(EventType.RUN_STARTED, runId, null, data, false);
        if (!await(p.done)) throw new DurableSessionException("RUN_FENCED", "run " + runId + " could not start", null);
        return run;
    }

    /** Appends any event that is not part of a run (e.g. {@code agent.joined}, {@code custom}). */
    public CompletableFuture<Boolean> append(EventType type, ObjectNode data) {
        return enqueue(type, null, null, data, false).done;
    }

    /** Sends everything coalesced so far and waits until every append so far is acked. */
    public boolean flush() {
        CompletableFuture<Boolean> last;
        synchronized (this) {
            flushBuffers();
            last = queue.isEmpty() ? null : queue.peekLast().done;
        }
        boolean ok = last == null || await(last.exceptionally(e -> false));
        synchronized (this) {
            while (inFlight || !queue.isEmpty()) {
                try {
                    wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return ok;
    }

    /** Appends acked (duplicates included), re-sends, and duplicate acks: for tests and metrics. */
    public long appendsAcked() {
        return appendsAcked.get();
    }

    public long retries() {
        return retries.get();
    }

    public long duplicateAcks() {
        return duplicateAcks.get();
    }

    /** Drops the connection as a network cut would; the SDK reconnects and re-sends. */
    public void dropConnection() {
        WsConnection c;
        synchronized (this) {
            c = conn;
        }
        if (c != null) c.abort();
    }

    @Override
    public void close() {
        if (closed) return;
        try {
            flush();
        } finally {
            closed = true;
            sender.interrupt();
            timers.shutdownNow();
            WsConnection c;
            synchronized (this) {
                c = conn;
                conn = null;
                queue.forEach(p -> p.done.complete(false));
                queue.clear();
                notifyAll();
            }
            if (c != null) c.close();
        }
    }

    /** One run of this agent. */
    public final class Run {
        private final String runId;

        private Run(String runId) {
            this.runId = runId;
        }

        public String runId() {
            return runId;
        }

        /** True once the run is stopped, completed or failed: nothing more is written for it. */
        public boolean isFenced() {
            synchronized (DurableAgent.this) {
                RunState s = runs.get(runId);
                return s == null || s.fenced;
            }
        }

        /** Starts an assistant reply ({@code message.start}). */
        public Reply startReply(String messageId) {
            Reply r = new Reply(this, messageId);
            synchronized (DurableAgent.this) {
                RunState s = runs.get(runId);
                if (s != null) s.currentReply = messageId;
            }
            enqueue(EventType.MESSAGE_START, runId, messageId,
                    Json.object().put("messageId", messageId).put("role", "assistant"), false);
            return r;
        }

        public CompletableFuture<Boolean> toolCall(String toolCallId, String name, JsonNode arguments) {
            ObjectNode d = Json.object().put("toolCallId", toolCallId).put("name", name);
            d.set("arguments", arguments == null ? Json.object() : arguments);
            return enqueue(EventType.TOOL_CALL, runId, null, d, false).done;
        }

        public CompletableFuture<Boolean> toolResult(String toolCallId, JsonNode result, boolean isError) {
            ObjectNode d = Json.object().put("toolCallId", toolCallId);
            d.set("result", result);
            if (isError) d.put("isError", true);
            return enqueue(EventType.TOOL_RESULT, runId, null, d, false).done;
        }

        /** Any other event of this run ({@code custom}, …). */
        public CompletableFuture<Boolean> append(EventType type, ObjectNode data) {
            return enqueue(type, runId, null, data, false).done;
        }

        /** {@code run.completed}; returns false if the run was fenced first. Waits for the ack. */
        public boolean complete() {
            boolean ok = await(enqueue(EventType.RUN_COMPLETED, runId, null, Json.object(), false).done);
            markDone(ok);
            return ok;
        }

        /** {@code run.failed}; returns false if the run was fenced first. Waits for the ack. */
        public boolean fail(String reason) {
            boolean ok = await(enqueue(EventType.RUN_FAILED, runId, null, Json.object().put("reason", reason),
                    false).done);
            markDone(ok);
            return ok;
        }

        private void markDone(boolean ok) {
            synchronized (DurableAgent.this) {
                RunState s = runs.get(runId);
                if (s != null) s.fenced = true;
            }
        }
    }

    /** One assistant reply (message) of a run, streamed with {@link #delta}. */
    public final class Reply {
        private final Run run;
        private final String messageId;
        private final StringBuilder text = new StringBuilder();
        private int bytes;
        private boolean ended;

        private Reply(Run run, String messageId) {
            this.run = run;
            this.messageId = messageId;
        }

        public String messageId() {
            return messageId;
        }

        public Run run() {
            return run;
        }

        /** True once the reply or its run was fenced (interrupted, stopped, …). */
        public boolean isFenced() {
            synchronized (DurableAgent.this) {
                return fencedMessages.contains(messageId) || run.isFenced();
            }
        }

        /**
         * Adds text. Never blocks on the network: the text is coalesced and sent within the
         * window. Ignored once the reply is fenced.
         */
        public void delta(String more) {
            if (more == null || more.isEmpty()) return;
            synchronized (DurableAgent.this) {
                if (ended || fencedMessages.contains(messageId) || isRunFenced(run.runId)) return;
                boolean first = text.isEmpty();
                text.append(more);
                bytes += encodedBytes(more, 0, more.length());
                if (window.isZero() || bytes >= maxDeltaBytes) {
                    flushReply(this);
                } else if (first) {
                    buffered.add(this);
                    timers.schedule(() -> {
                        synchronized (DurableAgent.this) {
                            flushReply(this);
                        }
                    }, window.toNanos(), TimeUnit.NANOSECONDS);
                }
            }
        }

        /** {@code message.end} ({@code complete}); returns false if the reply was fenced. Waits for the ack. */
        public boolean end() {
            return end(null);
        }

        /** {@code message.end} with a reason ({@code complete}, {@code interrupted}, {@code error}). */
        public boolean end(String reason) {
            ObjectNode d = Json.object().put("messageId", messageId);
            if (reason != null) d.put("reason", reason);
            Pending p;
            synchronized (DurableAgent.this) {
                if (ended) return false;
                ended = true;
                p = enqueue(EventType.MESSAGE_END, run.runId, messageId, d, false);
            }
            return await(p.done);
        }
    }

    // ----------------------------------------------------------------------------- internals

    private static final class RunState {
        final Run run;
        boolean fenced;
        boolean stopAcked;
        boolean notified;
        String currentReply;

        RunState(Run run) {
            this.run = run;
        }
    }

    /** One event waiting to be sent. */
    private static final class Pending {
        final EventType type;
        final String runId;
        final String messageId;
        final ObjectNode data;
        final boolean bypassFence;
        final CompletableFuture<Boolean> done = new CompletableFuture<>();

        Pending(EventType type, String runId, String messageId, ObjectNode data, boolean bypassFence) {
            this.type = type;
            this.runId = runId;
            this.messageId = messageId;
            this.data = data;
            this.bypassFence = bypassFence;
        }

        ObjectNode toInput() {
            ObjectNode n = Json.object().put("type", type.wire());
            n.set("data", data);
            return n;
        }

        int size() {
            return Json.write(toInput()).getBytes(StandardCharsets.UTF_8).length;
        }
    }

    private synchronized Pending enqueue(EventType type, String runId, String messageId, ObjectNode data,
                                         boolean bypassFence) {
        if (closed) throw new IllegalStateException("agent closed");
        flushBuffers(); // text written before this call goes first
        Pending p = new Pending(type, runId, messageId, data, bypassFence);
        if (producerFenced != null) {
            p.done.completeExceptionally(producerFenced);
        } else {
            queue.add(p);
            notifyAll();
        }
        return p;
    }

    private void flushBuffers() {
        for (Reply r : List.copyOf(buffered)) flushReply(r);
    }

    /** Moves a reply's coalesced text to the queue, split so every event fits. Holds the lock. */
    private void flushReply(Reply r) {
        buffered.remove(r);
        if (r.text.isEmpty()) return;
        String all = r.text.toString();
        r.text.setLength(0);
        r.bytes = 0;
        if (fencedMessages.contains(r.messageId) || isRunFenced(r.run.runId)) return;
        int at = 0;
        while (at < all.length()) {
            int end = splitPoint(all, at, maxDeltaBytes);
            queue.add(new Pending(EventType.TEXT_DELTA, r.run.runId, r.messageId,
                    Json.object().put("messageId", r.messageId).put("text", all.substring(at, end)), false));
            at = end;
        }
        notifyAll();
    }

    private boolean isRunFenced(String runId) {
        RunState s = runs.get(runId);
        return s != null && s.fenced;
    }

    /** Bytes of {@code s[from, to)} once JSON-escaped and UTF-8 encoded (an upper bound). */
    static int encodedBytes(CharSequence s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) n += charBytes(s.charAt(i));
        return n;
    }

    private static int charBytes(char c) {
        if (c == '"' || c == '\\') return 2;
        if (c < 0x20) return 6;
        if (c < 0x80) return 1;
        if (c < 0x800) return 2;
        if (Character.isSurrogate(c)) return 2;
        return 3;
    }

    /** The end of the longest chunk from {@code at} within {@code budget} bytes, never inside a surrogate pair. */
    static int splitPoint(String s, int at, int budget) {
        int n = 0, i = at;
        while (i < s.length()) {
            int b = charBytes(s.charAt(i));
            if (n + b > budget) break;
            n += b;
            i++;
        }
        if (i == at) i = Math.min(s.length(), at + 1);
        if (i < s.length() && i > at + 1 && Character.isHighSurrogate(s.charAt(i - 1))) i--;
        return i;
    }

    private boolean await(CompletableFuture<Boolean> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DurableSessionException d) throw d;
            throw new IllegalStateException(e.getCause());
        }
    }

    // -------------------------------------------------------------------------------- sending

    private void sendLoop() {
        while (!closed) {
            List<Pending> batch;
            synchronized (this) {
                while (queue.isEmpty() && !closed) {
                    try {
                        wait(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) return;
                batch = takeBatch();
                inFlight = true;
            }
            try {
                send(batch);
            } catch (RuntimeException e) {
                batch.forEach(p -> p.done.completeExceptionally(e));
            } finally {
                synchronized (this) {
                    inFlight = false;
                    notifyAll();
                }
            }
        }
    }

    /** Consecutive events of the same run, within the per-append limits; text of one reply is merged. */
    private List<Pending> takeBatch() {
        List<Pending> batch = new ArrayList<>();
        Pending first = queue.poll();
        batch.add(first);
        int bytes = first.size();
        while (!queue.isEmpty() && batch.size() < Limits.MAX_EVENTS_PER_APPEND) {
            Pending next = queue.peek();
            if (!Objects.equals(next.runId, first.runId)) break;
            Pending prev = batch.get(batch.size() - 1);
            int size = next.size();
            if (prev.type == EventType.TEXT_DELTA && next.type == EventType.TEXT_DELTA
                    && prev.messageId.equals(next.messageId)) {
                String a = prev.data.path("text").asText(), b = next.data.path("text").asText();
                if (encodedBytes(a, 0, a.length()) + encodedBytes(b, 0, b.length()) <= maxDeltaBytes) {
                    queue.poll();
                    prev.data.put("text", a + b);
                    prev.done.whenComplete((ok, err) -> { // rides on prev: same outcome
                        if (err != null) next.done.completeExceptionally(err);
                        else next.done.complete(ok);
                    });
                    bytes += size;
                    continue;
                }
            }
            if (bytes + size > APPEND_BUDGET) break;
            batch.add(queue.poll());
            bytes += size;
        }
        return batch;
    }

    private void send(List<Pending> batch) {
        int attempt = 0;
        boolean resent = false;
        while (!closed) {
            List<Pending> live = new ArrayList<>();
            synchronized (this) {
                for (Pending p : batch) {
                    boolean fenced = !p.bypassFence && (isRunFenced(p.runId) && p.type != EventType.RUN_STARTED
                            || p.messageId != null && fencedMessages.contains(p.messageId));
                    if (fenced) p.done.complete(false);
                    else live.add(p);
                }
            }
            if (live.isEmpty()) return;
            batch = live;
            ObjectNode frame = Json.object().put("action", "append").put("sessionId", sessionId);
            String runId = batch.get(0).runId;
            if (runId != null) frame.put("runId", runId);
            long seq;
            synchronized (this) {
                seq = nextProducerSeq;
            }
            frame.putObject("producer").put("id", producerId).put("epoch", epoch).put("seq", seq);
            ArrayNode events = frame.putArray("events");
            batch.forEach(p -> events.add(p.toInput()));

            ObjectNode answer;
            WsConnection c = ensureConnected();
            if (c == null) return;
            try {
                answer = c.request(frame).get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                retries.incrementAndGet(); // lost ack or lost connection: the same producer seq again
                resent = true;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if ("ack".equals(answer.path("type").asText())) {
                boolean dup = answer.path("duplicate").asBoolean(false);
                if (dup) duplicateAcks.incrementAndGet();
                appendsAcked.incrementAndGet();
                long firstSeq = answer.path("firstSeq").asLong(0);
                boolean subscribeNow;
                synchronized (this) {
                    nextProducerSeq = seq + 1;
                    subscribeNow = controlCursor < 0 && firstSeq > 0;
                    if (subscribeNow) controlCursor = firstSeq - 1;
                }
                batch.forEach(p -> p.done.complete(true));
                if (subscribeNow) subscribeControl(c);
                return;
            }
            String code = answer.path("code").asText();
            ObjectNode details = answer.get("details") instanceof ObjectNode d ? d : Json.object();
            if (RETRY.contains(code)) {
                retries.incrementAndGet();
                long wait = Math.max(details.path("retryAfterMs").asLong(0), backoff.delay(attempt++).toMillis());
                sleep(wait);
                continue;
            }
            switch (code) {
                case "MESSAGE_FENCED" -> {
                    String m = details.path("messageId").asText(null);
                    synchronized (this) {
                        if (m != null) fencedMessages.add(m);
                        else batch.stream().filter(p -> p.messageId != null)
                                .forEach(p -> fencedMessages.add(p.messageId));
                    }
                    continue; // nothing was written: the rest goes again with the same producer seq
                }
                case "RUN_FENCED" -> {
                    String state = details.path("state").asText("");
                    Pending lastEvent = batch.get(batch.size() - 1);
                    if (resent && (state.equals("completed") && lastEvent.type == EventType.RUN_COMPLETED
                            || state.equals("failed") && lastEvent.type == EventType.RUN_FAILED)) {
                        // our own earlier attempt ended the run and its ack was lost
                        synchronized (this) {
                            nextProducerSeq = seq + 1;
                        }
                        batch.forEach(p -> p.done.complete(true));
                        return;
                    }
                    if (runId != null) fenced(runId, state, null, 0, null);
                    batch.forEach(p -> p.done.complete(false));
                    return;
                }
                case "STALE_EPOCH" -> {
                    DurableSessionException e = DurableSessionException.of(answer);
                    producerFenced = e;
                    batch.forEach(p -> p.done.completeExceptionally(e));
                    return;
                }
                case "INVALID_TRANSITION" -> {
                    if (batch.stream().allMatch(p -> p.bypassFence)) {
                        batch.forEach(p -> p.done.complete(false));
                        return;
                    }
                    DurableSessionException e = DurableSessionException.of(answer);
                    batch.forEach(p -> p.done.completeExceptionally(e));
                    return;
                }
                default -> {
                    DurableSessionException e = DurableSessionException.of(answer);
                    batch.forEach(p -> p.done.completeExceptionally(e));
                    return;
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ----------------------------------------------------------------------------- connection

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
                    c = WsConnection.open(http, WsConnection.connectUri(url, connectQuery), Duration.ofSeconds(10),
                            this::onFrame, this::onClosed, deliver);
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
                    resubscribe = controlCursor >= 0;
                }
                if (resubscribe) subscribeControl(c);
                return c;
            }
            if (attempt == 3) System.getLogger(DurableAgent.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot connect, retrying: " + lastConnectError);
            sleep(backoff.delay(attempt++).toMillis());
        }
        return null;
    }

    private void onClosed(WsConnection c) {
        if (closed) return;
        // reconnect in the background so control events keep coming while no append is pending
        timers.schedule(() -> {
            if (!closed) ensureConnected();
        }, backoff.delay(0).toMillis(), TimeUnit.MILLISECONDS);
    }

    private void subscribeControl(WsConnection c) {
        ObjectNode f = Json.object().put("action", "subscribe").put("sessionId", sessionId).put("controlOnly", true);
        synchronized (this) {
            f.put("afterSeq", Math.max(controlCursor, lastControlSeq));
        }
        c.request(f).orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS).whenCompleteAsync((a, err) -> {
            if (closed || err != null) return; // a lost connection subscribes again on reconnect
            if ("subscribed".equals(a.path("type").asText())) {
                synchronized (this) {
                    controlCursor = Math.max(controlCursor, a.path("headSeq").asLong(0));
                }
                if (!a.path("complete").asBoolean(true)) subscribeControl(c);
            } else {
                timers.schedule(() -> subscribeControl(c), backoff.delay(1).toMillis(), TimeUnit.MILLISECONDS);
            }
        }, timers);
    }

    private void heartbeatTick() {
        if (closed) return;
        List<String> open = new ArrayList<>();
        WsConnection c;
        synchronized (this) {
            c = conn;
            runs.forEach((id, s) -> {
                if (!s.fenced) open.add(id);
            });
        }
        if (c == null || !c.isOpen()) return;
        if (c.age().compareTo(maxConnectionAge) >= 0) {
            c.close(); // before API Gateway does; the next append or the background reconnect resumes
            return;
        }
        for (String runId : open) {
            c.request(Json.object().put("action", "heartbeat").put("sessionId", sessionId).put("runId", runId))
                    .whenComplete((a, err) -> {
                        if (a != null && "RUN_FENCED".equals(a.path("code").asText())) {
                            fenced(runId, a.path("details").path("state").asText(""), null, 0, null);
                        }
                    });
        }
    }

    // -------------------------------------------------------------------------------- control

    private void onFrame(ObjectNode frame) {
        if (!"events".equals(frame.path("type").asText())) return;
        for (JsonNode e : frame.path("events")) {
            long seq = e.path("seq").asLong();
            String type = e.path("type").asText();
            String runId = e.path("runId").asText(null);
            synchronized (this) {
                if (seq <= lastControlSeq) continue;
                lastControlSeq = seq;
                if (runId == null || !runs.containsKey(runId)) continue; // not one of ours
            }
            Event event;
            try {
                event = Event.fromJson(Json.write(e));
            } catch (RuntimeException unknown) {
                continue;
            }
            switch (type) {
                case "run.stop_requested" -> fenced(runId, "stop_requested", event.dataText("reason"), seq, event);
                case "run.stopped" -> fenced(runId, "stopped", event.dataText("reason"), seq, event);
                case "run.interrupted" -> {
                    String m = event.dataText("messageId");
                    synchronized (this) {
                        if (m == null) m = runs.get(runId).currentReply;
                        if (m != null) fencedMessages.add(m);
                    }
                    notify(new ControlEvent(ControlEvent.Kind.INTERRUPT, runId, m, null, seq, event));
                }
                case "run.steered" -> notify(new ControlEvent(ControlEvent.Kind.STEER, runId, null,
                        event.dataText("text"), seq, event));
                default -> { }
            }
        }
    }

    /** A run of ours is fenced: stop writing it, acknowledge a requested stop, tell the owner once. */
    private void fenced(String runId, String state, String reason, long seq, Event event) {
        boolean ack, tell;
        synchronized (this) {
            RunState s = runs.get(runId);
            if (s == null) return;
            boolean wasOpen = !s.fenced;
            s.fenced = true;
            ack = "stop_requested".equals(state) && !s.stopAcked;
            if (ack) s.stopAcked = true;
            tell = !s.notified && (wasOpen || ack);
            if (tell) s.notified = true;
            for (Reply r : List.copyOf(buffered)) {
                if (r.run.runId.equals(runId)) {
                    buffered.remove(r);
                    r.text.setLength(0);
                }
            }
            queue.removeIf(p -> {
                if (runId.equals(p.runId) && !p.bypassFence) {
                    p.done.complete(false);
                    return true;
                }
                return false;
            });
            if (ack) {
                queue.add(new Pending(EventType.RUN_STOP_ACKNOWLEDGED, runId, null, Json.object(), true));
                notifyAll();
            }
        }
        if (tell) {
            boolean stop = "stop_requested".equals(state) || "stopped".equals(state);
            notify(new ControlEvent(stop ? ControlEvent.Kind.CANCEL : ControlEvent.Kind.FENCED, runId, null, reason,
                    seq, event));
        }
    }

    private void notify(ControlEvent e) {
        try {
            onControl.accept(e);
        } catch (RuntimeException ignored) {
            // the owner's handler must not break the SDK
        }
    }
}
