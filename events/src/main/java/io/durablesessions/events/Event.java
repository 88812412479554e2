package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A stored event: the envelope of docs/protocol.md §4.1. {@link #toJson()} is the exact text that
 * is stored and delivered, so every reader sees the same bytes. {@code traceparent} is the W3C trace
 * context its append carried ({@link TraceParent}), null when it carried none.
 */
public record Event(
        long seq,
        String sessionId,
        EventType type,
        String agentId,
        String runId,
        long ts,
        ObjectNode data,
        String traceparent) {

    public Event {
        if (seq < 1) throw new IllegalArgumentException("seq starts at 1");
        if (data == null) data = Json.object();
    }

    /** An event whose append carried no trace context. */
    public Event(long seq, String sessionId, EventType type, String agentId, String runId, long ts, ObjectNode data) {
        this(seq, sessionId, type, agentId, runId, ts, data, null);
    }

    public String dataText(String field) {
        var v = data.get(field);
        return v == null || !v.isTextual() ? null : v.textValue();
    }

    public ObjectNode toNode() {
        ObjectNode n = Json.object();
        n.put("seq", seq);
        n.put("sessionId", sessionId);
        n.put("type", type.wire());
        n.put("agentId", agentId);
        if (runId != null) n.put("runId", runId);
        n.put("ts", ts);
        // before data: a reader looking for it (the fan-out's link) stops early
        if (traceparent != null) n.put("traceparent", traceparent);
        n.set("data", data);
        return n;
    }

    public String toJson() {
        return Json.write(toNode());
    }

    /** Reads a stored event. Stored events were validated on the way in, so this is strict. */
    public static Event fromJson(String json) {
        ObjectNode n = Json.parseObject(json);
        EventType type = EventType.fromWire(n.path("type").asText())
                .orElseThrow(() -> new IllegalArgumentException("unknown stored event type: " + n.path("type")));
        ObjectNode data = n.get("data") instanceof ObjectNode d ? d : Json.object();
        return new Event(
                n.path("seq").asLong(),
                n.path("sessionId").asText(),
                type,
                n.path("agentId").asText(),
                n.hasNonNull("runId") ? n.get("runId").asText() : null,
                n.path("ts").asLong(),
                data,
                n.hasNonNull("traceparent") ? n.get("traceparent").asText() : null);
    }
}
