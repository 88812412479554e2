package io.durablesessions.functions.http;

import java.util.Map;

/** A response of the HTTP API before it becomes an API Gateway payload. */
public record HttpReply(int status, String body, Map<String, String> headers) {
    public static HttpReply json(int status, String body) {
        return new HttpReply(status, body, Map.of("Content-Type", "application/json"));
    }
}
