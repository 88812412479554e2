package io.durablesessions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The HTTP API of docs/protocol.md ("HTTP API") as the commands use it, on the JDK's HTTP client.
 * A refusal becomes a {@link CliException} whose exit code says what kind it was (401/403 →
 * {@link ExitCodes#AUTH}, 404 → {@link ExitCodes#NOT_FOUND}, no answer → {@link ExitCodes#UNREACHABLE});
 * reads are retried on 429 (after {@code Retry-After}) and on 5xx, as the protocol allows.
 */
public final class Api {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** Reads are idempotent: a rate limit or a server fault is tried again, a few times. */
    static final int READ_ATTEMPTS = 6;
    /** The most events one page may hold (docs/protocol.md: limit 1–1000). */
    public static final int MAX_PAGE = 1000;

    /** One page of {@code GET /v1/sessions/{id}/events}: the events as stored, and where the next page starts. */
    public record Page(List<ObjectNode> events, long nextAfterSeq, boolean more) {}

    private final HttpClient client;
    private final URI base;
    private final Supplier<String> token;

    public Api(HttpClient client, URI base, Supplier<String> token) {
        this.client = client;
        this.base = base;
        this.token = token;
    }

    /** An API client of the target with the token of {@code access}. */
    public static Api of(Target target, Target.Access access) {
        String t = target.token(access);
        return new Api(HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build(), target.httpUrl(), () -> t);
    }

    /** {@code GET /v1/sessions/{id}}: owner, title, metadata, createdAt, expiresAt, headSeq, runs, presence. */
    public ObjectNode session(String id) {
        return object(send("GET", "/v1/sessions/" + encode(id), null, true));
    }

    /**
     * {@code GET /v1/sessions/{id}/snapshot}: {@code headSeq} and {@code state}; empty when the state is
     * larger than the HTTP answer may be (413 {@code MESSAGE_TOO_LARGE}: hydrate over the WebSocket).
     */
    public Optional<ObjectNode> snapshot(String id) {
        String path = "/v1/sessions/" + encode(id) + "/snapshot";
        HttpResponse<String> r = exchange("GET", path, null, true);
        if (r.statusCode() == 413) return Optional.empty();
        return Optional.of(object(check("GET " + base + path, r)));
    }

    /** {@code GET /v1/sessions/{id}/events?afterSeq=&limit=}. */
    public Page events(String id, long afterSeq, int limit) {
        ObjectNode page = object(send(
                "GET", "/v1/sessions/" + encode(id) + "/events?afterSeq=" + afterSeq + "&limit=" + limit, null, true));
        List<ObjectNode> events = new ArrayList<>();
        for (JsonNode e : page.path("events")) {
            if (!(e instanceof ObjectNode o))
                throw new CliException(ExitCodes.FAILED, "the events page holds a non-object");
            events.add(o);
        }
        long next = page.path("nextAfterSeq")
                .asLong(
                        events.isEmpty()
                                ? afterSeq
                                : events.get(events.size() - 1).path("seq").asLong());
        return new Page(events, next, page.path("more").asBoolean(false));
    }

    /** {@code DELETE /v1/sessions/{id}}: {@code removed} counts what was erased, {@code notified} the subscribers told. */
    public ObjectNode delete(String id) {
        return object(send("DELETE", "/v1/sessions/" + encode(id), null, false));
    }

    /** {@code POST /v1/admin/revocations}: {@code jti} or {@code subject}, optional {@code keepForSeconds}. */
    public ObjectNode revoke(ObjectNode body) {
        return object(send("POST", "/v1/admin/revocations", body, false));
    }

    /** {@code POST /v1/sessions/{id}/runs/{runId}/control}: {@code command}, optional {@code text}. */
    public ObjectNode control(String id, String runId, ObjectNode body) {
        return object(send("POST", "/v1/sessions/" + encode(id) + "/runs/" + encode(runId) + "/control", body, false));
    }

    /** The answer's status and body, whatever it is; empty when nothing answered (for doctor's reachability check). */
    public Optional<HttpResponse<String>> probe(String method, String path) {
        try {
            return Optional.of(client.send(request(method, path, null), HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private HttpRequest request(String method, String path, ObjectNode body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token.get())
                .header("Accept", "application/json");
        if (body != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return b.build();
    }

    private String send(String method, String path, ObjectNode body, boolean retry) {
        return check(method + " " + base + path, exchange(method, path, body, retry));
    }

    private static String check(String what, HttpResponse<String> r) {
        if (r.statusCode() / 100 == 2) return r.body();
        throw refusal(what, r);
    }

    /** The answer, after the retries a read may take; a refusal is the caller's to judge. */
    private HttpResponse<String> exchange(String method, String path, ObjectNode body, boolean retry) {
        String what = method + " " + base + path;
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> r;
            try {
                r = client.send(
                        request(method, path, body), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (ConnectException | HttpConnectTimeoutException e) {
                throw new CliException(ExitCodes.UNREACHABLE, "nothing answered at " + base + " (" + describe(e) + ")");
            } catch (SSLException e) {
                throw new CliException(ExitCodes.UNREACHABLE, "TLS failed with " + base + " (" + describe(e) + ")");
            } catch (HttpTimeoutException e) {
                if (retry && attempt < READ_ATTEMPTS) continue;
                throw new CliException(
                        ExitCodes.UNREACHABLE, what + ": no answer within " + REQUEST_TIMEOUT.toSeconds() + " s");
            } catch (IOException e) {
                if (e.getCause() instanceof UnresolvedAddressException) {
                    throw new CliException(ExitCodes.UNREACHABLE, "unknown host " + base.getHost());
                }
                if (retry && attempt < READ_ATTEMPTS) continue;
                throw new CliException(ExitCodes.FAILED, what + ": " + describe(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCodes.FAILED, what + ": interrupted");
            }
            int status = r.statusCode();
            if (retry && attempt < READ_ATTEMPTS && (status == 429 || status >= 500)) {
                pause(retryAfterMillis(r, attempt));
                continue;
            }
            return r;
        }
    }

    /** Turns a refusal into the exit code and one line: the problem's code and detail, or API Gateway's message. */
    static CliException refusal(String what, HttpResponse<String> r) {
        int status = r.statusCode();
        String body = r.body() == null ? "" : r.body();
        String text;
        ObjectNode problem = parseOrNull(body);
        if (problem != null && problem.hasNonNull("code")) {
            text = problem.path("code").asText()
                    + (problem.hasNonNull("detail")
                            ? ": " + problem.path("detail").asText()
                            : "");
        } else if (problem != null && problem.hasNonNull("message")) {
            text = problem.path("message").asText() + " (API Gateway: the token was "
                    + (status == 401 ? "missing" : "refused") + ")";
        } else {
            text = body.length() > 200 ? body.substring(0, 200) + "…" : body;
        }
        int code = switch (status) {
            case 401, 403 -> ExitCodes.AUTH;
            case 404 -> ExitCodes.NOT_FOUND;
            default -> ExitCodes.FAILED;
        };
        return new CliException(code, what + ": " + status + " " + text);
    }

    private static long retryAfterMillis(HttpResponse<String> r, int attempt) {
        long backoff = Math.min(8000, 250L << Math.min(attempt, 5));
        ObjectNode problem = parseOrNull(r.body());
        if (problem != null && problem.path("details").path("retryAfterMs").canConvertToLong()) {
            return Math.max(problem.path("details").path("retryAfterMs").asLong(), 50);
        }
        Optional<String> header = r.headers().firstValue("Retry-After");
        if (header.isPresent() && header.get().matches("\\d{1,5}")) return Long.parseLong(header.get()) * 1000;
        return backoff;
    }

    /** Waiting out a rate limit before the next try: what the service asked for, not a guess at a condition. */
    private static void pause(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.FAILED, "interrupted");
        }
    }

    private static ObjectNode object(String body) {
        try {
            return Json.parseStored(body);
        } catch (ProtocolException e) {
            throw new CliException(ExitCodes.FAILED, "the service answered something that is not a JSON object");
        }
    }

    private static ObjectNode parseOrNull(String body) {
        if (body == null || body.isBlank()) return null;
        try {
            return Json.parseStored(body);
        } catch (ProtocolException e) {
            return null;
        }
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
