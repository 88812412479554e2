package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Coalescing;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.TraceParent;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
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
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The agent side of a session: opens runs, streams replies, calls tools, and obeys stop, interrupt
 * and steer — over the WebSocket or over the HTTP API, chosen by the URL's scheme (see
 * {@link #builder}); everything below is the same for both.
 *
 * <ul>
 *   <li>Every append goes through ONE idempotent producer {@code (id, epoch, seq)}, with up to
 *       {@code maxInFlight} (default 4) on their way at once under consecutive seqs; the service stores
 *       them in seq order, so appends keep their call order. A timeout, {@code INTERNAL},
 *       {@code CONTENTION}, {@code RATE_LIMITED} or a lost connection or response re-sends the
 *       SAME producer seq, so a lost ack never writes twice ({@code duplicate: true} counts as
 *       success).</li>
 *   <li>{@link Reply#delta} is coalesced: text waits at most {@code coalesceWindow} (default
 *       {@link Coalescing#DEFAULT_WINDOW}, 300 ms): a reply appends its text at most once per window, the first text of a reply (or the first after a quiet window) at once, the rest as one {@code text.delta} a window after the last; big text is split
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
 * <p>Calls are thread-safe. Appends keep the order in which they were called. The parts, each
 * package-private: {@link ReplyCoalescer} (the window), {@link ProducerQueue} (what goes in one
 * append), {@link AppendPolicy} (what an answer means), {@link ControlInbox} (runs, fences, control),
 * {@link AgentTransport} (the WebSocket or the HTTP API).
 */
public final class DurableAgent implements AutoCloseable {
    /** Appends on their way at once unless {@link Builder#maxInFlight} says otherwise. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 4;

    /** Room left in a stored event for its envelope (ids are at most 128 chars each). */
    private static final int ENVELOPE_RESERVE = 2048;

    private final String sessionId;
    private final String producerId;
    private final long epoch;
    private final Supplier<String> traceparent;
    private final ScheduledExecutorService timers;
    /** Runs the owner's callbacks, in order, off the threads that send and receive. */
    private final ExecutorService callbacks;

    private final Consumer<AppendRecord> onAppend;
    private final AppendPolicy policy;
    private final ProducerQueue queue;
    private final ReplyCoalescer coalescer;
    private final ControlInbox inbox;
    private final AgentTransport transport;
    private final Thread sender;
    /** Sends the appends in flight, each waiting for its own answer (at most {@code maxInFlight} at once). */
    private final ExecutorService senders;

    private final int maxInFlight;
    /** The producer seqs in flight; guarded by this agent's lock. */
    private final ProducerPipeline<List<Pending>> pipeline;
    /** Replies started and not ended, by message id: a run's end ends them; guarded by this agent's lock. */
    private final Map<String, Reply> openReplies = new LinkedHashMap<>();

    private volatile boolean closed;
    private volatile DurableSessionException producerFenced;

    private final AtomicLong appendsAcked = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong duplicateAcks = new AtomicLong();

    private DurableAgent(Builder b) {
        sessionId = b.sessionId;
        producerId = b.producerId;
        epoch = b.epoch;
        traceparent = b.traceparent;
        int maxDeltaBytes = Math.min(b.maxDeltaBytes, Limits.MAX_EVENT_BYTES - ENVELOPE_RESERVE);
        onAppend = b.onAppend;
        timers = Executors.newSingleThreadScheduledExecutor(Threads.daemonFactory("ds-agent-timers-" + producerId));
        callbacks = Executors.newSingleThreadExecutor(Threads.daemonFactory("ds-agent-control-" + producerId));
        Backoff backoff = b.backoff;
        policy = new AppendPolicy(backoff::delay);
        queue = new ProducerQueue(maxDeltaBytes);
        coalescer = new ReplyCoalescer(b.window, maxDeltaBytes, System::nanoTime, this::startWindow, this::queueHeld);
        inbox = new ControlInbox(this, b.onControl, callbacks, new ControlInbox.Actions() {
            @Override
            public void dropRun(String runId) {
                coalescer.dropRun(runId);
                queue.dropRun(runId);
                openReplies.values().removeIf(r -> r.run.runId.equals(runId));
            }

            @Override
            public void dropMessage(String messageId) {
                coalescer.dropMessage(messageId);
                openReplies.remove(messageId);
            }

            @Override
            public void acknowledgeStop(String runId) {
                queue.add(new Pending(EventType.RUN_STOP_ACKNOWLEDGED, runId, null, Json.object(), true, null));
                DurableAgent.this.notifyAll();
            }

            @Override
            public void acknowledge(String runId, long seq) {
                transport.acknowledge(runId, seq);
            }
        });
        transport = b.transport(this);
        maxInFlight = b.maxInFlight;
        pipeline = new ProducerPipeline<>(maxInFlight);
        sender = Threads.unstarted("ds-agent-sender-" + producerId, this::sendLoop);
        senders = Executors.newFixedThreadPool(maxInFlight, Threads.daemonFactory("ds-agent-append-" + producerId));
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
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private int maxDeltaBytes = 16 * 1024;
        private Duration heartbeatInterval = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration maxConnectionAge = Duration.ofMinutes(110);
        private Backoff backoff = Backoff.DEFAULT;
        private Consumer<ControlEvent> onControl = e -> {};
        private Predicate<ObjectNode> deliver = f -> true;
        private HttpClient http;
        private Consumer<AppendRecord> onAppend;
        private Supplier<String> traceparent = () -> null;
        private Function<AgentTransport.ControlSink, AgentTransport> transport;

        private Builder(URI url, String sessionId, String producerId) {
            this.url = Objects.requireNonNull(url);
            this.sessionId = Objects.requireNonNull(sessionId);
            this.producerId = Objects.requireNonNull(producerId);
            if (url.getScheme() == null || !SCHEMES.contains(url.getScheme().toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException(
                        "url must be ws://, wss:// (WebSocket), http:// or https:// (HTTP API): " + url);
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

        /**
         * How many appends may be on their way at once, each under the next producer seq (docs/protocol.md
         * §2, {@code producer.pipeline}): 1 sends the next append when the previous one is answered; more
         * lets a fast producer go on while answers travel (the service stores them in seq order all the
         * same). At most {@link Limits#MAX_PRODUCER_IN_FLIGHT}; default {@value #DEFAULT_MAX_IN_FLIGHT}.
         */
        public Builder maxInFlight(int appends) {
            if (appends < 1 || appends > Limits.MAX_PRODUCER_IN_FLIGHT) {
                throw new IllegalArgumentException(
                        "maxInFlight must be between 1 and " + Limits.MAX_PRODUCER_IN_FLIGHT + ": " + appends);
            }
            this.maxInFlight = appends;
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

        /**
         * Told of every append once it was answered for good (stored or refused), on the SDK thread that
         * sent it, before the callers' futures complete: for metrics and tracing. Keep it short. With
         * several appends in flight, calls for consecutive seqs may overlap or come out of order.
         */
        public Builder onAppend(Consumer<AppendRecord> listener) {
            this.onAppend = Objects.requireNonNull(listener);
            return this;
        }

        /** Tests: another way to reach the service (a scripted fake), given where control goes. */
        Builder transport(Function<AgentTransport.ControlSink, AgentTransport> transport) {
            this.transport = transport;
            return this;
        }

        /**
         * The W3C {@code traceparent} each append carries (docs/protocol.md §3.1): asked once per append
         * the agent sends, on its sending thread (so capture a value, e.g. of the span that runs the
         * agent's turn, rather than read a thread-local context); null sends none, and so does a value
         * that is not a valid traceparent (the service would refuse the append). Subscribers see it on
         * every event of that append, and the service's spans continue the trace.
         */
        public Builder traceparent(Supplier<String> traceparent) {
            this.traceparent = Objects.requireNonNull(traceparent);
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

        private AgentTransport transport(DurableAgent a) {
            if (transport != null) return transport.apply(a.inbox::deliver);
            if (isHttp()) {
                return new HttpAgentTransport(
                        http != null
                                ? http
                                : HttpClient.newBuilder()
                                        .connectTimeout(Duration.ofSeconds(10))
                                        .build(),
                        url,
                        sessionId,
                        bearerToken,
                        signer,
                        requestTimeout,
                        a.inbox::deliver);
            }
            return new WsAgentTransport(
                    http != null ? http : HttpClient.newHttpClient(),
                    url,
                    connectQuery,
                    sessionId,
                    requestTimeout,
                    maxConnectionAge,
                    backoff,
                    deliver,
                    a.inbox::deliver,
                    a.timers);
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
        if (!inbox.open(runId)) throw new IllegalStateException("run " + runId + " was started already");
        Run run = new Run(runId);
        Pending p = enqueue(new Pending(EventType.RUN_STARTED, runId, null, data));
        if (!await(p.done)) {
            throw new DurableSessionException.RunFencedException("run " + runId + " could not start", null);
        }
        return run;
    }

    /** Appends any event that is not part of a run (e.g. {@code agent.joined}, {@code custom}). */
    public CompletableFuture<Boolean> append(EventType type, ObjectNode data) {
        return enqueue(new Pending(type, null, null, data)).done;
    }

    /**
     * Appends these events in ONE append, in this order: all are stored or none (docs/protocol.md §3.1).
     * They belong to one run (their {@code runId}, which must be one of this agent's) or to none, and must
     * fit one append: at most {@link Limits#MAX_EVENTS_PER_APPEND} events and about 100 KiB. Text deltas
     * among them are sent as given, not coalesced. Completes with true once stored, false if their run
     * (or one of their replies) was fenced first.
     */
    public CompletableFuture<Boolean> appendAll(List<EventInput> events) {
        if (events.isEmpty()) return CompletableFuture.completedFuture(true);
        if (events.size() > Limits.MAX_EVENTS_PER_APPEND) {
            throw new IllegalArgumentException("at most " + Limits.MAX_EVENTS_PER_APPEND + " events in one append");
        }
        String runId = events.get(0).runId();
        Object group = new Object();
        List<Pending> pending = new ArrayList<>();
        for (EventInput e : events) {
            if (!Objects.equals(runId, e.runId()))
                throw new IllegalArgumentException("the events of one append share one run");
            String messageId = e.data().path("messageId").asText(null);
            pending.add(new Pending(e.type(), runId, messageId, e.data().deepCopy(), false, group));
        }
        synchronized (this) {
            for (Pending p : pending) enqueue(p);
        }
        return pending.get(pending.size() - 1).done;
    }

    /** Sends everything coalesced so far and waits until every append so far is acked. */
    public boolean flush() {
        CompletableFuture<Boolean> last;
        synchronized (this) {
            coalescer.flushAll();
            Pending p = queue.last();
            last = p == null ? null : p.done;
        }
        boolean ok = last == null || await(last.exceptionally(e -> false));
        synchronized (this) {
            while (!pipeline.isIdle() || !queue.isEmpty()) {
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
                queue.clear().forEach(p -> p.done.complete(false));
                for (List<Pending> b; (b = pipeline.takeRenumbered()) != null; ) b.forEach(p -> p.done.complete(false));
                notifyAll();
            }
            senders.shutdown();
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
            return inbox.isClosed(runId);
        }

        /** Starts an assistant reply ({@code message.start}). */
        public Reply startReply(String messageId) {
            Reply r = new Reply(this, messageId);
            inbox.replyStarted(runId, messageId);
            synchronized (DurableAgent.this) {
                if (closed) throw new IllegalStateException("agent closed");
                coalescer.flushAll(); // what was written before goes first
                coalescer.start(runId, messageId); // message.start goes with the reply's first text
                openReplies.put(messageId, r);
            }
            return r;
        }

        public CompletableFuture<Boolean> toolCall(String toolCallId, String name, JsonNode arguments) {
            ObjectNode d = Json.object().put("toolCallId", toolCallId).put("name", name);
            d.set("arguments", arguments == null ? Json.object() : arguments);
            return enqueue(new Pending(EventType.TOOL_CALL, runId, null, d)).done;
        }

        public CompletableFuture<Boolean> toolResult(String toolCallId, JsonNode result, boolean isError) {
            ObjectNode d = Json.object().put("toolCallId", toolCallId);
            d.set("result", result);
            if (isError) d.put("isError", true);
            return enqueue(new Pending(EventType.TOOL_RESULT, runId, null, d)).done;
        }

        /** Any other event of this run ({@code custom}, …). */
        public CompletableFuture<Boolean> append(EventType type, ObjectNode data) {
            return enqueue(new Pending(type, runId, null, data)).done;
        }

        /**
         * {@code run.completed}; returns false if the run was fenced first. Waits for the ack. A reply of
         * the run not ended yet is ended ({@code message.end}) in the same append, with its last text: so
         * {@code run.complete()} alone finishes a run's last reply in one append, where
         * {@code reply.end(); run.complete()} takes two.
         */
        public boolean complete() {
            return finish(EventType.RUN_COMPLETED, Json.object(), null);
        }

        /**
         * {@code run.failed}; returns false if the run was fenced first. Waits for the ack. A reply of the
         * run not ended yet is ended with reason {@code error} in the same append.
         */
        public boolean fail(String reason) {
            return finish(EventType.RUN_FAILED, Json.object().put("reason", reason), "error");
        }

        private boolean finish(EventType type, ObjectNode data, String replyReason) {
            inbox.ending(runId, type == EventType.RUN_COMPLETED ? "completed" : "failed");
            Pending p;
            synchronized (DurableAgent.this) {
                if (closed) throw new IllegalStateException("agent closed");
                // queued under one hold of the lock, so the sender takes them (and the held text) as one append
                for (Reply r : new ArrayList<>(openReplies.values())) {
                    if (r.run == this) r.queueEnd(replyReason);
                }
                p = enqueue(new Pending(type, runId, null, data));
            }
            boolean ok = await(p.done);
            inbox.ended(runId);
            return ok;
        }
    }

    /** One assistant reply (message) of a run, streamed with {@link #delta} (and {@link #reasoning}). */
    public final class Reply {
        private final Run run;
        private final String messageId;
        private boolean ended; // guarded by DurableAgent.this

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
            return inbox.isMessageFenced(messageId) || run.isFenced();
        }

        /**
         * Adds text. Never blocks on the network: the text is coalesced and sent within the
         * window. Ignored once the reply is fenced.
         */
        public void delta(String more) {
            add(EventType.TEXT_DELTA, more);
        }

        /**
         * Adds to the reply's reasoning ({@code reasoning.delta}, docs/protocol.md §4.2), coalesced
         * like {@link #delta}; text and reasoning keep the order they were written in.
         */
        public void reasoning(String more) {
            add(EventType.REASONING_DELTA, more);
        }

        /**
         * Adds one self-contained part ({@code message.part}: a source, file, data or step part,
         * docs/protocol.md §4.2) after what was written so far.
         */
        public CompletableFuture<Boolean> part(ObjectNode part) {
            ObjectNode d = Json.object().put("messageId", messageId);
            d.set("part", part);
            return enqueue(new Pending(EventType.MESSAGE_PART, run.runId, messageId, d)).done;
        }

        private void add(EventType type, String more) {
            if (more == null || more.isEmpty()) return;
            synchronized (DurableAgent.this) {
                if (ended || isFenced()) return;
                coalescer.add(run.runId, messageId, type, more);
            }
        }

        /** {@code message.end} ({@code complete}); returns false if the reply was fenced. Waits for the ack. */
        public boolean end() {
            return end(null);
        }

        /** {@code message.end} with a reason ({@code complete}, {@code interrupted}, {@code error}). */
        public boolean end(String reason) {
            Pending p;
            synchronized (DurableAgent.this) {
                p = queueEnd(reason);
            }
            return p != null && await(p.done);
        }

        /** Queues {@code message.end} once (holding the agent's lock); null when the reply was ended already. */
        private Pending queueEnd(String reason) {
            if (ended) return null;
            ended = true;
            openReplies.remove(messageId);
            if (isFenced()) return null; // interrupted or stopped: its message.end would be refused
            ObjectNode d = Json.object().put("messageId", messageId);
            if (reason != null) d.put("reason", reason);
            return enqueue(new Pending(EventType.MESSAGE_END, run.runId, messageId, d));
        }
    }

    // ----------------------------------------------------------------------------- internals

    private synchronized Pending enqueue(Pending p) {
        if (closed) throw new IllegalStateException("agent closed");
        coalescer.flushAll(); // text written before this call goes first
        if (producerFenced != null) {
            p.done.completeExceptionally(producerFenced);
        } else {
            queue.add(p);
            notifyAll();
        }
        return p;
    }

    /** The coalescer hands on a reply's {@code message.start} or a piece of its text (holding the lock). */
    private void queueHeld(String runId, String messageId, EventType type, String text) {
        if (inbox.isMessageFenced(messageId) || inbox.isFenced(runId)) return;
        ObjectNode data = type == EventType.MESSAGE_START
                ? Json.object().put("messageId", messageId).put("role", "assistant")
                : Json.object().put("messageId", messageId).put("text", text);
        queue.add(new Pending(type, runId, messageId, data));
        notifyAll();
    }

    private void startWindow(String messageId, long generation, Duration window) {
        timers.schedule(
                () -> {
                    synchronized (this) {
                        coalescer.windowEnded(messageId, generation);
                    }
                },
                window.toNanos(),
                TimeUnit.NANOSECONDS);
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

    /**
     * Takes the next append and hands it to a sender with the next producer seq, while fewer than
     * {@code maxInFlight} are on their way. The service stores a producer's appends in seq order, holding
     * one whose predecessors are still travelling; so when one is settled without being stored (its run
     * was fenced, say), the ones after it cannot be stored either: nothing new goes out until they are
     * all answered, and then they go again under new seqs, from the one that was not stored.
     */
    private void sendLoop() {
        while (!closed) {
            List<Pending> batch;
            long seq;
            synchronized (this) {
                while (!closed && !(pipeline.hasRoom() && hasWork())) {
                    try {
                        wait(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) return;
                batch = unfenced(pipeline.hasRenumbered() ? pipeline.takeRenumbered() : queue.takeBatch());
                if (batch.isEmpty()) continue;
                seq = pipeline.open(batch);
            }
            List<Pending> sent = batch;
            try {
                senders.execute(() -> sendSlot(seq, sent));
            } catch (RejectedExecutionException e) {
                sent.forEach(p -> p.done.complete(false)); // closed meanwhile
                return;
            }
        }
    }

    private boolean hasWork() {
        return pipeline.hasRenumbered() || !queue.isEmpty();
    }

    /** The batch without what was fenced meanwhile; the events of one appendAll go together or not at all. */
    private List<Pending> unfenced(List<Pending> batch) {
        Set<Object> blocked = new HashSet<>();
        for (Pending p : batch) if (!inbox.mayWrite(p)) blocked.add(p.group != null ? p.group : p);
        if (blocked.isEmpty()) return batch;
        List<Pending> live = new ArrayList<>();
        for (Pending p : batch) {
            if (blocked.contains(p) || p.group != null && blocked.contains(p.group)) p.done.complete(false);
            else live.add(p);
        }
        return live;
    }

    /** One append in flight: sent under {@code seq} until settled, then passed on to the pipeline's bookkeeping. */
    private void sendSlot(long seq, List<Pending> batch) {
        ProducerPipeline.Settled settled;
        try {
            settled = send(seq, batch);
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done.completeExceptionally(e));
            settled = ProducerPipeline.Settled.NOT_STORED;
        }
        synchronized (this) {
            pipeline.settle(seq, settled);
            notifyAll();
        }
    }

    /**
     * {@code PRODUCER_GAP}: the service waited for an earlier seq in vain. Waits until every earlier seq
     * in flight is answered: if one of them was not stored, this one goes again under another seq; if
     * all were, the earlier one just came late and this seq goes again as it is.
     */
    private boolean predecessorsStored(long seq) {
        synchronized (this) {
            while (!closed) {
                if (!pipeline.earlierInFlight(seq)) return !pipeline.brokenBelow(seq);
                try {
                    wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return false;
        }
    }

    private synchronized long storedThroughNow() {
        return pipeline.storedThrough();
    }

    private synchronized boolean brokenBelow(long seq) {
        return pipeline.brokenBelow(seq);
    }

    /** Sends one batch under one producer seq until the service answered it for good, as {@link AppendPolicy} says. */
    private ProducerPipeline.Settled send(long seq, List<Pending> batch) {
        AppendPolicy.Attempt attempt = AppendPolicy.Attempt.FIRST;
        List<String> retried = new ArrayList<>();
        long firstSent = 0;
        int gapResends = 0;
        while (!closed) {
            // an earlier seq was settled unstored: the service cannot store this one (nor did it, even if an
            // answer was lost: it stores in seq order), so it goes again under another seq
            if (brokenBelow(seq)) return ProducerPipeline.Settled.RENUMBER;
            // what was fenced meanwhile is dropped; the events of one appendAll go together or not at all. Not
            // after a lost answer: that attempt may be stored under this producer seq, so the seq goes again
            // with exactly its events (the service then acks it as a duplicate, or refuses it: nothing stored).
            // A heartbeat finding the run completed by that very attempt must not turn it into another batch.
            if (!attempt.resentAfterLoss()) {
                batch = unfenced(batch);
                if (batch.isEmpty()) return ProducerPipeline.Settled.NOT_STORED;
            }
            String runId = batch.get(0).runId;
            ObjectNode append = Json.object();
            if (runId != null) append.put("runId", runId);
            append.putObject("producer")
                    .put("id", producerId)
                    .put("epoch", epoch)
                    .put("seq", seq);
            String tp = traceparent.get();
            if (TraceParent.isValid(tp)) append.put("traceparent", tp);
            ArrayNode events = append.putArray("events");
            batch.forEach(p -> events.add(p.toInput()));

            long started = System.nanoTime();
            if (firstSent == 0) firstSent = started;
            // acked before this attempt left: the service stored it before it could have seen this one
            boolean ackedBefore = storedThroughNow() >= 0;
            AgentTransport.Outcome outcome = transport.append(append);
            if (closed && outcome instanceof AgentTransport.Lost) break;
            if (outcome instanceof AgentTransport.Refused gap && "PRODUCER_GAP".equals(gap.code()) && gapResends < 3) {
                if (seq > 0 && ackedBefore && gap.details().path("expectedSeq").asLong(-1) == 0) {
                    // the service stored our seq 0 and now expects 0 again: it knows nothing of this producer,
                    // its session was erased (and may begin again). Without that ack, seq 0 may just be late.
                    retried.add(gap.code());
                    return ProducerPipeline.Settled.FORGOTTEN;
                }
                // an earlier seq of ours was late or not stored: settle that first
                if (!predecessorsStored(seq))
                    return closed ? ProducerPipeline.Settled.NOT_STORED : ProducerPipeline.Settled.RENUMBER;
                gapResends++;
                retries.incrementAndGet();
                retried.add(gap.code());
                continue;
            }
            AppendPolicy.Decision d = policy.decide(
                    outcome,
                    AppendPolicy.Batch.of(batch),
                    new AppendPolicy.Attempt(
                            attempt.retries(),
                            attempt.resentAfterLoss(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
            // if/else rather than a pattern switch: the SDK compiles with --release 17
            if (d instanceof AppendPolicy.Resend r) {
                retries.incrementAndGet();
                retried.add(r.reason());
                attempt = new AppendPolicy.Attempt(attempt.retries() + 1, attempt.resentAfterLoss() || r.lost(), 0);
                Threads.sleep(r.delayMs());
                continue;
            }
            if (d instanceof AppendPolicy.FenceMessages f) {
                report(seq, batch, retried, firstSent, null, ((AgentTransport.Refused) outcome).code());
                inbox.fenceMessages(f.messageIds());
                // nothing was written, by this attempt or an earlier one (the service answers a stored producer seq
                // as a duplicate before it looks at fences): the rest goes again with the same producer seq
                attempt = new AppendPolicy.Attempt(attempt.retries(), false, 0);
                continue;
            }
            if (d instanceof AppendPolicy.Stored s) {
                if (s.duplicate()) duplicateAcks.incrementAndGet();
                appendsAcked.incrementAndGet();
                inbox.wrote(runId);
                report(seq, batch, retried, firstSent, s, null);
                batch.forEach(p -> p.done.complete(true));
                return ProducerPipeline.Settled.STORED;
            } else if (d instanceof AppendPolicy.StoredEarlier) {
                inbox.wrote(runId);
                report(seq, batch, retried, firstSent, new AppendPolicy.Stored(0, 0, true), null);
                batch.forEach(p -> p.done.complete(true));
                return ProducerPipeline.Settled.STORED;
            } else {
                String code = ((AgentTransport.Refused) outcome).code();
                report(seq, batch, retried, firstSent, null, code);
                if (d instanceof AppendPolicy.FenceRun f) {
                    if (runId != null) inbox.fence(runId, f.state(), null, 0, null);
                    batch.forEach(p -> p.done.complete(false));
                } else if (d instanceof AppendPolicy.ProducerFenced f) {
                    producerFenced = f.error();
                    batch.forEach(p -> p.done.completeExceptionally(f.error()));
                } else if (d instanceof AppendPolicy.Dropped) {
                    batch.forEach(p -> p.done.complete(false));
                } else {
                    DurableSessionException e = ((AppendPolicy.Failed) d).error();
                    batch.forEach(p -> p.done.completeExceptionally(e));
                }
            }
            return ProducerPipeline.Settled.NOT_STORED;
        }
        batch.forEach(p -> p.done.complete(false)); // closed
        return ProducerPipeline.Settled.NOT_STORED;
    }

    private void report(
            long seq,
            List<Pending> batch,
            List<String> retried,
            long firstSent,
            AppendPolicy.Stored stored,
            String refusal) {
        if (onAppend == null) return;
        try {
            List<EventInput> events = new ArrayList<>();
            for (Pending p : batch) events.add(EventInput.of(p.type, p.runId, p.data.deepCopy()));
            onAppend.accept(new AppendRecord(
                    seq,
                    events,
                    retried,
                    firstSent,
                    System.nanoTime(),
                    stored != null,
                    stored != null && stored.duplicate(),
                    stored == null ? 0 : stored.firstSeq(),
                    stored == null ? 0 : stored.lastSeq(),
                    refusal));
        } catch (RuntimeException ignored) {
            // a failing listener must not break the producer
        }
    }

    /** Every open run that wrote nothing since the last tick sends a heartbeat (over HTTP it also brings its control). */
    private void heartbeatTick() {
        if (closed) return;
        try {
            transport.maintain();
            for (String runId : inbox.quietRuns()) {
                transport.heartbeat(runId).thenAccept(o -> {
                    String state = o instanceof AgentTransport.Refused r && "RUN_FENCED".equals(r.code())
                            ? r.details().path("state").asText("")
                            : null;
                    // "running" while refused: a stop is being recorded; its event (or the next tick) says more
                    if (state != null && !state.equals("running")) inbox.fence(runId, state, null, 0, null);
                });
            }
        } catch (RuntimeException e) {
            // e.g. the token supplier failed: the next tick tries again (a throw would end the schedule)
        }
    }
}
