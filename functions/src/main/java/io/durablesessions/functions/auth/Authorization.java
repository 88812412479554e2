package io.durablesessions.functions.auth;

import io.durablesessions.events.ClientMessage;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.ClientMessage.Heartbeat;
import io.durablesessions.events.ClientMessage.Ping;
import io.durablesessions.events.ClientMessage.Subscribe;
import io.durablesessions.events.ClientMessage.Unsubscribe;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;

/**
 * The one table of which message needs which capability on its session. Checked on every
 * message against the grants the connection was verified with at {@code $connect}.
 */
public final class Authorization {
    private Authorization() {}

    public static void check(ClientMessage msg, Principal who) {
        switch (msg) {
            case Append a -> {
                require(who, Capability.APPEND, a.sessionId());
                for (EventInput e : a.events()) {
                    if (isAgentEvent(e)) require(who, Capability.AGENT, a.sessionId());
                }
            }
            case Subscribe s -> require(who, Capability.READ, s.sessionId());
            case Control c -> require(who, Capability.CONTROL, c.sessionId());
            case Heartbeat h -> require(who, Capability.AGENT, h.sessionId());
            case Unsubscribe u -> {}
            case Ping p -> {}
        }
    }

    /**
     * Runs, tool calls, agent announcements and any message that does not speak as the user
     * (role {@code assistant} or {@code system}) are an agent's to write, not an end user's.
     */
    static boolean isAgentEvent(EventInput e) {
        if (e.type() == EventType.MESSAGE_START)
            return !"user".equals(e.data().path("role").asText());
        String type = e.type().wire();
        return type.startsWith("run.") || type.startsWith("tool.") || type.startsWith("agent.");
    }

    /** Refuses {@code FORBIDDEN} unless {@code who} holds {@code capability} on the session. */
    public static void require(Principal who, Capability capability, String sessionId) {
        if (!who.can(capability, sessionId)) {
            // the same answer whether the session exists or not: nothing leaks about other sessions
            throw new ProtocolException(
                    ErrorCode.FORBIDDEN,
                    "no '" + capability.wire() + "' grant for this session",
                    Json.object().put("capability", capability.wire()));
        }
    }
}
