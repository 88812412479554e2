package io.durablesessions.events;

/** Stable wire error codes (docs/protocol.md §5). */
public enum ErrorCode {
    MALFORMED_JSON,
    UNKNOWN_ACTION,
    INVALID_MESSAGE,
    UNKNOWN_EVENT_TYPE,
    FORBIDDEN_EVENT_TYPE,
    EVENT_TOO_LARGE,
    MESSAGE_TOO_LARGE,
    TOO_MANY_EVENTS,
    PRODUCER_GAP,
    STALE_EPOCH,
    RUN_NOT_FOUND,
    RUN_EXISTS,
    RUN_FENCED,
    INVALID_TRANSITION,
    SESSION_NOT_FOUND,
    CONTENTION,
    UNAUTHORIZED,
    FORBIDDEN,
    RATE_LIMITED,
    INTERNAL
}
