package io.durablesessions.functions.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.util.EnumSet;
import java.util.Set;

/**
 * Capabilities on one session ({@code session}) or on every session whose id starts with
 * {@code prefix} (a tenant). Exactly one of the two is set.
 */
public record Grant(String session, String prefix, Set<Capability> caps) {
    public Grant {
        if ((session == null) == (prefix == null)) {
            throw new IllegalArgumentException("a grant names either one session or a prefix");
        }
        caps = caps.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(caps));
    }

    public static Grant session(String id, Capability... caps) {
        return new Grant(id, null, Set.of(caps));
    }

    public static Grant prefix(String prefix, Capability... caps) {
        return new Grant(null, prefix, Set.of(caps));
    }

    public boolean covers(String sessionId) {
        return session != null ? session.equals(sessionId) : sessionId.startsWith(prefix);
    }

    public ObjectNode toNode() {
        ObjectNode n = Json.object();
        if (session != null) n.put("session", session);
        else n.put("prefix", prefix);
        var a = n.putArray("caps");
        caps.stream().sorted().forEach(c -> a.add(c.wire()));
        return n;
    }

    /** Reads a grant claim; anything malformed is refused rather than guessed. */
    public static Grant fromNode(JsonNode n) {
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        for (JsonNode c : n.path("caps")) caps.add(Capability.fromWire(c.asText()));
        String session = n.hasNonNull("session") ? n.get("session").asText() : null;
        String prefix = n.hasNonNull("prefix") ? n.get("prefix").asText() : null;
        return new Grant(session, prefix, caps);
    }
}
