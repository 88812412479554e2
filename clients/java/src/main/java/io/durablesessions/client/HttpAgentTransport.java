package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The agent over the HTTP API ({@code POST /v1/sessions/{id}/events}, {@code …/runs/{runId}/heartbeat},
 * {@code …/runs/{runId}/ack}). There is no socket: the control of a run comes in the answer to
 * every append and heartbeat of that run (refusals included), and is repeated until acknowledged.
 */
final class HttpAgentTransport implements AgentTransport {
    /** Headers the JDK's client writes itself (from the URI and the body) and refuses to take. */
    private static final Set<String> SET_BY_THE_JDK =
            Set.of("host", "content-length", "connection", "expect", "upgrade");

    private final HttpClient http;
    private final String sessionPath;
    private final Supplier<String> bearerToken;
    private final RequestSigner signer;
    private final Duration requestTimeout;
    private final ControlSink sink;
    private volatile boolean closed;

    /**
     * @param baseUrl     the API's root, e.g. {@code http://127.0.0.1:8787} or {@code https://…amazonaws.com/prod};
     *                    paths start with {@code /v1} below it
     * @param bearerToken asked on every request (tokens expire); null or empty sends no {@code Authorization}
     */
    HttpAgentTransport(
            HttpClient http,
            URI baseUrl,
            String sessionId,
            Supplier<String> bearerToken,
            RequestSigner signer,
            Duration requestTimeout,
            ControlSink sink) {
        this.http = http;
        String base = baseUrl.toString();
        this.sessionPath =
                (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/sessions/" + sessionId;
        this.bearerToken = bearerToken;
        this.signer = signer;
        this.requestTimeout = requestTimeout;
        this.sink = sink;
    }

    @Override
    public void start() {
        // nothing to open: the first request shows whether the URL and the token work
    }

    @Override
    public Outcome append(ObjectNode append) {
        HttpRequest request = request("/events", append);
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Lost(WsConnection.rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Lost("interrupted");
        }
        return answer(response);
    }

    @Override
    public CompletableFuture<Outcome> heartbeat(String runId) {
        return sendAsync(request("/runs/" + runId + "/heartbeat", null));
    }

    @Override
    public void acknowledge(String runId, long controlSeq) {
        if (closed) return;
        // not retried here: an acknowledgement that is lost shows as control repeated in a later
        // answer, and the agent acknowledges it again then
        try {
            sendAsync(request("/runs/" + runId + "/ack", Json.object().put("controlSeq", controlSeq)));
        } catch (RuntimeException e) {
            // e.g. the token supplier failed: the same as a lost acknowledgement, and called from
            // inside another request's answer, which must not fail because of it
        }
    }

    @Override
    public void maintain() {}

    @Override
    public void drop() {}

    @Override
    public void close() {
        closed = true;
    }

    private CompletableFuture<Outcome> sendAsync(HttpRequest request) {
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                .handle((r, err) -> err != null ? new Lost(WsConnection.rootMessage(err)) : answer(r));
    }

    private HttpRequest request(String path, ObjectNode body) {
        URI uri = URI.create(sessionPath + path);
        byte[] bytes = body == null ? new byte[0] : Json.write(body).getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.put("Content-Type", "application/json");
        headers.put("Accept", "application/json, application/problem+json");
        String token = bearerToken.get();
        if (token != null && !token.isEmpty()) headers.put("Authorization", "Bearer " + token);
        headers.putAll(signer.sign("POST", uri, Map.copyOf(headers), bytes.clone()));
        HttpRequest.Builder b =
                HttpRequest.newBuilder(uri).timeout(requestTimeout).POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        headers.forEach((name, value) -> {
            if (!SET_BY_THE_JDK.contains(name.toLowerCase(Locale.ROOT))) b.setHeader(name, value);
        });
        return b.build();
    }

    /** Hands the answer's pending control to the sink, then says what became of the request. */
    private Outcome answer(HttpResponse<String> r) {
        ObjectNode body = parse(r.body());
        for (JsonNode e : body.path("control")) sink.control(e);
        return outcome(r.statusCode(), r.headers().firstValue("Retry-After").orElse(null), body);
    }

    /**
     * The outcome of a status and body: the problem's {@code code} when there is one; otherwise
     * what API Gateway itself answers — 401 {@code {"message":"Unauthorized"}} and 403
     * {@code {"message":"Forbidden"}} for a token it refused — is {@code UNAUTHORIZED}, 429 is
     * {@code RATE_LIMITED} and 5xx is {@code INTERNAL} (both retried).
     */
    static Outcome outcome(int status, String retryAfter, ObjectNode body) {
        if (status >= 200 && status < 300) {
            return new Acked(
                    body.path("firstSeq").asLong(0),
                    body.path("lastSeq").asLong(0),
                    body.path("duplicate").asBoolean(false));
        }
        String code = body.path("code").asText("");
        if (code.isEmpty()) {
            code = switch (status) {
                case 401, 403 -> "UNAUTHORIZED";
                case 413 -> "MESSAGE_TOO_LARGE";
                case 429 -> "RATE_LIMITED";
                default -> status >= 500 ? "INTERNAL" : "HTTP_" + status;
            };
        }
        String message = body.path("detail").asText(body.path("message").asText("HTTP " + status));
        ObjectNode details = body.get("details") instanceof ObjectNode d ? d : Json.object();
        long retryAfterMs = Math.max(
                seconds(retryAfter) * 1000, details.path("retryAfterMs").asLong(0));
        return new Refused(code, message, details, retryAfterMs);
    }

    private static ObjectNode parse(String body) {
        try {
            return body == null || body.isBlank() ? Json.object() : Json.parseObject(body);
        } catch (RuntimeException notJson) {
            return Json.object(); // e.g. a proxy's HTML error page: the status decides
        }
    }

    /** {@code Retry-After} in seconds (an HTTP date counts as no hint: the backoff applies). */
    private static long seconds(String retryAfter) {
        if (retryAfter == null) return 0;
        try {
            return Math.max(0, Long.parseLong(retryAfter.trim()));
        } catch (NumberFormatException httpDate) {
            return 0;
        }
    }
}
