package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.client.DurableSessionException;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ds get SESSION}: the session's description and its snapshot over the HTTP API; a state
 * beyond the HTTP answer's 5 MiB is hydrated over the WebSocket instead (in parts, joined by the SDK).
 */
@Command(
        name = "get",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Prints a session's snapshot: runs, agents, presence, the conversation.",
            "",
            "Owner, title and times (GET /v1/sessions/{id}), then the assembled state (GET …/snapshot, "
                    + "docs/protocol.md §8) with each message's full text. A state beyond the HTTP answer's 5 MiB "
                    + "is hydrated over the WebSocket instead.",
            "--json prints {\"session\": GET /v1/sessions/{id}, \"snapshot\": GET …/snapshot} as one JSON object."
        })
public final class GetCommand implements Callable<Integer> {
    static final Duration HYDRATE_TIMEOUT = Duration.ofMinutes(2);

    @ParentCommand
    Ds ds;

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
    String session;

    @Option(names = "--json", description = "One JSON object instead of the text.")
    boolean json;

    @Override
    public Integer call() {
        String id = Sessions.id(session);
        Target target = ds.target();
        Api api = Api.of(target, Target.Access.READ);
        ObjectNode info = api.session(id);
        ObjectNode snapshot = api.snapshot(id).orElseGet(() -> hydrate(target, id));
        if (json) {
            ObjectNode both = Json.object();
            both.set("session", info);
            both.set("snapshot", snapshot);
            ds.out().println(Json.write(both));
        } else {
            SnapshotText.print(ds.out(), info, snapshot.path("state"));
        }
        return ExitCodes.OK;
    }

    /** The snapshot by a WebSocket hydrate, shaped as the HTTP answer ({@code headSeq}, {@code state}). */
    static ObjectNode hydrate(Target target, String id) {
        CompletableFuture<SessionState> state = new CompletableFuture<>();
        SessionSubscriber.Listener listener = new SessionSubscriber.Listener() {
            @Override
            public void onSnapshot(SessionState s) {
                state.complete(s);
            }

            @Override
            public void onFailed(DurableSessionException e) {
                state.completeExceptionally(e);
            }
        };
        try (SessionSubscriber s = SessionSubscriber.builder(target.webSocketUrl(), id)
                .connectQuery(() -> Handshake.connectUri(
                                target.webSocketUrl(),
                                target.connectToken(Target.Access.READ),
                                "label=ds%20get&surface=cli")
                        .getRawQuery())
                .hydrate()
                .listener(listener)
                .start()) {
            SessionState st = state.get(HYDRATE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            ObjectNode out = Json.object().put("headSeq", st.headSeq());
            out.set("state", st.toNode());
            return out;
        } catch (ExecutionException e) {
            DurableSessionException d = (DurableSessionException) e.getCause();
            int code =
                    "UNAUTHORIZED".equals(d.code()) || "FORBIDDEN".equals(d.code()) ? ExitCodes.AUTH : ExitCodes.FAILED;
            throw new CliException(
                    code,
                    "the snapshot is larger than the HTTP API answers, and the hydrate was refused: " + d.code() + " "
                            + d.getMessage());
        } catch (TimeoutException e) {
            throw new CliException(
                    ExitCodes.FAILED,
                    "the snapshot is larger than the HTTP API answers, and no hydrate arrived over "
                            + target.webSocketUrl() + " within " + HYDRATE_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.FAILED, "interrupted");
        }
    }
}
