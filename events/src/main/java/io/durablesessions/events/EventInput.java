package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/** An event as a writer sends it: type, optional run, data. The service adds the envelope. */
public record EventInput(EventType type, String runId, ObjectNode data) {

    public EventInput {
        if (type == null) throw new IllegalArgumentException("type");
        if (data == null) data = Json.object();
    }

    public static EventInput of(EventType type, String runId, ObjectNode data) {
        return new EventInput(type, runId, data);
    }

    /** The stored form of this input, once the service has assigned its envelope. */
    public Event toEvent(long seq, String sessionId, String agentId, long ts) {
        return toEvent(seq, sessionId, agentId, ts, null);
    }

    /** As above, carrying the append's {@code traceparent} (null: none). */
    public Event toEvent(long seq, String sessionId, String agentId, long ts, String traceparent) {
        return new Event(seq, sessionId, type, agentId, runId, ts, data, traceparent);
    }

    /**
     * Parses and validates one event input of an append. {@code index} names it in errors;
     * {@code defaultRunId} is the append's run.
     */
    public static EventInput parse(JsonNode node, int index, String defaultRunId) {
        String where = "events[" + index + "]";
        if (!(node instanceof ObjectNode obj)) throw ProtocolException.invalid(where, "must be an object");
        JsonNode typeNode = obj.get("type");
        if (typeNode == null || !typeNode.isTextual()) throw ProtocolException.invalid(where + ".type", "is required");
        EventType type = EventType.fromWire(typeNode.textValue())
                .orElseThrow(() -> new ProtocolException(
                        ErrorCode.UNKNOWN_EVENT_TYPE,
                        where + ".type: unknown event type '" + Json.truncate(typeNode.textValue(), 64) + "'",
                        Json.object().put("field", where + ".type")));
        if (type.serviceOnly()) {
            throw new ProtocolException(
                    ErrorCode.FORBIDDEN_EVENT_TYPE,
                    where + ".type: '" + type.wire() + "' is written by the service only",
                    Json.object().put("field", where + ".type"));
        }
        String runId = Fields.optionalId(obj, "runId");
        if (runId == null) runId = defaultRunId;
        ObjectNode data = Fields.object(obj, "data", false);
        if (data == null) data = Json.object();
        if (Json.depth(data) > Limits.MAX_DATA_DEPTH) {
            throw ProtocolException.invalid(where + ".data", "nests deeper than " + Limits.MAX_DATA_DEPTH + " levels");
        }
        String badText = Json.loneSurrogatePath(data, where + ".data");
        if (badText != null) {
            // it would be stored as "?" (UTF-8 cannot encode it): refuse instead of corrupting the text
            throw ProtocolException.invalid(badText, "holds a lone UTF-16 surrogate (not valid Unicode text)");
        }
        EventSchemas.validate(type, runId, data, where);
        return new EventInput(type, runId, data);
    }

    /** UTF-8 size of the stored envelope, checked against {@link Limits#MAX_EVENT_BYTES}. */
    public static int storedSize(Event e) {
        return e.toJson().getBytes(StandardCharsets.UTF_8).length;
    }
}
