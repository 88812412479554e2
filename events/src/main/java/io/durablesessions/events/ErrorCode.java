package io.durablesessions.events;

/**
 * Stable wire error codes (docs/protocol.md §5), with the facts every surface needs about each: the
 * HTTP status the HTTP API answers it with, and what a client does about it ({@link Recovery}): send
 * the same request again, get a fresh token, stop writing what was fenced, or give up on the request.
 */
public enum ErrorCode {
    MALFORMED_JSON(400, Recovery.FATAL),
    UNKNOWN_ACTION(404, Recovery.FATAL),
    INVALID_MESSAGE(400, Recovery.FATAL),
    UNKNOWN_EVENT_TYPE(400, Recovery.FATAL),
    FORBIDDEN_EVENT_TYPE(400, Recovery.FATAL),
    EVENT_TOO_LARGE(413, Recovery.FATAL),
    MESSAGE_TOO_LARGE(413, Recovery.FATAL),
    TOO_MANY_EVENTS(413, Recovery.FATAL),
    PRODUCER_GAP(409, Recovery.FATAL),
    STALE_EPOCH(409, Recovery.FENCED),
    RUN_NOT_FOUND(404, Recovery.FATAL),
    RUN_EXISTS(409, Recovery.FATAL),
    RUN_FENCED(409, Recovery.FENCED),
    MESSAGE_FENCED(409, Recovery.FENCED),
    /** The message, tool call or run belongs to another writer (docs/protocol.md §6.3). */
    NOT_OWNER(403, Recovery.FATAL),
    INVALID_TRANSITION(409, Recovery.FATAL),
    SESSION_NOT_FOUND(404, Recovery.FATAL),
    CONTENTION(409, Recovery.RETRY),
    UNAUTHORIZED(401, Recovery.REFRESH_TOKEN),
    FORBIDDEN(403, Recovery.FATAL),
    RATE_LIMITED(429, Recovery.RETRY),
    INTERNAL(500, Recovery.RETRY);

    /** What a client does about a refusal (the "retry?" column of docs/protocol.md §5). */
    public enum Recovery {
        /** Transient, nothing written: send the same request (the same producer seq) again after a backoff, or {@code details.retryAfterMs}. */
        RETRY,
        /** The identity was refused (expired, revoked): reconnect or send again with a fresh token; the same token fails again. */
        REFRESH_TOKEN,
        /** The writer was fenced off: its producer epoch ({@code STALE_EPOCH}), the run, or the message is closed to it; stop writing that. */
        FENCED,
        /** The request itself is wrong or not allowed: sent again, it is refused again. */
        FATAL
    }

    private final int httpStatus;
    private final Recovery recovery;

    ErrorCode(int httpStatus, Recovery recovery) {
        this.httpStatus = httpStatus;
        this.recovery = recovery;
    }

    /** The HTTP API's status for this code (docs/protocol.md, HTTP API → Errors). */
    public int httpStatus() {
        return httpStatus;
    }

    public Recovery recovery() {
        return recovery;
    }

    /**
     * Whether sending the same request again (same producer seq) may succeed: a transient refusal
     * that wrote nothing ({@link Recovery#RETRY}). Every other code is final for that request.
     */
    public boolean retryable() {
        return recovery == Recovery.RETRY;
    }

    /** The code of a wire name, or null when the name is not a code of this protocol version. */
    public static ErrorCode fromWire(String name) {
        if (name == null) return null;
        for (ErrorCode c : values()) if (c.name().equals(name)) return c;
        return null;
    }
}
