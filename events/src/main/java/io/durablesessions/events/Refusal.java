package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Why a request was refused: a stable code (docs/protocol.md §5), a message for people, and the
 * protocol's {@code details}. Produced in one place from a store outcome ({@link #of(AppendResult)})
 * or a validation failure ({@link #of(ProtocolException)}), and rendered as a WebSocket
 * {@code error} frame ({@link Frames#error(String, Refusal)}) or as problem+json by the HTTP API —
 * the same value both ways, never re-parsed.
 */
public record Refusal(ErrorCode code, String message, ObjectNode details) {

    public static Refusal of(ProtocolException e) {
        return new Refusal(e.code(), e.getMessage(), e.details());
    }

    public static Refusal of(ErrorCode code, String message) {
        return new Refusal(code, message, null);
    }

    /** The refusal a store outcome stands for; null for the outcomes that are successes. */
    public static Refusal of(AppendResult result) {
        if (result instanceof AppendResult.Appended
                || result instanceof AppendResult.Duplicate
                || result instanceof AppendResult.Noted) {
            return null;
        }
        if (result instanceof AppendResult.ProducerGap g) {
            return new Refusal(
                    ErrorCode.PRODUCER_GAP,
                    "producer seq skips ahead; expected " + g.expectedSeq(),
                    Json.object().put("expectedSeq", g.expectedSeq()));
        }
        if (result instanceof AppendResult.StaleEpoch s) {
            return new Refusal(
                    ErrorCode.STALE_EPOCH,
                    "producer epoch is older than the current epoch " + s.currentEpoch(),
                    Json.object().put("currentEpoch", s.currentEpoch()));
        }
        if (result instanceof AppendResult.RunNotFound r) {
            return new Refusal(
                    ErrorCode.RUN_NOT_FOUND,
                    "run '" + r.runId() + "' was never started in this session",
                    Json.object().put("runId", r.runId()));
        }
        if (result instanceof AppendResult.RunExists r) {
            return new Refusal(
                    ErrorCode.RUN_EXISTS,
                    "run '" + r.runId() + "' already exists",
                    Json.object().put("runId", r.runId()));
        }
        if (result instanceof AppendResult.RunFenced f) {
            ObjectNode d =
                    Json.object().put("runId", f.runId()).put("state", f.state().wire());
            if (f.stoppedAtSeq() != null) d.put("stoppedAtSeq", f.stoppedAtSeq());
            return new Refusal(
                    ErrorCode.RUN_FENCED,
                    "run '" + f.runId() + "' is " + f.state().wire()
                            + (f.stoppedAtSeq() != null ? " at seq " + f.stoppedAtSeq() : "") + "; nothing was written",
                    d);
        }
        if (result instanceof AppendResult.MessageFenced m) {
            return new Refusal(
                    ErrorCode.MESSAGE_FENCED,
                    "message '" + m.messageId() + "' of run '" + m.runId() + "' was interrupted; nothing was written",
                    Json.object().put("runId", m.runId()).put("messageId", m.messageId()));
        }
        if (result instanceof AppendResult.InvalidTransition t) {
            return new Refusal(
                    ErrorCode.INVALID_TRANSITION,
                    "'" + t.type().wire() + "' is not allowed while run '" + t.runId() + "' is "
                            + (t.state() == null ? "not started" : t.state().wire()),
                    Json.object()
                            .put("runId", t.runId())
                            .put("state", t.state() == null ? null : t.state().wire()));
        }
        if (result instanceof AppendResult.EntityTransition t) {
            return new Refusal(
                    ErrorCode.INVALID_TRANSITION,
                    "'" + t.type().wire() + "' for " + t.field() + " '" + t.id() + "': " + t.why()
                            + "; nothing was written",
                    Json.object().put(t.field(), t.id()));
        }
        if (result instanceof AppendResult.NotOwner n) {
            return new Refusal(
                    ErrorCode.NOT_OWNER,
                    n.field() + " '" + n.id() + "' belongs to another writer; nothing was written",
                    Json.object().put(n.field(), n.id()));
        }
        if (result instanceof AppendResult.TooManyRows t) {
            return new Refusal(
                    ErrorCode.TOO_MANY_EVENTS,
                    "this append would write " + t.rows() + " rows; one transaction holds at most " + t.limit()
                            + ": split it",
                    Json.object().put("limit", t.limit()).put("rows", t.rows()));
        }
        if (result instanceof AppendResult.NoSession n) {
            return new Refusal(ErrorCode.SESSION_NOT_FOUND, "session '" + n.sessionId() + "' does not exist", null);
        }
        if (result instanceof AppendResult.PreconditionFailed) {
            return new Refusal(ErrorCode.CONTENTION, "the session changed meanwhile; nothing was written, retry", null);
        }
        if (result instanceof AppendResult.Contention c) {
            return new Refusal(
                    ErrorCode.CONTENTION,
                    "too many concurrent writers on this session; nothing was written, retry",
                    Json.object().put("attempts", c.attempts()));
        }
        throw new IllegalArgumentException("no refusal for " + result);
    }
}
