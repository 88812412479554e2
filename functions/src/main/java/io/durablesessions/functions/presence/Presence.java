package io.durablesessions.functions.presence;

import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.PresenceStore.Member;

/** Presence as the handlers see it: a subscription attaches a member, a gone connection detaches it. */
public final class Presence {
    private final Services services;

    public Presence(Services services) {
        this.services = services;
    }

    public void attached(String sessionId, Connection c) {
        services.presence().attach(sessionId,
                new Member(c.memberId(), c.principal(), c.role(), c.label(), c.surface()), c.connectionId());
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
