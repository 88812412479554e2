package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.AppendResult.Contention;
import io.durablesessions.events.AppendResult.Duplicate;
import io.durablesessions.events.AppendResult.InvalidTransition;
import io.durablesessions.events.AppendResult.ProducerGap;
import io.durablesessions.events.AppendResult.RunExists;
import io.durablesessions.events.AppendResult.RunFenced;
import io.durablesessions.events.AppendResult.RunNotFound;
import io.durablesessions.events.AppendResult.StaleEpoch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
        return error(requestId, e.code(), e.getMessage(), e.details());
    }

    /** {@code complete} false: the catch-up stopped early; subscribe again from the last seq applied. */
    public static String subscribed(String requestId, String sessionId, long headSeq, boolean complete) {
        return Json.write(base("subscribed", requestId).put("sessionId", sessionId).put("headSeq", headSeq)
                .put("complete", complete));
    }

    public static String unsubscribed(String requestId, String sessionId) {
        return Json.write(base("unsubscribed", requestId).put("sessionId", sessionId));
    }

    public static String pong(String requestId, long ts) {
        return pong(requestId, ts, Map.of());
    }

    /**
     * A {@code pong} with the head seq of every session the connection subscribes to, so an idle
     * reader can tell it missed the last events (their delivery gave up) and resume (§7).
     */
    public static String pong(String requestId, long ts, Map<String, Long> heads) {
        ObjectNode f = base("pong", requestId).put("ts", ts);
        if (!heads.isEmpty()) {
            ObjectNode h = f.putObject("heads");
            new java.util.TreeMap<>(heads).forEach(h::put);
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
                frames.add(snapshotFrame(requestId, sessionId, state.headSeq(), frames.size(), false,
                        frames.isEmpty() ? head : null, current));
                current = new ArrayList<>();
                size = 0;
            }
            current.add(piece);
            size += len;
        }
        frames.add(snapshotFrame(requestId, sessionId, state.headSeq(), frames.size(), true,
                frames.isEmpty() ? head : null, current));
        return frames;
    }

    private static String snapshotFrame(String requestId, String sessionId, long headSeq, int part, boolean last,
                                        ObjectNode head, List<ObjectNode> items) {
        ObjectNode n = base("snapshot", requestId).put("sessionId", sessionId).put("headSeq", headSeq)
                .put("part", part).put("final", last);
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

    /** Splits one item node so each piece fits {@code budget} bytes. */
    static List<ObjectNode> splitItem(ObjectNode item, int budget) {
        if (utf8(Json.write(item)) <= budget) return List.of(item);
        List<ObjectNode> parts = new ArrayList<>();
        if ("message".equals(item.path("kind").asText())) {
            String text = item.path("text").asText();
            int chunkBytes = budget - utf8(Json.write(item.deepCopy().put("text", ""))) - 64;
            int start = 0;
            while (start < text.length() || parts.isEmpty()) {
                int end = start;
                int bytes = 0;
                while (end < text.length()) {
                    int cp = text.codePointAt(end);
                    // JSON escaping can grow a char up to 6 bytes; count the worst case
                    int b = cp < 0x20 || cp == '"' || cp == '\\' ? 6 : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
                    if (bytes + b > chunkBytes) break;
                    bytes += b;
                    end += Character.charCount(cp);
                }
                ObjectNode part = item.deepCopy().put("text", text.substring(start, end));
                if (!parts.isEmpty()) part.put("continued", true);
                parts.add(part);
                start = end;
            }
            return parts;
        }
        if ("tool_call".equals(item.path("kind").asText())) {
            ObjectNode first = item.deepCopy();
            first.putNull("result");
            ObjectNode second = item.deepCopy();
            second.putNull("arguments");
            second.put("continued", true);
            return List.of(first, second);
        }
        return List.of(item); // custom items are single events, always under the event limit
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** One {@code events} frame from stored event texts, which are spliced in unchanged. */
    public static String events(String sessionId, List<String> eventJsons) {
        StringBuilder sb = new StringBuilder(EVENTS_FRAME_OVERHEAD + eventJsons.size() * 128);
        sb.append("{\"type\":\"events\",\"sessionId\":").append(Json.quote(sessionId)).append(",\"events\":[");
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
            frames.add(new Packed(events(sessionId, eventJsons.subList(first, eventJsons.size())), first,
                    eventJsons.size() - first));
        }
        return frames;
    }

    /** The single place where append outcomes become {@code ack} or {@code error} frames. */
    public static String appendOutcome(String requestId, String sessionId, AppendResult result) {
        return switch (result) {
            case Appended a -> ack(requestId, sessionId, a.firstSeq(), a.lastSeq(), false);
            case Duplicate d -> ack(requestId, sessionId, d.firstSeq(), d.lastSeq(), true);
            case ProducerGap g -> error(requestId, ErrorCode.PRODUCER_GAP,
                    "producer seq skips ahead; expected " + g.expectedSeq(),
                    Json.object().put("expectedSeq", g.expectedSeq()));
            case StaleEpoch s -> error(requestId, ErrorCode.STALE_EPOCH,
                    "producer epoch is older than the current epoch " + s.currentEpoch(),
                    Json.object().put("currentEpoch", s.currentEpoch()));
            case RunNotFound r -> error(requestId, ErrorCode.RUN_NOT_FOUND,
                    "run '" + r.runId() + "' was never started in this session", Json.object().put("runId", r.runId()));
            case RunExists r -> error(requestId, ErrorCode.RUN_EXISTS,
                    "run '" + r.runId() + "' already exists", Json.object().put("runId", r.runId()));
            case RunFenced f -> {
                ObjectNode d = Json.object().put("runId", f.runId()).put("state", f.state().wire());
                if (f.stoppedAtSeq() != null) d.put("stoppedAtSeq", f.stoppedAtSeq());
                yield error(requestId, ErrorCode.RUN_FENCED, "run '" + f.runId() + "' is " + f.state().wire()
                        + (f.stoppedAtSeq() != null ? " at seq " + f.stoppedAtSeq() : "") + "; nothing was written", d);
            }
            case AppendResult.MessageFenced m -> error(requestId, ErrorCode.MESSAGE_FENCED,
                    "message '" + m.messageId() + "' of run '" + m.runId() + "' was interrupted; nothing was written",
                    Json.object().put("runId", m.runId()).put("messageId", m.messageId()));
            case InvalidTransition t -> error(requestId, ErrorCode.INVALID_TRANSITION,
                    "'" + t.type().wire() + "' is not allowed while run '" + t.runId() + "' is "
                            + (t.state() == null ? "not started" : t.state().wire()),
                    Json.object().put("runId", t.runId()).put("state", t.state() == null ? null : t.state().wire()));
            case AppendResult.NotRunAgent n -> error(requestId, ErrorCode.FORBIDDEN,
                    "run " + n.runId() + " belongs to another agent", null);
            case AppendResult.PreconditionFailed p -> error(requestId, ErrorCode.CONTENTION,
                    "the session changed meanwhile; nothing was written, retry", null);
            case Contention c -> error(requestId, ErrorCode.CONTENTION,
                    "too many concurrent writers on this session; nothing was written, retry",
                    Json.object().put("attempts", c.attempts()));
        };
    }

    private static ObjectNode base(String type, String requestId) {
        ObjectNode n = Json.object().put("type", type);
        if (requestId != null) n.put("requestId", requestId);
        return n;
    }
}
