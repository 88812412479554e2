package io.durablesessions.functions.publish;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.functions.fanout.DirectDelivery;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.SessionStore.AppendRequest;

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
     * outcome; the WebSocket route renders it as a frame, the HTTP API as JSON or a problem.
     */
    public AppendResult append(Append a, Connection caller) {
        // to the live subscribers before the writer is answered and before any compaction
        // (docs/architecture.md, Delivery)
        AppendResult result = services.sessions()
                .append(
                        new AppendRequest(
                                a.sessionId(),
                                caller.principal(),
                                a.producer(),
                                a.events(),
                                a.traceparent() == null ? null : a.traceparent().value()),
                        appended -> direct.deliver(a.sessionId(), appended));
        if (result instanceof AppendResult.RunFenced || result instanceof AppendResult.MessageFenced) {
            Metrics.count(MetricName.FENCED_APPENDS, 1);
        }
        // the append that created the session: who subscribed before it existed is a member now
        if (result instanceof AppendResult.Appended ap && ap.firstSeq() == 1) {
            for (AppendResult joined : presence.sessionCreated(a.sessionId())) direct.deliver(a.sessionId(), joined);
        }
        return result;
    }
}
