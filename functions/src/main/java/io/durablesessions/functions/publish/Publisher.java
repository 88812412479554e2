package io.durablesessions.functions.publish;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.Frames;
import io.durablesessions.functions.fanout.DirectDelivery;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Sender;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.opentelemetry.context.Context;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** Appends a writer's events; the writer identity is the connection's, never the frame's. */
public final class Publisher {
    private final Services services;
    private final Presence presence;
    private final DirectDelivery direct;

    public Publisher(Services services) {
        this.services = services;
        this.presence = new Presence(services);
        this.direct = new DirectDelivery(services);
    }

    /**
     * Appends, and posts what was appended to the session's live subscribers. Returns the store's
     * outcome; the HTTP API renders it as JSON or a problem.
     */
    public AppendResult append(Append a, Connection caller) {
        return append(a, caller, appended -> direct.deliver(a.sessionId(), appended));
    }

    /** What an append over the WebSocket did, and whether its writer has been answered already. */
    public record Answered(AppendResult result, boolean answered) {}

    /**
     * An append over the WebSocket. Once it commits, the writer is answered on its socket by a post
     * of its own while the direct posts to the subscribers go out, so the ack means "stored" and waits
     * for no subscriber (docs/architecture.md, Delivery). Where that post fails, or direct delivery is
     * off, or the append stored nothing, the route's response answers instead ({@code answered} false).
     */
    public Answered appendOverSocket(Append a, Connection caller) {
        if (!direct.enabled()) return new Answered(append(a, caller), false);
        String connectionId = caller.connectionId();
        AtomicBoolean answered = new AtomicBoolean();
        AppendResult result = append(a, caller, appended -> {
            String ack = Frames.appendOutcome(a.requestId(), a.sessionId(), appended);
            try (ExecutorService pool = Context.taskWrapping(Executors.newVirtualThreadPerTaskExecutor())) {
                Future<Sender.Outcome> posted =
                        pool.submit(() -> services.sender().post(connectionId, ack));
                direct.deliver(a.sessionId(), appended);
                // a writer that is gone needs no answer either
                answered.set(outcome(posted) != Sender.Outcome.FAILED);
            }
        });
        return new Answered(result, answered.get());
    }

    private AppendResult append(Append a, Connection caller, Consumer<AppendResult.Appended> afterCommit) {
        // to the live subscribers before any compaction (docs/architecture.md, Delivery)
        AppendResult result = services.sessions()
                .append(
                        new AppendRequest(
                                a.sessionId(),
                                caller.principal(),
                                a.producer(),
                                a.events(),
                                a.traceparent() == null ? null : a.traceparent().value()),
                        afterCommit);
        if (result instanceof AppendResult.RunFenced || result instanceof AppendResult.MessageFenced) {
            Metrics.count(MetricName.FENCED_APPENDS, 1);
        }
        // the append that created the session: who subscribed before it existed is a member now
        if (result instanceof AppendResult.Appended ap && ap.firstSeq() == 1) {
            for (AppendResult joined : presence.sessionCreated(a.sessionId())) direct.deliver(a.sessionId(), joined);
        }
        return result;
    }

    private static Sender.Outcome outcome(Future<Sender.Outcome> posted) {
        try {
            return posted.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Sender.Outcome.FAILED;
        } catch (ExecutionException e) {
            return Sender.Outcome.FAILED; // the route's response answers
        }
    }
}
