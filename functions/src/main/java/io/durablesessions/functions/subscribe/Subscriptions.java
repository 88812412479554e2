package io.durablesessions.functions.subscribe;

import io.durablesessions.events.ClientMessage.Subscribe;
import io.durablesessions.events.ClientMessage.Unsubscribe;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.events.Frames;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.functions.runtime.Sender;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.EventPage;
import io.durablesessions.functions.store.Hydration;
import io.durablesessions.functions.store.StoredEvent;
import java.util.List;

/**
 * Subscribe = register, then catch up. The subscription row is written BEFORE the log is read,
 * so every event is either in the catch-up, in the live fan-out, or both; the client drops
 * duplicates by seq (docs/protocol.md §7).
 */
public final class Subscriptions {
    /** Bounds subscribe floods from one connection. */
    public static final int MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
    private static final int PAGE = 1000;

    private final Services services;
    private final Presence presence;

    public Subscriptions(Services services) {
        this.services = services;
        this.presence = new Presence(services);
    }

    public String subscribe(Subscribe s, Connection caller) {
        var connections = services.connections();
        if (connections.subscriptionCount(caller.connectionId()) >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
            throw new ProtocolException(ErrorCode.RATE_LIMITED, "a connection subscribes to at most "
                    + MAX_SUBSCRIPTIONS_PER_CONNECTION + " sessions");
        }
        if (!connections.subscribe(caller.connectionId(), s.sessionId(), caller.identity(), s.controlOnly())) {
            throw new ProtocolException(ErrorCode.UNAUTHORIZED, "connection is not registered");
        }
        String answer = s.hydrate() ? hydrate(s, caller) : catchUp(s, caller);
        // announced after the catch-up read, so the subscriber gets its own join once, live
        if (answer != null) presence.attached(s.sessionId(), caller);
        return answer;
    }

    private String hydrate(Subscribe s, Connection caller) {
        Hydration h = services.sessions().hydrate(s.sessionId());
        for (String frame : Frames.snapshots(s.requestId(), s.sessionId(), h.state(), Limits.MAX_MESSAGE_BYTES)) {
            if (!send(caller, frame)) return null;
        }
        return Frames.subscribed(s.requestId(), s.sessionId(), h.state().headSeq(), true);
    }

    private String catchUp(Subscribe s, Connection caller) {
        long after = s.afterSeq();
        int sent = 0;
        EventPage page;
        do {
            page = services.sessions().readAfter(s.sessionId(), after, PAGE);
            List<String> jsons = page.events().stream().map(StoredEvent::json)
                    .filter(json -> !s.controlOnly() || isControl(json)).toList();
            for (Frames.Packed packed : Frames.packEvents(s.sessionId(), jsons, Limits.MAX_MESSAGE_BYTES)) {
                if (!send(caller, packed.frame())) return null;
            }
            after = page.lastSeq(after);
            sent += page.events().size();
        } while (page.more() && sent < Services.MAX_CATCH_UP_EVENTS);
        // complete=false: more events remain; the client subscribes again from the last seq it applied
        return Frames.subscribed(s.requestId(), s.sessionId(), after, !page.more());
    }

    public String unsubscribe(Unsubscribe u, Connection caller) {
        services.connections().unsubscribe(caller.connectionId(), u.sessionId());
        return Frames.unsubscribed(u.requestId(), u.sessionId());
    }

    /** Whether a stored event is one an agent must obey (cheap: reads only its type). */
    public static boolean isControl(String eventJson) {
        return EventType.fromWire(Json.parseObject(eventJson).path("type").asText()).map(EventType::isControl)
                .orElse(false);
    }

    private boolean send(Connection caller, String frame) {
        Sender.Outcome outcome = services.sender().post(caller.connectionId(), frame);
        if (outcome == Sender.Outcome.GONE) {
            presence.connectionGone(caller.connectionId());
            return false;
        }
        if (outcome == Sender.Outcome.FAILED) {
            throw new IllegalStateException("catch-up delivery failed; the client should subscribe again");
        }
        return true;
    }
}
