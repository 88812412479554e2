package io.durablesessions.functions.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;

/**
 * A refusal of the HTTP API, rendered as RFC 9457 {@code application/problem+json}:
 * {@code {type, title, status, detail, code}} plus the protocol's {@code details} and, for an agent's
 * fenced append, its pending {@code control}. The one place protocol codes become HTTP statuses.
 */
public final class ApiProblem extends RuntimeException {
    public static final String CONTENT_TYPE = "application/problem+json";
    /** Problem type URIs are relative references to the protocol's error table. */
    static final String TYPE_BASE = "https://durable-sessions.dev/problems/";
    /** HTTP-only codes (everything else is an {@link ErrorCode} of docs/protocol.md §5). */
    public static final String SESSION_EXISTS = "SESSION_EXISTS";
    public static final String METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED";

    private final int status;
    private final String code;
    private final ObjectNode details;
    private final ObjectNode extensions = Json.object();

    public ApiProblem(int status, String code, String detail, ObjectNode details) {
        super(detail, null, false, false);
        this.status = status;
        this.code = code;
        this.details = details;
    }

    public static ApiProblem of(ProtocolException e) {
        return new ApiProblem(status(e.code()), e.code().name(), e.getMessage(), e.details());
    }

    public static ApiProblem of(ErrorCode code, String detail) {
        return new ApiProblem(status(code), code.name(), detail, null);
    }

    /** An {@code error} frame built by {@code Frames.appendOutcome} (the one outcome → code mapping). */
    public static ApiProblem fromErrorFrame(ObjectNode frame) {
        ErrorCode code = ErrorCode.valueOf(frame.path("code").asText());
        JsonNode d = frame.get("details");
        return new ApiProblem(status(code), code.name(), frame.path("message").asText(),
                d instanceof ObjectNode o ? o : null);
    }

    /** HTTP status of each protocol code. */
    public static int status(ErrorCode code) {
        return switch (code) {
            case MALFORMED_JSON, INVALID_MESSAGE, UNKNOWN_EVENT_TYPE, FORBIDDEN_EVENT_TYPE -> 400;
            case UNAUTHORIZED -> 401;
            case FORBIDDEN -> 403;
            case UNKNOWN_ACTION, RUN_NOT_FOUND, SESSION_NOT_FOUND -> 404;
            case PRODUCER_GAP, STALE_EPOCH, RUN_EXISTS, RUN_FENCED, MESSAGE_FENCED, INVALID_TRANSITION, CONTENTION -> 409;
            case EVENT_TOO_LARGE, MESSAGE_TOO_LARGE, TOO_MANY_EVENTS -> 413;
            case RATE_LIMITED -> 429;
            case INTERNAL -> 500;
        };
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public ObjectNode details() {
        return details;
    }

    /** Adds an extension member (RFC 9457 §3.2), e.g. {@code control} for a fenced agent. */
    public ApiProblem with(String member, JsonNode value) {
        extensions.set(member, value);
        return this;
    }

    public String toJson() {
        ObjectNode n = Json.object().put("type", TYPE_BASE + code.toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
                .put("title", title(status)).put("status", status).put("detail", getMessage()).put("code", code);
        if (details != null && !details.isEmpty()) n.set("details", details);
        n.setAll(extensions);
        return Json.write(n);
    }

    static String title(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 429 -> "Too Many Requests";
            default -> "Internal Server Error";
        };
    }
}
