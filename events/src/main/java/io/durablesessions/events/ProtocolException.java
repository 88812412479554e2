package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A request the protocol refuses; becomes an {@code error} frame with {@link #code()}. */
public final class ProtocolException extends RuntimeException {
    private final ErrorCode code;
    private final ObjectNode details;

    public ProtocolException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public ProtocolException(ErrorCode code, String message, ObjectNode details) {
        super(message, null, false, false);
        this.code = code;
        this.details = details;
    }

    public static ProtocolException invalid(String field, String message) {
        ObjectNode details = Json.object().put("field", field);
        return new ProtocolException(ErrorCode.INVALID_MESSAGE, field + ": " + message, details);
    }

    public ErrorCode code() {
        return code;
    }

    public ObjectNode details() {
        return details;
    }
}
