package io.durablesessions.events;

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

    public static String subscribed(String requestId, String sessionId, long headSeq) {
        return Json.write(base("subscribed", requestId).put("sessionId", sessionId).put("headSeq", headSeq));
    }

    public static String unsubscribed(String requestId, String sessionId) {
        return Json.write(base("unsubscribed", requestId).put("sessionId", sessionId));
    }

    public static String pong(String requestId, long ts) {
        return Json.write(base("pong", requestId).put("ts", ts));
    }

    public static String snapshot(String requestId, String sessionId, SessionState state) {
        ObjectNode n = base("snapshot", requestId).put("sessionId", sessionId).put("headSeq", state.headSeq());
        n.set("state", state.toNode());
        return Json.write(n);
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

    /**
     * Packs stored events, in order, into as few {@code events} frames as fit {@code maxBytes}
     * each. Every stored event is at most {@link Limits#MAX_EVENT_BYTES}, so one always fits.
     */
    public static List<String> packEvents(String sessionId, List<String> eventJsons, int maxBytes) {
        List<String> frames = new ArrayList<>();
        List<String> current = new ArrayList<>();
        int size = EVENTS_FRAME_OVERHEAD;
        for (String e : eventJsons) {
            int len = e.getBytes(StandardCharsets.UTF_8).length + 1;
            if (!current.isEmpty() && size + len > maxBytes) {
                frames.add(events(sessionId, current));
                current = new ArrayList<>();
                size = EVENTS_FRAME_OVERHEAD;
            }
            current.add(e);
            size += len;
        }
        if (!current.isEmpty()) frames.add(events(sessionId, current));
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
            case InvalidTransition t -> error(requestId, ErrorCode.INVALID_TRANSITION,
                    "'" + t.type().wire() + "' is not allowed while run '" + t.runId() + "' is "
                            + (t.state() == null ? "not started" : t.state().wire()),
                    Json.object().put("runId", t.runId()).put("state", t.state() == null ? null : t.state().wire()));
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
