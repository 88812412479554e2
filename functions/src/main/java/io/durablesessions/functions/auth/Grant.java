package io.durablesessions.functions.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import java.util.EnumSet;
import java.util.Set;

/**
 * Capabilities on one session ({@code session}), on every session whose id starts with
 * {@code prefix} (a tenant), or on every session ({@code "all": true}, an operator's or a
 * development token). Exactly one of the three; a session or prefix is a non-empty id, so a
 * malformed claim can never widen into a wildcard.
 */
public record Grant(String session, String prefix, boolean all, Set<Capability> caps) {
    public Grant {
        int kinds = (session != null ? 1 : 0) + (prefix != null ? 1 : 0) + (all ? 1 : 0);
        if (kinds != 1) throw new IllegalArgumentException("a grant names one session, a prefix, or all sessions");
        if (session != null && !Fields.isValidId(session))
            throw new IllegalArgumentException("session is not a valid id");
        if (prefix != null && !Fields.isValidId(prefix))
            throw new IllegalArgumentException("prefix is not a valid id prefix");
        caps = caps.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(caps));
    }

    public static Grant session(String id, Capability... caps) {
        return new Grant(id, null, false, Set.of(caps));
    }

    public static Grant prefix(String prefix, Capability... caps) {
        return new Grant(null, prefix, false, Set.of(caps));
    }

    /** Every session: for operators and development tokens, never derived from a malformed claim. */
    public static Grant all(Capability... caps) {
        return new Grant(null, null, true, Set.of(caps));
    }

    public boolean covers(String sessionId) {
        if (all) return true;
        return session != null ? session.equals(sessionId) : sessionId.startsWith(prefix);
    }

    public ObjectNode toNode() {
        ObjectNode n = Json.object();
        if (session != null) n.put("session", session);
        else if (prefix != null) n.put("prefix", prefix);
        else n.put("all", true);
        var a = n.putArray("caps");
        caps.stream().sorted().forEach(c -> a.add(c.wire()));
        return n;
    }

    /**
     * Reads a grant claim; anything malformed is refused ({@link IllegalArgumentException}) rather
     * than guessed: a {@code session} or {@code prefix} that is not a non-empty id string, an
     * {@code all} that is not {@code true}, an unknown field or capability.
     */
    public static Grant fromNode(JsonNode n) {
        if (!(n instanceof ObjectNode o)) throw new IllegalArgumentException("a grant is an object");
        for (var it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("session") && !f.equals("prefix") && !f.equals("all") && !f.equals("caps")) {
                throw new IllegalArgumentException("unknown grant field");
            }
        }
        JsonNode capsNode = o.get("caps");
        if (capsNode == null || !capsNode.isArray()) throw new IllegalArgumentException("caps must be an array");
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        for (JsonNode c : capsNode) {
            if (!c.isTextual()) throw new IllegalArgumentException("a capability is a string");
            caps.add(Capability.fromWire(c.textValue()));
        }
        JsonNode all = o.get("all");
        if (all != null && !(all.isBoolean() && all.booleanValue()))
            throw new IllegalArgumentException("all must be true");
        return new Grant(text(o, "session"), text(o, "prefix"), all != null, caps);
    }

    private static String text(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null) return null;
        if (!v.isTextual()) throw new IllegalArgumentException(field + " must be a string");
        return v.textValue();
    }
}
