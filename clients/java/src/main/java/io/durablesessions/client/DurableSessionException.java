package io.durablesessions.client;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A request the service refused for good (an {@code error} frame that is not worth retrying). */
public class DurableSessionException extends RuntimeException {
    private final String code;
    private final transient ObjectNode details;

    public DurableSessionException(String code, String message, ObjectNode details) {
        super(code + ": " + message);
        this.code = code;
        this.details = details;
    }

    static DurableSessionException of(ObjectNode error) {
        return new DurableSessionException(error.path("code").asText("UNKNOWN"), error.path("message").asText(""),
                error.get("details") instanceof ObjectNode d ? d : null);
    }

    /** The stable error code of docs/protocol.md §5, e.g. {@code RUN_FENCED}. */
    public String code() {
        return code;
    }

    /** {@code details} of the error frame, or null. */
    public ObjectNode details() {
        return details;
    }
}
