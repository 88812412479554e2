package io.durablesessions.functions.gateway;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.ClientMessage.Ping;
import io.durablesessions.events.ClientMessage.Subscribe;
import io.durablesessions.events.ClientMessage.Unsubscribe;
import io.durablesessions.events.Frames;
import io.durablesessions.functions.control.Controller;
import io.durablesessions.functions.publish.Publisher;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.subscribe.Subscriptions;

/** Which feature serves which message. The one place a new action is wired in. */
public final class Router {
    private final Services services;
    private final Publisher publisher;
    private final Subscriptions subscriptions;
    private final Controller controller;

    public Router(Services services) {
        this.services = services;
        this.publisher = new Publisher(services);
        this.subscriptions = new Subscriptions(services);
        this.controller = new Controller(services);
    }

    /** Returns the frame that answers the message, or null for none. */
    public String dispatch(ClientMessage msg, Connection caller) {
        return switch (msg) {
            case Append a -> {
                Publisher.Answered out = publisher.appendOverSocket(a, caller);
                if (!out.answered()) yield written(a.requestId(), a.sessionId(), out.result());
                Tracing.outcome(a.sessionId(), out.result()); // answered by a post already: no route response
                yield null;
            }
            case Subscribe s -> subscriptions.subscribe(s, caller);
            case Unsubscribe u -> subscriptions.unsubscribe(u, caller);
            case Control c -> written(c.requestId(), c.sessionId(), controller.control(c, caller));
            case Ping p ->
                Frames.pong(
                        p.requestId(),
                        services.clock().millis(),
                        services.sessions().heads(services.connections().subscribedSessions(caller.connectionId())));
            case ClientMessage.Heartbeat h -> written(h.requestId(), h.sessionId(), controller.heartbeat(h, caller));
        };
    }

    private static String written(String requestId, String sessionId, AppendResult result) {
        Tracing.outcome(sessionId, result); // seqs and outcome on the route's span
        return Frames.appendOutcome(requestId, sessionId, result);
    }
}
