package io.durablesessions.functions.presence;

import io.durablesessions.events.AppendResult;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.PresenceStore.Member;
import java.util.ArrayList;
import java.util.List;

/** Presence as the handlers see it: a subscription attaches a member, a gone connection detaches it. */
public final class Presence {
    private final Services services;

    public Presence(Services services) {
        this.services = services;
    }

    /** The member's announcement ({@code Appended}), or null when nothing was appended. */
    public AppendResult attached(String sessionId, Connection c) {
        return services.presence()
                .attach(
                        sessionId,
                        new Member(c.memberId(), c.principal(), c.role(), c.label(), c.surface()),
                        c.connectionId(),
                        services.limits().presenceJoinsPerMinute());
    }

    /**
     * A session was just created (its first event, or the HTTP API's create): the members that
     * subscribed while it did not exist were not announced then (a subscriber creates no session),
     * so they are now. Runs once per session.
     */
    public List<AppendResult> sessionCreated(String sessionId) {
        List<AppendResult> announced = new ArrayList<>();
        for (ConnectionStore.Subscriber sub : services.connections().subscribers(sessionId)) {
            Connection c = services.connections().get(sub.connectionId());
            AppendResult r = c == null ? null : attached(sessionId, c);
            if (r != null) announced.add(r);
        }
        return announced;
    }

    /**
     * The connection is gone ($disconnect, or a 410 from PostToConnection): remove its rows and
     * schedule its members' leave after the grace period.
     */
    public void connectionGone(String connectionId) {
        ConnectionStore.Removed removed = services.connections().remove(connectionId);
        if (removed == null) return;
        for (String sessionId : removed.sessions()) {
            services.presence().detach(sessionId, removed.connection().memberId(), connectionId);
        }
    }
}
