package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Joins the {@code snapshot} frames of one hydrate back into a {@link SessionState} (client side). */
public final class SnapshotParts {
    private final ObjectNode state = Json.object();
    private final ArrayNode items = state.putArray("items");
    private boolean complete;

    /** Adds the next frame (parts arrive in order on one connection). Returns true at the final part. */
    public boolean add(ObjectNode frame) {
        JsonNode st = frame.get("state");
        state.put("headSeq", frame.path("headSeq").asLong());
        if (st.has("runs")) state.set("runs", st.get("runs"));
        if (st.has("agents")) state.set("agents", st.get("agents"));
        if (st.has("presence")) state.set("presence", st.get("presence"));
        for (JsonNode item : st.path("items")) {
            if (item.path("continued").asBoolean(false) && !items.isEmpty()) {
                ObjectNode prev = (ObjectNode) items.get(items.size() - 1);
                if ("message".equals(item.path("kind").asText())) {
                    concat(prev, item, "text");
                    concat(prev, item, "reasoning");
                    if (item.get("parts") instanceof ArrayNode more && prev.get("parts") instanceof ArrayNode ps) {
                        more.forEach(ps::add);
                    }
                } else if (item.hasNonNull("inputText")) {
                    concat(prev, item, "inputText");
                } else {
                    prev.set("result", item.get("result"));
                }
            } else {
                items.add(item.deepCopy());
            }
        }
        complete = frame.path("final").asBoolean(false);
        return complete;
    }

    private static void concat(ObjectNode prev, JsonNode item, String field) {
        if (item.hasNonNull(field))
            prev.put(field, prev.path(field).asText() + item.get(field).asText());
    }

    public boolean complete() {
        return complete;
    }

    public SessionState state() {
        if (!complete) throw new IllegalStateException("snapshot parts still missing");
        return SessionState.fromNode(state);
    }

    public static SessionState join(List<ObjectNode> frames) {
        SnapshotParts p = new SnapshotParts();
        frames.forEach(p::add);
        return p.state();
    }
}
