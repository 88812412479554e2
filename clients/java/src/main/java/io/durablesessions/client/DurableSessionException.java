package io.durablesessions.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.ErrorCode;

/**
 * A request the service refused for good: an {@code error} frame (or HTTP problem) with a stable code
 * of docs/protocol.md §5 that is not worth sending again as it was. {@link #errorCode()} says what to
 * do about it ({@link ErrorCode#recovery()}); the subclasses are the refusals callers act on
 * differently: {@link ProducerFencedException}, {@link RunFencedException}, {@link MessageFencedException}
 * and {@link UnauthorizedException}.
 */
public class DurableSessionException extends RuntimeException {
    private final String code;
    private final transient ErrorCode errorCode;
    private final transient ObjectNode details;

    public DurableSessionException(String code, String message, ObjectNode details) {
        super(code + ": " + message);
        this.code = code;
        this.errorCode = ErrorCode.fromWire(code);
        this.details = details;
    }

    /** The exception for a refusal: the subclass of its code, if it has one. */
    public static DurableSessionException of(String code, String message, ObjectNode details) {
        ErrorCode c = ErrorCode.fromWire(code);
        if (c == null) return new DurableSessionException(code, message, details);
        switch (c) {
            case STALE_EPOCH:
                return new ProducerFencedException(message, details);
            case RUN_FENCED:
                return new RunFencedException(message, details);
            case MESSAGE_FENCED:
                return new MessageFencedException(message, details);
            case UNAUTHORIZED:
                return new UnauthorizedException(message, details);
            default:
                return new DurableSessionException(code, message, details);
        }
    }

    /** From an {@code error} frame. */
    static DurableSessionException of(ObjectNode error) {
        return of(
                error.path("code").asText("UNKNOWN"),
                error.path("message").asText(""),
                error.get("details") instanceof ObjectNode d ? d : null);
    }

    /** The code as sent, e.g. {@code RUN_FENCED}; also names refusals outside the protocol (e.g. {@code HTTP_418}). */
    public String code() {
        return code;
    }

    /** The protocol's code, or null when the refusal named none of §5 (an HTTP status without a problem body). */
    public ErrorCode errorCode() {
        return errorCode;
    }

    /** {@code details} of the error frame, or null. */
    public ObjectNode details() {
        return details;
    }

    /** {@code STALE_EPOCH}: a newer instance of this producer took over; this agent must stop writing. */
    public static final class ProducerFencedException extends DurableSessionException {
        public ProducerFencedException(String message, ObjectNode details) {
            super(ErrorCode.STALE_EPOCH.name(), message, details);
        }
    }

    /** {@code RUN_FENCED}: the run is stopped, stopping, completed or failed; nothing more is written to it. */
    public static final class RunFencedException extends DurableSessionException {
        public RunFencedException(String message, ObjectNode details) {
            super(ErrorCode.RUN_FENCED.name(), message, details);
        }

        /** The run's state when it was refused ({@code stop_requested}, {@code stopped}, {@code completed}, {@code failed}), or null. */
        public String state() {
            return details() == null ? null : details().path("state").asText(null);
        }
    }

    /** {@code MESSAGE_FENCED}: the reply was interrupted; the run goes on with a new message. */
    public static final class MessageFencedException extends DurableSessionException {
        public MessageFencedException(String message, ObjectNode details) {
            super(ErrorCode.MESSAGE_FENCED.name(), message, details);
        }
    }

    /** {@code UNAUTHORIZED}: the token was refused (expired, revoked); a fresh one is needed. */
    public static final class UnauthorizedException extends DurableSessionException {
        public UnauthorizedException(String message, ObjectNode details) {
            super(ErrorCode.UNAUTHORIZED.name(), message, details);
        }
    }
}
