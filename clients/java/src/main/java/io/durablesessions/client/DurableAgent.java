package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Coalescing;
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
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The agent side of a session: opens runs, streams replies, calls tools, and obeys stop, interrupt
 * and steer — over the WebSocket or over the HTTP API, chosen by the URL's scheme (see
 * {@link #builder}); everything below is the same for both.
 *
 * <ul>
 *   <li>Every append goes through ONE idempotent producer {@code (id, epoch, seq)}, one at a time
 *       (the next is sent when the previous is acked). A timeout, {@code INTERNAL},
 *       {@code CONTENTION}, {@code RATE_LIMITED} or a lost connection or response re-sends the
 *       SAME producer seq, so a lost ack never writes twice ({@code duplicate: true} counts as
 *       success).</li>
 *   <li>{@link Reply#delta} is coalesced: text waits at most {@code coalesceWindow} (default
 *       {@link Coalescing#DEFAULT_WINDOW}, 150 ms) from its first character and goes out as one {@code text.delta}; big text is split
 *       so every event stays under {@link Limits#MAX_EVENT_BYTES}.</li>
 *   <li>Cancel, interrupt and steer reach {@code onControl} once each (deduplicated by seq). Over
 *       the WebSocket they come from a {@code controlOnly} subscription; over HTTP in the answer to
 *       every append and heartbeat of the run, and the SDK acknowledges each one once its callback
 *       ran, so it is not repeated. Once a run (or reply) is fenced the SDK drops its pending and
 *       later events, and acknowledges a requested stop.</li>
 *   <li>A run that wrote nothing for {@code heartbeatInterval} (5 s) sends {@code heartbeat}
 *       (over HTTP, that is also when an idle run learns of its control).</li>
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

    private final String sessionId;
    private final String producerId;
    private final long epoch;
    private final Duration window;
    private final int maxDeltaBytes;
    private final Duration heartbeatInterval;
    private final Backoff backoff;
    private final Consumer<ControlEvent> onControl;
    private final ScheduledExecutorService timers;
    /** Runs the owner's callbacks, in order, off the threads that send and receive. */
    private final ExecutorService callbacks;
    private final AgentTransport transport;
    private final Thread sender;

    // guarded by this
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final Map<String, RunState> runs = new HashMap<>();
    private final Set<String> fencedMessages = new HashSet<>();
    private final List<Reply> buffered = new ArrayList<>();
    private boolean inFlight;
    private volatile boolean closed;
    private volatile DurableSessionException producerFenced;

    private long nextProducerSeq;
    private final AtomicLong appendsAcked = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong duplicateAcks = new AtomicLong();

    private DurableAgent(Builder b) {
        sessionId = b.sessionId;
        producerId = b.producerId;
        epoch = b.epoch;
        window = b.window;
        maxDeltaBytes = Math.min(b.maxDeltaBytes, Limits.MAX_EVENT_BYTES - ENVELOPE_RESERVE);
        heartbeatInterval = b.heartbeatInterval;
        backoff = b.backoff;
        onControl = b.onControl;
        timers = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("ds-agent-timers-" + producerId).factory());
        callbacks = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("ds-agent-control-" + producerId).factory());
        transport = b.isHttp()
                ? new HttpAgentTransport(b.http != null ? b.http : HttpClient.newBuilder()
                        .connectTimeout(Duration.ofSeconds(10)).build(), b.url, sessionId, b.bearerToken, b.signer,
                        b.requestTimeout, this::onControlEvent)
                : new WsAgentTransport(b.http != null ? b.http : HttpClient.newHttpClient(), b.url, b.connectQuery,
                        sessionId, b.requestTimeout, b.maxConnectionAge, backoff, b.deliver, this::onControlEvent, timers);
        sender = Thread.ofPlatform().daemon().name("ds-agent-sender-" + producerId).unstarted(this::sendLoop);
    }

    /**
     * The transport follows the URL's scheme:
     * <ul>
     *   <li>{@code ws://} or {@code wss://}: the WebSocket URL, e.g. {@code ws://127.0.0.1:8787/local};
     *       authenticate with {@link Builder#connectQuery}.</li>
     *   <li>{@code http://} or {@code https://}: the HTTP API's base URL, below which its paths start
     *       with {@code /v1}, e.g. {@code http://127.0.0.1:8787} locally or the API Gateway stage URL;
     *       authenticate with {@link Builder#bearerToken} and/or {@link Builder#requestSigner}.</li>
     * </ul>
     *
     * @param url        the WebSocket URL or the HTTP API's base URL
     * @param sessionId  the session this agent writes to
     * @param producerId the idempotent producer's id (stable across restarts of this agent)
     */
    public static Builder builder(URI url, String sessionId, String producerId) {
        return new Builder(url, sessionId, producerId);
    }

    public static final class Builder {
        private static final Set<String> SCHEMES = Set.of("ws", "wss", "http", "https");

        private final URI url;
        private final String sessionId;
        private final String producerId;
        private Supplier<String> connectQuery = () -> "";
        private Supplier<String> bearerToken = () -> null;
        private RequestSigner signer = RequestSigner.NONE;
        private long epoch = System.currentTimeMillis();
        private Duration window = Coalescing.DEFAULT_WINDOW;
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
            if (url.getScheme() == null || !SCHEMES.contains(url.getScheme().toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("url must be ws://, wss:// (WebSocket), http:// or https:// (HTTP API): " + url);
            }
        }

        private boolean isHttp() {
            return url.getScheme().toLowerCase(Locale.ROOT).startsWith("http");
        }

        /** WebSocket: produces the {@code $connect} query string for each (re)connect ({@code token=…}). */
        public Builder connectQuery(Supplier<String> query) {
            this.connectQuery = Objects.requireNonNull(query);
            return this;
        }

        /**
         * HTTP: the token sent as {@code Authorization: Bearer …}, asked for on every request so a
         * refreshed token is used as soon as there is one. Null or empty sends none.
         */
        public Builder bearerToken(Supplier<String> token) {
            this.bearerToken = Objects.requireNonNull(token);
            return this;
        }

        /** HTTP: adds headers to every request just before it goes out (e.g. an AWS SigV4 signature). */
        public Builder requestSigner(RequestSigner signer) {
            this.signer = Objects.requireNonNull(signer);
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

        /** How long an open run may go without writing before it sends a heartbeat. */
        public Builder heartbeatInterval(Duration d) {
            this.heartbeatInterval = d;
            return this;
        }

        /** How long to wait for an ack before re-sending the same producer seq. */
        public Builder requestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        /** WebSocket: the connection is replaced after this long (API Gateway closes it at 2 hours). */
        public Builder maxConnectionAge(Duration d) {
            this.maxConnectionAge = d;
            return this;
        }

        public Builder backoff(Backoff b) {
            this.backoff = b;
            return this;
        }

        /**
         * Cancel, interrupt, steer and other fences of this agent's runs; runs on an SDK thread, one
         * at a time in seq order, never on the thread that sends appends.
         */
        public Builder onControl(Consumer<ControlEvent> handler) {
            this.onControl = Objects.requireNonNull(handler);
            return this;
        }

        /** WebSocket fault injection for tests: inbound frames for which this returns false are dropped as if lost. */
        public Builder deliverInbound(Predicate<ObjectNode> deliver) {
            this.deliver = Objects.requireNonNull(deliver);
            return this;
        }

        /** The JDK client for the WebSocket or for the HTTP requests. */
        public Builder httpClient(HttpClient client) {
            this.http = client;
            return this;
        }

        /**
         * Returns the running agent. The WebSocket connects first (retrying with backoff until it
         * works); HTTP has nothing to open, so a wrong URL or token shows in the first request.
         */
        public DurableAgent connect() {
            DurableAgent a = new DurableAgent(this);
            a.transport.start();
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

    /** Drops the WebSocket connection as a network cut would; the SDK reconnects and re-sends. No-op over HTTP. */
    public void dropConnection() {
        transport.drop();
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
            synchronized (this) {
                queue.forEach(p -> p.done.complete(false));
                queue.clear();
                notifyAll();
            }
            transport.close();
            callbacks.shutdown(); // callbacks already due still run
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
        /** Control seen (dedup: control comes at least once) and handled (its callbacks ran). */
        long lastControlSeq;
        long handledControlSeq;
        /** An append of the run was accepted since the last heartbeat tick: that is a sign of life too. */
        boolean wroteSinceTick;

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
            ObjectNode append = Json.object();
            String runId = batch.get(0).runId;
            if (runId != null) append.put("runId", runId);
            long seq;
            synchronized (this) {
                seq = nextProducerSeq;
            }
            append.putObject("producer").put("id", producerId).put("epoch", epoch).put("seq", seq);
            ArrayNode events = append.putArray("events");
            batch.forEach(p -> events.add(p.toInput()));

            long started = System.nanoTime();
            switch (transport.append(append)) {
                case AgentTransport.Lost lost -> {
                    if (closed) break;
                    retries.incrementAndGet(); // lost ack, response or connection: the same producer seq again
                    resent = true;
                    // the first re-send goes at once; later ones are paced from the attempt's start, so a
                    // refused connection does not spin while a timeout that already waited goes on
                    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    if (attempt > 0) sleep(backoff.delay(attempt - 1).toMillis() - elapsed);
                    attempt++;
                }
                case AgentTransport.Acked ack -> {
                    if (ack.duplicate()) duplicateAcks.incrementAndGet();
                    appendsAcked.incrementAndGet();
                    synchronized (this) {
                        nextProducerSeq = seq + 1;
                        RunState s = runId == null ? null : runs.get(runId);
                        if (s != null) s.wroteSinceTick = true;
                    }
                    batch.forEach(p -> p.done.complete(true));
                    return;
                }
                case AgentTransport.Refused refused -> {
                    if (RETRY.contains(refused.code())) {
                        retries.incrementAndGet();
                        sleep(Math.max(refused.retryAfterMs(), backoff.delay(attempt++).toMillis()));
                    } else if (stopStillBeingRecorded(refused, batch) && attempt < 6) {
                        // we learned of the stop while the service had claimed it but not yet recorded
                        // it; our acknowledgement overtook it: again shortly, nothing was written
                        sleep(backoff.delay(attempt++).toMillis());
                    } else if (refused(refused, batch, seq, resent)) {
                        return;
                    }
                }
            }
        }
        batch.forEach(p -> p.done.complete(false)); // closed
    }

    private static boolean stopStillBeingRecorded(AgentTransport.Refused r, List<Pending> batch) {
        return "INVALID_TRANSITION".equals(r.code()) && "running".equals(r.details().path("state").asText())
                && batch.stream().allMatch(p -> p.type == EventType.RUN_STOP_ACKNOWLEDGED);
    }

    /** Settles a batch the service refused for good; false when the rest goes again (same producer seq). */
    private boolean refused(AgentTransport.Refused r, List<Pending> batch, long seq, boolean resent) {
        String runId = batch.get(0).runId;
        switch (r.code()) {
            case "MESSAGE_FENCED" -> {
                String m = r.details().path("messageId").asText(null);
                synchronized (this) {
                    if (m != null) fencedMessages.add(m);
                    else batch.stream().filter(p -> p.messageId != null).forEach(p -> fencedMessages.add(p.messageId));
                }
                return false; // nothing was written: the rest goes again with the same producer seq
            }
            case "RUN_FENCED" -> {
                String state = r.details().path("state").asText("");
                Pending lastEvent = batch.get(batch.size() - 1);
                if (resent && (state.equals("completed") && lastEvent.type == EventType.RUN_COMPLETED
                        || state.equals("failed") && lastEvent.type == EventType.RUN_FAILED)) {
                    // our own earlier attempt ended the run and its ack was lost
                    synchronized (this) {
                        nextProducerSeq = seq + 1;
                    }
                    batch.forEach(p -> p.done.complete(true));
                    return true;
                }
                if (runId != null) fenced(runId, state, null, 0, null);
                batch.forEach(p -> p.done.complete(false));
                return true;
            }
            case "STALE_EPOCH" -> {
                DurableSessionException e = r.exception();
                producerFenced = e;
                batch.forEach(p -> p.done.completeExceptionally(e));
                return true;
            }
            case "INVALID_TRANSITION" -> {
                if (batch.stream().allMatch(p -> p.bypassFence)) {
                    batch.forEach(p -> p.done.complete(false));
                    return true;
                }
                DurableSessionException e = r.exception();
                batch.forEach(p -> p.done.completeExceptionally(e));
                return true;
            }
            default -> {
                DurableSessionException e = r.exception();
                batch.forEach(p -> p.done.completeExceptionally(e));
                return true;
            }
        }
    }

    static void sleep(long ms) {
        if (ms <= 0) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every open run that wrote nothing since the last tick sends a heartbeat (over HTTP it also brings its control). */
    private void heartbeatTick() {
        if (closed) return;
        try {
            transport.maintain();
            List<String> quiet = new ArrayList<>();
            synchronized (this) {
                runs.forEach((id, s) -> {
                    if (s.fenced) return;
                    if (s.wroteSinceTick) s.wroteSinceTick = false;
                    else quiet.add(id);
                });
            }
            for (String runId : quiet) {
                transport.heartbeat(runId).thenAccept(o -> {
                    String state = o instanceof AgentTransport.Refused r && "RUN_FENCED".equals(r.code())
                            ? r.details().path("state").asText("") : null;
                    // "running" while refused: a stop is being recorded; its event (or the next tick) says more
                    if (state != null && !state.equals("running")) fenced(runId, state, null, 0, null);
                });
            }
        } catch (RuntimeException e) {
            // e.g. the token supplier failed: the next tick tries again (a throw would end the schedule)
        }
    }

    // -------------------------------------------------------------------------------- control

    /** A control event from the transport: at least once, in seq order per run. */
    private void onControlEvent(JsonNode e) {
        long seq = e.path("seq").asLong();
        String type = e.path("type").asText();
        String runId = e.path("runId").asText(null);
        long handled;
        synchronized (this) {
            RunState s = runId == null ? null : runs.get(runId);
            if (s == null) return; // not one of ours
            if (seq <= s.lastControlSeq) {
                handled = s.handledControlSeq;
            } else {
                s.lastControlSeq = seq;
                handled = -1;
            }
        }
        if (handled >= 0) {
            // a repeat; if its callbacks ran already, the acknowledgement was lost or is on its way
            if (seq <= handled) transport.acknowledge(runId, handled);
            return;
        }
        Event event;
        try {
            event = Event.fromJson(Json.write(e));
        } catch (RuntimeException unknown) {
            event = null; // a type this SDK does not know: nothing to obey, still acknowledged
        }
        if (event != null) {
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
        // after the callbacks above (one thread, in order): acknowledged only once obeyed
        onCallbackThread(() -> {
            synchronized (this) {
                RunState s = runs.get(runId);
                s.handledControlSeq = Math.max(s.handledControlSeq, seq);
            }
            transport.acknowledge(runId, seq);
        });
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
        onCallbackThread(() -> onControl.accept(e));
    }

    private void onCallbackThread(Runnable r) {
        try {
            callbacks.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException ignored) {
                    // the owner's handler must not break the SDK
                }
            });
        } catch (RejectedExecutionException closedAlready) {
            // closed: nobody is listening any more
        }
    }
}
