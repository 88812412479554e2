package io.durablesessions.functions.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.Refusal;
import java.util.Locale;

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

    /** The same refusal a WebSocket client gets as an {@code error} frame ({@code Frames.error}). */
    public static ApiProblem of(Refusal r) {
        return new ApiProblem(status(r.code()), r.code().name(), r.message(), r.details());
    }

    public static ApiProblem of(ProtocolException e) {
        return of(Refusal.of(e));
    }

    public static ApiProblem of(ErrorCode code, String detail) {
        return of(Refusal.of(code, detail));
    }

    /** The refusal a store outcome stands for; the outcome must not be a success. */
    public static ApiProblem of(AppendResult refused) {
        Refusal r = Refusal.of(refused);
        if (r == null) throw new IllegalArgumentException("not a refusal: " + refused);
        return of(r);
    }

    /** HTTP status of each protocol code (defined with the code, in {@link ErrorCode}). */
    public static int status(ErrorCode code) {
        return code.httpStatus();
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
        ObjectNode n = Json.object()
                .put("type", TYPE_BASE + code.toLowerCase(Locale.ROOT).replace('_', '-'))
                .put("title", title(status))
                .put("status", status)
                .put("detail", getMessage())
                .put("code", code);
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
