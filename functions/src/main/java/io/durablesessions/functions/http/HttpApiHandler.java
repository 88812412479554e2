package io.durablesessions.functions.http;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Ids;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.auth.TokenVerifier;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Services;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP API for agents and back ends (API Gateway HTTP API, payload format 2.0). Thin: find
 * the route, verify the bearer token, hand over to {@link SessionApi}; every refusal becomes
 * {@code application/problem+json} here, in one place.
 */
public final class HttpApiHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private static final Logger LOG = Logger.getLogger(HttpApiHandler.class.getName());

    private final Services services;
    private final TokenVerifier verifier;
    private final SessionApi api;

    public HttpApiHandler() {
        this(Services.fromEnvironment(), new TokenVerifier(AuthConfig.fromEnvironment(System.getenv())));
    }

    public HttpApiHandler(Services services, TokenVerifier verifier) {
        this.services = services;
        this.verifier = verifier;
        this.api = new SessionApi(services);
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        try {
            return toResponse(serve(event));
        } catch (ApiProblem p) {
            return problem(p);
        } catch (ProtocolException e) {
            return problem(ApiProblem.of(e));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "HTTP route failed", e);
            return problem(ApiProblem.of(ErrorCode.INTERNAL, "internal error; nothing was written unless a later read shows it"));
        }
    }

    private HttpReply serve(APIGatewayV2HTTPEvent event) {
        HttpRoutes.Match match = route(event);
        Principal who = authenticate(event.getHeaders());
        Map<String, String> path = match.pathParameters();
        Map<String, String> query = event.getQueryStringParameters() == null ? Map.of() : event.getQueryStringParameters();
        String sessionId = path.containsKey("sessionId") ? Ids.requireId("sessionId", path.get("sessionId")) : null;
        String runId = path.containsKey("runId") ? Ids.requireId("runId", path.get("runId")) : null;
        String body = body(event);
        return switch (match.route().op()) {
            case CREATE_SESSION -> api.create(who, body);
            case LIST_SESSIONS -> api.list(who, query);
            case GET_SESSION -> api.get(who, sessionId);
            case DELETE_SESSION -> api.delete(who, sessionId);
            case APPEND_EVENTS -> api.append(who, sessionId, body);
            case READ_EVENTS -> api.events(who, sessionId, query);
            case SNAPSHOT -> api.snapshot(who, sessionId);
            case CONTROL_RUN -> api.control(who, sessionId, runId, body);
            case ACK_CONTROL -> api.acknowledge(who, sessionId, runId, body);
            case HEARTBEAT -> api.heartbeat(who, sessionId, runId);
        };
    }

    /** The route API Gateway matched (route key + path parameters), or our own match on method and raw path. */
    static HttpRoutes.Match route(APIGatewayV2HTTPEvent event) {
        HttpRoutes.Route known = event.getRouteKey() == null ? null : HttpRoutes.byRouteKey(event.getRouteKey());
        if (known != null && event.getPathParameters() != null) {
            return new HttpRoutes.Match(known, new HashMap<>(event.getPathParameters()));
        }
        String method = event.getRequestContext() != null && event.getRequestContext().getHttp() != null
                ? event.getRequestContext().getHttp().getMethod() : null;
        return switch (HttpRoutes.resolve(method == null ? "" : method, event.getRawPath())) {
            case HttpRoutes.Found f -> f.match();
            case HttpRoutes.MethodNotAllowed m -> throw new ApiProblem(405, ApiProblem.METHOD_NOT_ALLOWED,
                    "this path allows " + String.join(", ", m.allowed()), Json.object().put("allow", String.join(", ", m.allowed())));
            case HttpRoutes.NotFound n -> throw ApiProblem.of(ErrorCode.UNKNOWN_ACTION, "no such endpoint");
        };
    }

    private Principal authenticate(Map<String, String> headers) {
        String auth = header(headers, "authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>");
        }
        Principal who;
        try {
            who = verifier.verify(auth.substring(7).trim());
        } catch (TokenVerifier.InvalidToken e) {
            LOG.info("HTTP request refused: " + e.getMessage()); // the reason, never the token
            Metrics.count("AuthRefusals", 1);
            throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "invalid token");
        }
        if (services.revocations().isRevoked(who)) throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "the token was revoked");
        int limit = services.limits().messagesPerSecond();
        if (!services.connections().admit("http:" + who.subject(), limit)) {
            throw new ApiProblem(429, ErrorCode.RATE_LIMITED.name(), "more than " + limit + " requests per second",
                    Json.object().put("retryAfterMs", 1000));
        }
        return who;
    }

    private static String body(APIGatewayV2HTTPEvent event) {
        String b = event.getBody();
        if (b == null) return null;
        return event.getIsBase64Encoded() ? new String(Base64.getDecoder().decode(b), StandardCharsets.UTF_8) : b;
    }

    static String header(Map<String, String> headers, String name) {
        if (headers == null) return null;
        for (var h : headers.entrySet()) if (h.getKey().equalsIgnoreCase(name)) return h.getValue();
        return null;
    }

    private static APIGatewayV2HTTPResponse toResponse(HttpReply r) {
        APIGatewayV2HTTPResponse out = new APIGatewayV2HTTPResponse();
        out.setStatusCode(r.status());
        out.setHeaders(new HashMap<>(r.headers()));
        out.setBody(r.body());
        return out;
    }

    private static APIGatewayV2HTTPResponse problem(ApiProblem p) {
        Map<String, String> headers = new HashMap<>(Map.of("Content-Type", ApiProblem.CONTENT_TYPE));
        if (p.status() == 401) headers.put("WWW-Authenticate", "Bearer");
        if (p.status() == 429) headers.put("Retry-After", "1");
        if (p.status() == 405 && p.details() != null) headers.put("Allow", p.details().path("allow").asText());
        return toResponse(new HttpReply(p.status(), p.toJson(), headers));
    }
}
