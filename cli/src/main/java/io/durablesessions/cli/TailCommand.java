package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.client.DurableSessionException;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.Event;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneId;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ds tail SESSION}: the session live over the WebSocket, through the SDK's
 * {@link SessionSubscriber}, which applies the client rule of docs/protocol.md §7 — every event
 * exactly once, in seq order, across reconnects (it resumes after the last seq it printed).
 */
@Command(
        name = "tail",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Follows a session live (WebSocket), resuming after lost connections.",
            "",
            "One line per event, every event exactly once and in order: the SDK's SessionSubscriber resumes after "
                    + "the last seq it printed (docs/protocol.md §7). Ctrl-C stops it (exit code 0). The tail is a "
                    + "reader like any other: it shows in the session's presence as 'ds tail' on 'cli'.",
            "Starts with the whole log (--after 0), after a seq (--after N), or with the assembled snapshot "
                    + "(--hydrate). Connection notes go to stderr."
        })
public final class TailCommand implements Callable<Integer> {
    /** How long the subscriber may stay without a connection before tail asks the service why. */
    static final Duration DISCONNECTED_CHECK = Duration.ofSeconds(10);

    @ParentCommand
    Ds ds;

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
    String session;

    @ArgGroup(exclusive = true)
    Start start;

    static final class Start {
        @Option(
                names = "--after",
                paramLabel = "SEQ",
                description = "Start after this seq (default 0: the whole log, then live).")
        Long after;

        @Option(
                names = "--hydrate",
                description = "Start with the assembled snapshot (one block, or one JSON line), then live.")
        boolean hydrate;
    }

    @Option(
            names = "--json",
            description = "One JSON object per line: the event as stored (a snapshot as {\"snapshot\": …}).")
    boolean json;

    @Option(names = "--count", paramLabel = "N", description = "Exit (code 0) after N events.")
    Long count;

    @Option(
            names = {"-q", "--quiet"},
            description = "No connection notes on stderr.")
    boolean quiet;

    /** The running subscriber (tests cut its connection to see it resume). */
    volatile SessionSubscriber subscriber;
    /** Completed with the exit code when the tail ends. */
    private final CompletableFuture<Integer> done = new CompletableFuture<>();

    /** Ends the tail as Ctrl-C does, with exit code 0 (for a caller that runs it in-process). */
    void stop() {
        done.complete(ExitCodes.OK);
    }

    @Override
    public Integer call() throws InterruptedException {
        // Ctrl-C (or a TERM) ends a tail normally: close the socket, flush what was printed, exit 0
        Thread onSignal = new Thread(
                () -> {
                    SessionSubscriber s = subscriber;
                    if (s != null) s.close();
                    ds.out().flush();
                    ds.err().flush();
                    Runtime.getRuntime().halt(ExitCodes.OK);
                },
                "ds-tail-interrupt");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            return tail();
        } finally {
            removeHook(onSignal);
        }
    }

    private int tail() throws InterruptedException {
        String id = Sessions.id(session);
        if (start != null && start.after != null && start.after < 0)
            throw new CliException(ExitCodes.USAGE, "--after must be 0 or more");
        if (count != null && count < 1) throw new CliException(ExitCodes.USAGE, "--count must be 1 or more");
        Target target = ds.target();
        target.token(Target.Access.READ); // no token at all: a usage error before anything connects
        Handshake.Outcome first =
                Handshake.check(target.webSocketUrl(), target.token(Target.Access.READ), Duration.ofSeconds(15));
        if (!first.ok()) throw new CliException(first.exitCode(), first.message());

        PrintWriter out = ds.out();
        PrintWriter err = ds.err();
        EventLines lines = new EventLines(ZoneId.systemDefault());
        AtomicLong printed = new AtomicLong();
        String instance = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        boolean hydrate = start != null && start.hydrate;
        long after = start != null && start.after != null ? start.after : 0;

        SessionSubscriber.Listener listener = new SessionSubscriber.Listener() {
            private int connects;

            @Override
            public void onEvent(Event e) {
                if (done.isDone()) return;
                out.println(json ? e.toJson() : lines.line(e.toNode()));
                out.flush();
                if (count != null && printed.incrementAndGet() >= count) done.complete(ExitCodes.OK);
            }

            @Override
            public void onSnapshot(SessionState state) {
                if (json) {
                    ObjectNode line = Json.object();
                    line.set("snapshot", state.toNode());
                    out.println(Json.write(line));
                } else {
                    SnapshotText.print(out, null, state.toNode());
                    out.println("-- live after seq " + state.headSeq() + " --");
                }
                out.flush();
            }

            @Override
            public void onConnected() {
                connects++;
                SessionSubscriber s = subscriber;
                long last = s == null ? after : s.lastSeq();
                if (connects == 1) {
                    note("tailing " + id + " at " + target.webSocketUrl()
                            + (hydrate ? " (hydrated at seq " + last + ")" : " after seq " + after)
                            + "; Ctrl-C to stop");
                } else {
                    note("reconnected; resumed after seq " + last);
                }
            }

            @Override
            public void onDisconnected(String reason) {
                note("disconnected (" + reason + "); reconnecting");
            }

            @Override
            public void onFailed(DurableSessionException error) {
                if ("INVALID_MESSAGE".equals(error.code())
                        && error.details() != null
                        && error.details().has("headSeq")) {
                    // docs/protocol.md [subscribe.beyond-head]
                    err.println("ds tail: --after " + after + " is beyond the session's head, seq "
                            + error.details().path("headSeq").asLong());
                    done.complete(ExitCodes.USAGE);
                    return;
                }
                int code = "UNAUTHORIZED".equals(error.code()) || "FORBIDDEN".equals(error.code())
                        ? ExitCodes.AUTH
                        : ExitCodes.FAILED;
                err.println(
                        "ds tail: the service refused the subscription: " + error.code() + " " + error.getMessage());
                done.complete(code);
            }

            @Override
            public void onDeleted() {
                err.println("ds tail: the session " + id + " was erased");
                done.complete(ExitCodes.NOT_FOUND);
            }

            private void note(String text) {
                if (!quiet) {
                    err.println("ds tail: " + text);
                    err.flush();
                }
            }
        };

        SessionSubscriber.Builder builder = SessionSubscriber.builder(target.webSocketUrl(), id)
                .connectQuery(() -> Handshake.connectUri(
                                target.webSocketUrl(),
                                target.connectToken(Target.Access.READ),
                                "instance=" + instance + "&label=ds%20tail&surface=cli")
                        .getRawQuery())
                .listener(listener);
        if (hydrate) builder.hydrate();
        else builder.afterSeq(after);

        SessionSubscriber s = builder.start();
        subscriber = s;
        try {
            return waitUntilDone(s, target, err);
        } finally {
            s.close();
        }
    }

    /** Waits for the end (count reached, refusal, erasure); while no connection comes back, asks the service why. */
    private int waitUntilDone(SessionSubscriber s, Target target, PrintWriter err) throws InterruptedException {
        long disconnectedSince = 0;
        boolean toldUnreachable = false;
        while (true) {
            try {
                return done.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                // not done yet
            } catch (ExecutionException e) {
                return ExitCodes.FAILED;
            }
            if (s.isConnected()) {
                disconnectedSince = 0;
                continue;
            }
            long now = System.nanoTime();
            if (disconnectedSince == 0) disconnectedSince = now;
            if (now - disconnectedSince < DISCONNECTED_CHECK.toNanos()) continue;
            disconnectedSince = now;
            Handshake.Outcome o = Handshake.check(
                    target.webSocketUrl(), target.connectToken(Target.Access.READ), Duration.ofSeconds(10));
            if (o.exitCode() == ExitCodes.AUTH) {
                err.println("ds tail: " + o.message());
                return ExitCodes.AUTH;
            }
            if (!o.ok() && !toldUnreachable && !quiet) {
                err.println("ds tail: " + o.message() + "; still trying");
                err.flush();
                toldUnreachable = true;
            }
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already stopping: the hook runs and exits 0
        }
    }
}
