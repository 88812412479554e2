package io.durablesessions.functions.publish;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.Frames;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.SessionStore.AppendRequest;

/** Appends a writer's events; the writer identity is the connection's, never the frame's. */
public final class Publisher {
    private final Services services;

    public Publisher(Services services) {
        this.services = services;
    }

    public String append(Append a, Connection caller) {
        AppendResult result = services.sessions().append(
                new AppendRequest(a.sessionId(), caller.principal(), a.producer(), a.events()));
        if (result instanceof AppendResult.RunFenced || result instanceof AppendResult.MessageFenced) {
            Metrics.count("FencedAppends", 1);
        }
        return Frames.appendOutcome(a.requestId(), a.sessionId(), result);
    }
}
