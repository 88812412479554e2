package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.AppendResult.Duplicate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Server → client frames (docs/protocol.md §4), and the one mapping of outcomes to wire codes. */
public final class Frames {
    /** Bytes of an {@code events} frame around its events, with a generous session id. */
    private static final int EVENTS_FRAME_OVERHEAD = 64 + 3 * Limits.MAX_ID_LENGTH;

    private Frames() {}

    public static String ack(String requestId, String sessionId, Long firstSeq, Long lastSeq, boolean duplicate) {
        ObjectNode n = base("ack", requestId).put("sessionId", sessionId);
        if (firstSeq != null) n.put("firstSeq", firstSeq);
        if (lastSeq != null) n.put("lastSeq", lastSeq);
        n.put("duplicate", duplicate);
        return Json.write(n);
    }

    public static String error(String requestId, ErrorCode code, String message, ObjectNode details) {
        ObjectNode n = base("error", requestId).put("code", code.name()).put("message", message);
        if (details != null && !details.isEmpty()) n.set("details", details);
        return Json.write(n);
    }

    public static String error(String requestId, ProtocolException e) {
        return error(requestId, Refusal.of(e));
    }

    public static String error(String requestId, Refusal refusal) {
        return error(requestId, refusal.code(), refusal.message(), refusal.details());
    }

    /** {@code complete} false: the catch-up stopped early; subscribe again from the last seq applied. */
    public static String subscribed(String requestId, String sessionId, long headSeq, boolean complete) {
        return Json.write(base("subscribed", requestId)
                .put("sessionId", sessionId)
                .put("headSeq", headSeq)
                .put("complete", complete));
    }

    public static String unsubscribed(String requestId, String sessionId) {
        return Json.write(base("unsubscribed", requestId).put("sessionId", sessionId));
    }

    /**
     * A {@code pong} with the head seq of every session the connection subscribes to, so an idle
     * reader can tell it missed the last events (their delivery gave up) and resume (§7).
     */
    public static String pong(String requestId, long ts, Map<String, Long> heads) {
        ObjectNode f = base("pong", requestId).put("ts", ts);
        if (!heads.isEmpty()) {
            ObjectNode h = f.putObject("heads");
            new TreeMap<>(heads).forEach(h::put);
        }
        return Json.write(f);
    }

    /**
     * The snapshot of a hydrate as one or more {@code snapshot} frames of at most {@code maxBytes}
     * each (docs/protocol.md §8.1). Part 0 carries runs and agents; items follow in order; an item
     * too large for one frame is split into parts marked {@code "continued": true}.
     */
    public static List<String> snapshots(String requestId, String sessionId, SessionState state, int maxBytes) {
        int budget = maxBytes - 512 - 3 * Limits.MAX_ID_LENGTH;
        List<ObjectNode> pieces = new ArrayList<>();
        for (SessionState.Item item : state.items()) pieces.addAll(splitItem(item.toNode(), budget));
        List<String> frames = new ArrayList<>();
        ObjectNode head = Json.object();
        ArrayNode runs = head.putArray("runs");
        state.toNode().get("runs").forEach(runs::add);
        ArrayNode agents = head.putArray("agents");
        state.toNode().get("agents").forEach(agents::add);
        ArrayNode presence = head.putArray("presence");
        state.toNode().get("presence").forEach(presence::add);
        List<ObjectNode> current = new ArrayList<>();
        int size = utf8(Json.write(head));
        for (ObjectNode piece : pieces) {
            int len = utf8(Json.write(piece)) + 1;
            if (!current.isEmpty() && size + len > budget) {
                frames.add(snapshotFrame(
                        requestId,
                        sessionId,
                        state.headSeq(),
                        frames.size(),
                        false,
                        frames.isEmpty() ? head : null,
                        current));
                current = new ArrayList<>();
                size = 0;
            }
            current.add(piece);
            size += len;
        }
        frames.add(snapshotFrame(
                requestId, sessionId, state.headSeq(), frames.size(), true, frames.isEmpty() ? head : null, current));
        return frames;
    }

    private static String snapshotFrame(
            String requestId,
            String sessionId,
            long headSeq,
            int part,
            boolean last,
            ObjectNode head,
            List<ObjectNode> items) {
        ObjectNode n = base("snapshot", requestId)
                .put("sessionId", sessionId)
                .put("headSeq", headSeq)
                .put("part", part)
                .put("final", last);
        ObjectNode st = n.putObject("state");
        st.put("headSeq", headSeq);
        ArrayNode is = st.putArray("items");
        items.forEach(is::add);
        if (head != null) {
            st.set("runs", head.get("runs"));
            st.set("agents", head.get("agents"));
            st.set("presence", head.get("presence"));
        }
        return Json.write(n);
    }

    /**
     * Splits one item node so each piece fits {@code budget} bytes. A message's {@code text}, then
     * its {@code reasoning}, then its {@code parts} continue in the following pieces; a tool call's
     * streaming {@code inputText} likewise, and a called tool's {@code result} follows its
     * {@code arguments}. Pieces after the first are marked {@code "continued": true}.
     */
    static List<ObjectNode> splitItem(ObjectNode item, int budget) {
        if (utf8(Json.write(item)) <= budget) return List.of(item);
        String kind = item.path("kind").asText();
        if ("message".equals(kind)) return splitContent(item, budget, List.of("text", "reasoning"), "parts");
        if ("tool_call".equals(kind)) {
            if (item.hasNonNull("inputText")) return splitContent(item, budget, List.of("inputText"), null);
            ObjectNode first = item.deepCopy();
            first.putNull("result");
            ObjectNode second = item.deepCopy();
            second.putNull("arguments");
            second.put("continued", true);
            return List.of(first, second);
        }
        return List.of(item); // custom items are single events, always under the event limit
    }

    /** Pieces carrying the item's string fields in order, then the elements of its array field. */
    private static List<ObjectNode> splitContent(ObjectNode item, int budget, List<String> strings, String array) {
        List<String> present = strings.stream().filter(item::hasNonNull).toList();
        boolean hasArray = array != null && item.get(array) instanceof ArrayNode;
        ObjectNode base = item.deepCopy();
        present.forEach(f -> base.put(f, ""));
        if (hasArray) base.putArray(array);
        // the text is counted as it will be written (JsonBytes); 64 bytes spare for the continued marker
        int room = budget - utf8(Json.write(base)) - 64;
        List<ObjectNode> parts = new ArrayList<>();
        ObjectNode piece = base.deepCopy();
        parts.add(piece);
        int used = 0;
        for (String field : present) {
            String text = item.path(field).asText();
            StringBuilder chunk = new StringBuilder();
            int at = 0;
            while (at < text.length()) {
                int end = JsonBytes.fit(text, at, room - used);
                if (end == at && used > 0) {
                    piece.put(field, chunk.toString());
                    chunk.setLength(0);
                    piece = continued(base);
                    parts.add(piece);
                    used = 0;
                    continue;
                }
                if (end == at) end = JsonBytes.nextCodePoint(text, at); // nothing fits an empty piece: one code point
                chunk.append(text, at, end);
                used += JsonBytes.of(text, at, end);
                at = end;
            }
            piece.put(field, chunk.toString());
        }
        if (hasArray) {
            for (var element : item.get(array)) {
                int b = utf8(Json.write(element)) + 1;
                if (used + b > room && used > 0) {
                    piece = continued(base);
                    parts.add(piece);
                    used = 0;
                }
                ((ArrayNode) piece.get(array)).add(element.deepCopy());
                used += b;
            }
        }
        return parts;
    }

    private static ObjectNode continued(ObjectNode base) {
        ObjectNode p = base.deepCopy();
        p.put("continued", true);
        return p;
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** One {@code events} frame from stored event texts, which are spliced in unchanged. */
    public static String events(String sessionId, List<String> eventJsons) {
        StringBuilder sb = new StringBuilder(EVENTS_FRAME_OVERHEAD + eventJsons.size() * 128);
        sb.append("{\"type\":\"events\",\"sessionId\":")
                .append(Json.quote(sessionId))
                .append(",\"events\":[");
        for (int i = 0; i < eventJsons.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(eventJsons.get(i));
        }
        return sb.append("]}").toString();
    }

    /** One packed {@code events} frame and which of the input events it holds. */
    public record Packed(String frame, int firstIndex, int count) {}

    /**
     * Packs stored events, in order, into as few {@code events} frames as fit {@code maxBytes}
     * each. Every stored event is at most {@link Limits#MAX_EVENT_BYTES}, so one always fits.
     */
    public static List<Packed> packEvents(String sessionId, List<String> eventJsons, int maxBytes) {
        List<Packed> frames = new ArrayList<>();
        int first = 0;
        int size = EVENTS_FRAME_OVERHEAD;
        for (int i = 0; i < eventJsons.size(); i++) {
            int len = eventJsons.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
            if (i > first && size + len > maxBytes) {
                frames.add(new Packed(events(sessionId, eventJsons.subList(first, i)), first, i - first));
                first = i;
                size = EVENTS_FRAME_OVERHEAD;
            }
            size += len;
        }
        if (first < eventJsons.size()) {
            frames.add(new Packed(
                    events(sessionId, eventJsons.subList(first, eventJsons.size())), first, eventJsons.size() - first));
        }
        return frames;
    }

    /** An append's (or control's, or heartbeat's) answer: an {@code ack}, or the {@code error} of its {@link Refusal}. */
    public static String appendOutcome(String requestId, String sessionId, AppendResult result) {
        Refusal refusal = Refusal.of(result);
        if (refusal != null) return error(requestId, refusal);
        if (result instanceof Appended a) return ack(requestId, sessionId, a.firstSeq(), a.lastSeq(), false);
        if (result instanceof Duplicate d) return ack(requestId, sessionId, d.firstSeq(), d.lastSeq(), true);
        return ack(requestId, sessionId, null, null, false); // accepted, nothing written (a heartbeat)
    }

    private static ObjectNode base(String type, String requestId) {
        ObjectNode n = Json.object().put("type", type);
        if (requestId != null) n.put("requestId", requestId);
        return n;
    }
}
