package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.EventType;
import io.durablesessions.events.EventType.Phase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * The owner row of a message ({@code MSG#id}) or tool call ({@code TOOL#id}) in one append. Its
 * first event writes the row ({@code attribute_not_exists}): the writer becomes the owner, a
 * message's role and run are fixed. An entity outside any run keeps its phase here ({@code state}:
 * input | open | closed), checked in the same transaction; an entity of a run keeps it on the run
 * row (see {@link RunWrite}), so a streaming reply costs no extra item per append. Its row then
 * holds {@code state = input} only while a tool call's input streams, so the {@code tool.call}
 * that completes the input can tell it from a call that was already made.
 */
final class EntityWrite {
    static final String WRITER = "writer";
    static final String RUN_ID = "runId";
    static final String ROLE = "role";
    static final String STATE = "state";

    final String sk;
    final String field;
    final String id;
    final String writer;
    final String runId;
    /** What the entity's first event in this append does: the phases it may be in before it. */
    final EventType.Step first;

    final Set<Phase> requires;
    /** The first event of this entity in the append, to explain a refusal. */
    final EventType type;
    /** The phase this append leaves it in. */
    Phase after;

    String role;

    EntityWrite(String field, String id, String writer, String runId, EventType.Step first, EventType type) {
        this.sk = key(field, id);
        this.field = field;
        this.id = id;
        this.writer = writer;
        this.runId = runId;
        this.first = first;
        this.requires = first.from();
        this.after = first.to();
        this.type = type;
    }

    /** The sort key of the owner row of an entity named by {@code field} ({@code messageId}, {@code toolCallId}). */
    static String key(String field, String id) {
        return ("messageId".equals(field) ? Keys.MESSAGE : Keys.TOOL) + id;
    }

    /** The key of the entity in a run's {@code open} map: {@code m#id} or {@code t#id}. */
    static String openKey(String field, String id) {
        return ("messageId".equals(field) ? "m#" : "t#") + id;
    }

    /** How a phase is stored ({@code state} here, the values of a run's {@code open} map). */
    static String wire(Phase phase) {
        return switch (phase) {
            case INPUT -> "input";
            case OPEN -> "open";
            case CLOSED -> "closed";
            case ABSENT -> throw new IllegalArgumentException("an absent entity has no row");
        };
    }

    /** The stored phase; null for none. */
    static Phase phase(String wire) {
        if (wire == null) return null;
        return switch (wire) {
            case "input" -> Phase.INPUT;
            case "open" -> Phase.OPEN;
            case "closed" -> Phase.CLOSED;
            default -> null;
        };
    }

    /**
     * Whether this append must write the row: always outside a run; for an entity of a run only
     * when the row may be created, or a tool call leaves its input phase (the run row checks the rest).
     */
    boolean needed() {
        if (runId == null || requires.contains(Phase.ABSENT)) return true;
        return requires.contains(Phase.INPUT) && after != Phase.INPUT;
    }

    TransactWriteItem toWrite(String table, String sessionId) {
        Map<String, AttributeValue> key = Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk));
        String stateAfter = runId == null ? wire(after) : (after == Phase.INPUT ? wire(Phase.INPUT) : null);
        if (requires.equals(Set.of(Phase.ABSENT))) {
            Map<String, AttributeValue> item = new HashMap<>(key);
            item.put(WRITER, s(writer));
            if (runId != null) item.put(RUN_ID, s(runId));
            if (role != null) item.put(ROLE, s(role));
            if (stateAfter != null) item.put(STATE, s(stateAfter));
            return Expression.NEW_ROW.put(table, item);
        }
        Update u = new Update(table, key);
        String writerMatches = u.name(WRITER) + " = " + u.value(s(writer));
        String runMatches = runId == null
                ? "attribute_not_exists(" + u.name(RUN_ID) + ")"
                : u.name(RUN_ID) + " = " + u.value(s(runId));
        // an entity of a run has a stored phase only while its input streams
        List<String> stored = new ArrayList<>();
        for (Phase p : requires) {
            if (p != Phase.ABSENT && (runId == null || p == Phase.INPUT)) stored.add(u.value(s(wire(p))));
        }
        String existing = writerMatches + " AND " + runMatches
                + (stored.isEmpty() ? "" : " AND " + u.name(STATE) + " IN (" + String.join(", ", stored) + ")");
        if (requires.contains(Phase.ABSENT)) {
            // tool.call: a new tool call, or the one whose input this writer streamed
            u.condition("(attribute_not_exists(sk) OR (" + existing + "))");
            u.set(u.name(WRITER), s(writer));
            if (runId != null) u.set(u.name(RUN_ID), s(runId));
        } else {
            u.condition(existing);
        }
        if (stateAfter != null) u.set(u.name(STATE), s(stateAfter));
        else u.remove(u.name(STATE));
        return u.transactItem();
    }
}
