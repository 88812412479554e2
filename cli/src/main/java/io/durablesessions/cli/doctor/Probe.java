package io.durablesessions.cli.doctor;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.cli.Api;
import io.durablesessions.cli.CliException;
import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.DurableSessionException;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * doctor's probe with the Java SDK, as an application would use it: an agent ({@link DurableAgent})
 * streams a reply into a fresh session while a reader ({@link SessionSubscriber}) tails it; the
 * reader's connection is cut mid-stream and must resume with every event exactly once, in order and
 * equal to the stored log. Then a client stops a second run over the HTTP API, and the reader must
 * see {@code run.stop_requested}, the agent's {@code run.stop_acknowledged} and {@code run.stopped},
 * with nothing of the run after the stop's seq.
 */
final class Probe implements AutoCloseable {
    /** One part of the probe, reported like a conformance case. */
    record Result(String id, String title, Status status, String detail, long millis) {}

    enum Status {
        PASS,
        FAIL,
        SKIP
    }

    static final String RESUME = "probe.resume";
    static final String STOP = "probe.stop";
    static final String RESUME_TITLE =
            "an agent streams, a reader's connection is cut mid-stream and resumes exactly once, in order";
    static final String STOP_TITLE =
            "a client stops a streaming run: requested, acknowledged by the agent, stopped; nothing after";
    static final int TOKENS = 300;
    static final long TOKEN_EVERY_NANOS = 3_000_000L;

    private final URI ws;
    private final Api user;
    private final String agentToken;
    private final String userToken;
    private final String session;
    private final Duration eventTimeout;
    private final Duration stopAckTimeout;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ds-doctor-probe");
        t.setDaemon(true);
        return t;
    });
    private final List<Event> received = new CopyOnWriteArrayList<>();
    private final List<ControlEvent> controls = new CopyOnWriteArrayList<>();
    private final AtomicReference<DurableSessionException> refused = new AtomicReference<>();
    private SessionSubscriber reader;
    private DurableAgent agent;

    Probe(
            URI ws,
            Api user,
            String agentToken,
            String userToken,
            String session,
            Duration eventTimeout,
            Duration stopAckTimeout) {
        this.ws = ws;
        this.user = user;
        this.agentToken = agentToken;
        this.userToken = userToken;
        this.session = session;
        this.eventTimeout = eventTimeout;
        this.stopAckTimeout = stopAckTimeout;
    }

    /** Both parts; the stop needs the agent and reader of the resume, so a failed resume skips it. */
    List<Result> run() {
        List<Result> results = new ArrayList<>();
        Result resume = bounded(RESUME, RESUME_TITLE, this::resume, eventTimeout.multipliedBy(3));
        results.add(resume);
        if (resume.status() != Status.PASS) {
            results.add(new Result(STOP, STOP_TITLE, Status.SKIP, "needs the agent and reader of " + RESUME, 0));
        } else {
            results.add(bounded(
                    STOP, STOP_TITLE, this::stop, eventTimeout.multipliedBy(2).plus(stopAckTimeout)));
        }
        return results;
    }

    private interface Part {
        String run() throws InterruptedException;
    }

    /** Runs a part on the worker with a deadline: the SDK retries a lost service forever, a verdict may not wait forever. */
    private Result bounded(String id, String title, Part part, Duration limit) {
        long t0 = System.nanoTime();
        Future<String> f = worker.submit(part::run);
        try {
            String detail = f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return new Result(id, title, Status.PASS, detail, ms(t0));
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String why = c instanceof Failure || c instanceof CliException
                    ? c.getMessage()
                    : c instanceof DurableSessionException d
                            ? "the service refused: " + d.code() + " " + d.getMessage()
                            : c.getClass().getSimpleName() + ": " + c.getMessage();
            return new Result(id, title, Status.FAIL, why, ms(t0));
        } catch (TimeoutException e) {
            f.cancel(true);
            return new Result(
                    id,
                    title,
                    Status.FAIL,
                    "did not finish within " + limit.toSeconds() + " s (a connection that never "
                            + "came back, or an append never answered)",
                    ms(t0));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            return new Result(id, title, Status.FAIL, "interrupted", ms(t0));
        }
    }

    private String resume() throws InterruptedException {
        reader = SessionSubscriber.builder(ws, session)
                .connectQuery(() -> query(userToken, "doctor-reader"))
                .afterSeq(0)
                .listener(new SessionSubscriber.Listener() {
                    @Override
                    public void onEvent(Event e) {
                        received.add(e);
                    }

                    @Override
                    public void onFailed(DurableSessionException e) {
                        refused.set(e);
                    }
                })
                .start();
        await(() -> reader.connects() >= 1 || refused.get() != null, eventTimeout, "the reader was not subscribed");
        if (refused.get() != null)
            throw new Failure(
                    "the reader's subscription was refused: " + refused.get().code());

        agent = DurableAgent.builder(ws, session, "doctor-probe")
                .connectQuery(() -> query(agentToken, "doctor-agent"))
                .coalesceWindow(Duration.ofMillis(20))
                .onControl(controls::add)
                .connect();
        DurableAgent.Run run = agent.startRun("probe-resume");
        DurableAgent.Reply reply = run.startReply("m-resume");
        StringBuilder written = new StringBuilder();
        long cutAt = -1;
        long next = System.nanoTime();
        for (int i = 0; i < TOKENS; i++) {
            String token = "t" + i + " ";
            reply.delta(token);
            written.append(token);
            if (i == TOKENS / 3) {
                cutAt = reader.lastSeq();
                reader.dropConnection(); // a network cut: no close frame
            }
            next += TOKEN_EVERY_NANOS;
            LockSupport.parkNanos(next - System.nanoTime());
            if (Thread.interrupted()) throw new InterruptedException();
        }
        if (!reply.end() || !run.complete()) throw new Failure("the agent's reply or run.completed was refused");

        List<ObjectNode> log = storedLog();
        long head = log.get(log.size() - 1).path("seq").asLong();
        if (!reader.awaitSeq(head, eventTimeout)) {
            throw new Failure("after the cut at seq " + cutAt + " the reader had applied seq " + reader.lastSeq()
                    + " of " + head + " within " + eventTimeout.toSeconds() + " s");
        }
        List<Event> got = List.copyOf(received);
        Set<Long> seen = new HashSet<>();
        long expected = 1;
        for (Event e : got) {
            if (!seen.add(e.seq())) throw new Failure("seq " + e.seq() + " reached the reader twice");
            if (e.seq() != expected)
                throw new Failure("the reader got seq " + e.seq() + " where seq " + expected + " was due");
            expected++;
        }
        log = storedLog();
        for (Event e : got) {
            ObjectNode stored = log.get((int) e.seq() - 1);
            if (!Json.parseStored(e.toJson()).equals(stored)) {
                throw new Failure("seq " + e.seq() + " differs from the stored event: " + e.toJson() + " vs "
                        + Json.write(stored));
            }
        }
        String text = textOf(log, "m-resume");
        if (!text.equals(written.toString())) {
            throw new Failure("the stored reply is not what the agent wrote once (" + text.length() + " of "
                    + written.length() + " chars)");
        }
        if (reader.connects() < 2)
            throw new Failure("the cut did not make the reader reconnect (connects " + reader.connects() + ")");
        return String.format(
                "%d events; the reader, cut at seq %d, resumed: seqs 1-%d once each, in order, equal to the log "
                        + "(%d connections, %d repeats dropped by the client rule)",
                head, cutAt, got.size(), reader.connects(), reader.duplicatesDropped());
    }

    private String stop() throws InterruptedException {
        DurableAgent.Run run = agent.startRun("probe-stop");
        DurableAgent.Reply reply = run.startReply("m-stop");
        Thread streaming = new Thread(
                () -> {
                    long deadline = System.nanoTime() + eventTimeout.toNanos() * 2;
                    for (int i = 0; !run.isFenced() && !cancelled() && System.nanoTime() < deadline; i++) {
                        reply.delta("s" + i + " ");
                        LockSupport.parkNanos(TOKEN_EVERY_NANOS);
                    }
                },
                "ds-doctor-stream");
        streaming.setDaemon(true);
        streaming.start();
        try {
            await(
                    () -> count(EventType.TEXT_DELTA, "probe-stop") >= 3,
                    eventTimeout,
                    "the reader saw no delta of the second run");
            long requestedSeq = user.control(
                            session, "probe-stop", Json.object().put("command", "cancel"))
                    .path("seq")
                    .asLong();
            await(
                    () -> find(EventType.RUN_STOPPED, "probe-stop") != null,
                    eventTimeout.plus(stopAckTimeout),
                    "the reader saw no run.stopped after the cancel (run.stop_requested at seq " + requestedSeq + ")");
        } finally {
            streaming.join(eventTimeout.toMillis());
        }
        Event requested = find(EventType.RUN_STOP_REQUESTED, "probe-stop");
        Event acknowledged = find(EventType.RUN_STOP_ACKNOWLEDGED, "probe-stop");
        Event stopped = find(EventType.RUN_STOPPED, "probe-stop");
        if (requested == null) throw new Failure("no run.stop_requested reached the reader");
        if (acknowledged == null)
            throw new Failure(
                    "the agent did not acknowledge the stop (run.stopped says " + stopped.dataText("reason") + ")");
        long stoppedAt = requested.data().path("stoppedAtSeq").asLong();
        if (!(requested.seq() < acknowledged.seq() && acknowledged.seq() < stopped.seq())) {
            throw new Failure("out of order: requested " + requested.seq() + ", acknowledged " + acknowledged.seq()
                    + ", stopped " + stopped.seq());
        }
        if (!"acknowledged".equals(stopped.dataText("reason"))
                || stopped.data().path("stoppedAtSeq").asLong() != stoppedAt) {
            throw new Failure(
                    "run.stopped says " + stopped.data() + "; expected reason acknowledged, stoppedAtSeq " + stoppedAt);
        }
        for (Event e : received) {
            boolean lifecycle = e.type() == EventType.RUN_STOP_REQUESTED
                    || e.type() == EventType.RUN_STOP_ACKNOWLEDGED
                    || e.type() == EventType.RUN_STOPPED;
            if ("probe-stop".equals(e.runId()) && e.seq() > stoppedAt && !lifecycle) {
                throw new Failure("seq " + e.seq() + " (" + e.type().wire() + ") of the run came after its stop at seq "
                        + stoppedAt);
            }
        }
        long told = controls.stream()
                .filter(c -> c.kind() == ControlEvent.Kind.CANCEL && "probe-stop".equals(c.runId()))
                .count();
        if (told != 1) throw new Failure("the agent was told of the stop " + told + " times (once is right)");
        if (!run.isFenced()) throw new Failure("the agent's run is not fenced after the stop");
        return String.format(
                "run.stop_requested at seq %d (stopped at seq %d), run.stop_acknowledged %d, run.stopped %d "
                        + "(acknowledged); nothing of the run after seq %d; the agent was told once",
                requested.seq(), stoppedAt, acknowledged.seq(), stopped.seq(), stoppedAt);
    }

    private boolean cancelled() {
        return controls.stream().anyMatch(c -> c.kind() == ControlEvent.Kind.CANCEL && "probe-stop".equals(c.runId()));
    }

    private long count(EventType type, String runId) {
        return received.stream()
                .filter(e -> e.type() == type && runId.equals(e.runId()))
                .count();
    }

    private Event find(EventType type, String runId) {
        return received.stream()
                .filter(e -> e.type() == type && runId.equals(e.runId()))
                .findFirst()
                .orElse(null);
    }

    private List<ObjectNode> storedLog() {
        List<ObjectNode> all = new ArrayList<>();
        long after = 0;
        while (true) {
            Api.Page p = user.events(session, after, Api.MAX_PAGE);
            all.addAll(p.events());
            if (!p.more() || p.events().isEmpty()) return all;
            after = p.nextAfterSeq();
        }
    }

    private static String textOf(List<ObjectNode> log, String messageId) {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode e : log) {
            if ("text.delta".equals(e.path("type").asText())
                    && messageId.equals(e.path("data").path("messageId").asText())) {
                sb.append(e.path("data").path("text").asText());
            }
        }
        return sb.toString();
    }

    /** Polls a condition until it holds or the deadline passes (a Failure naming what did not happen). */
    private static void await(BooleanSupplier condition, Duration timeout, String otherwise)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new Failure(otherwise + " within " + timeout.toSeconds() + " s");
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private static String query(String token, String instance) {
        return "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8) + "&instance=" + instance;
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Override
    public void close() {
        if (reader != null) reader.close();
        worker.shutdownNow();
        if (agent != null) {
            // close() flushes what is queued first; a service that went away must not hold the verdict
            Thread closing = new Thread(agent::close, "ds-doctor-close");
            closing.setDaemon(true);
            closing.start();
            try {
                closing.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A check of the probe that did not hold; the message says what was seen. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message, null, false, false);
        }
    }
}
