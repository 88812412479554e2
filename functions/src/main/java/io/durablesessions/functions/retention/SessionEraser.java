package io.durablesessions.functions.retention;

import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Subscriber;
import io.durablesessions.functions.store.SessionCatalog;

/**
 * Erases a whole session, for a {@code DELETE /v1/sessions/{id}} (right to erasure) and for a
 * session whose retention ran out (the sweeper): first every connected subscriber gets a
 * {@code session_deleted} frame (so no client keeps showing, or resuming, what is gone), then
 * {@link SessionCatalog#erase} removes its rows from all three tables. Repeatable: an erase cut
 * short leaves the SESSION row, so the next DELETE or sweep finishes it.
 */
public final class SessionEraser {
    private final Services services;
    private final SessionCatalog catalog;

    public SessionEraser(Services services) {
        this.services = services;
        this.catalog = new SessionCatalog(services.dynamo(), services.tables(), services.clock());
    }

    /** What was removed, and how many subscribers were told. */
    public record Result(SessionCatalog.Erased erased, int notified) {}

    public Result erase(String sessionId) {
        String frame = Json.write(Json.object().put("type", "session_deleted").put("sessionId", sessionId));
        int notified = 0;
        for (Subscriber s : services.connections().subscribers(sessionId)) {
            services.sender().post(s.connectionId(), frame);
            notified++;
        }
        return new Result(catalog.erase(sessionId), notified);
    }

    /**
     * The sweeper's entry: erases the session only if its retention deadline (re-read, consistently)
     * has passed, so a session deleted and created again under the same id is not erased early.
     */
    public boolean eraseIfExpired(String sessionId) {
        SessionCatalog.SessionInfo info = catalog.describe(sessionId);
        if (info == null
                || info.expiresAt() == null
                || info.expiresAt() * 1000 > services.clock().millis()) return false;
        erase(sessionId);
        return true;
    }
}
