package io.durablesessions.functions.http;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.TraceParent;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.HttpAuthorizer;
import io.durablesessions.functions.auth.IamPrincipals;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.auth.TokenVerifier;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.Conflicts;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP API for agents and back ends (API Gateway HTTP API, payload format 2.0). Thin: find
 * the route, establish the caller, hand over to {@link SessionApi}; every refusal becomes
 * {@code application/problem+json} here, in one place.
 *
 * <p>Who the caller is comes from what API Gateway verified: the {@link HttpAuthorizer}'s
 * principal (JWT routes), or the SigV4 caller's ARN mapped by {@link IamPrincipals} (IAM routes).
 * A request that arrives with neither (an API deployed without an authorizer) has its bearer
 * token verified here, so no configuration lets an unverified caller through.
 */
public final class HttpApiHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private static final Logger LOG = Logger.getLogger(HttpApiHandler.class.getName());

    private final Services services;
    private final TokenVerifier verifier;
    private final IamPrincipals iamPrincipals;
    private final SessionApi api;

    public HttpApiHandler() {
        this(
                Services.fromEnvironment(),
                verifierFromEnvironment(System.getenv()),
                IamPrincipals.fromEnvironment(System.getenv()));
    }

    /** @param verifier null when this API verifies no bearer tokens itself (IAM only, or no key configured) */
    public HttpApiHandler(Services services, TokenVerifier verifier, IamPrincipals iamPrincipals) {
        this.services = services;
        this.verifier = verifier;
        this.iamPrincipals = iamPrincipals;
        this.api = new SessionApi(services);
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        HttpRoutes.Route known = knownRoute(event);
        String route = known == null ? "unmatched" : known.routeKey();
        // W3C Trace Context over HTTP: the header; an append may name its own in the body, which wins
        TraceParent traceparent =
                known != null && known.op() == HttpRoutes.Op.APPEND_EVENTS ? appendTraceparent(event) : null;
        Span span = services.tracing().handler("http " + route, route, traceparent, null);
        try (Scope ignored = span.makeCurrent()) {
            APIGatewayV2HTTPResponse response = respond(event, span);
            span.setAttribute(Tracing.HTTP_STATUS, (long) response.getStatusCode());
            return response;
        } finally {
            span.end();
        }
    }

    private APIGatewayV2HTTPResponse respond(APIGatewayV2HTTPEvent event, Span span) {
        try {
            span.setAttribute(Tracing.OUTCOME, "ok"); // an append's refusal, or a problem below, overrides it
            return toResponse(serve(event));
        } catch (ApiProblem p) {
            return problem(span, p);
        } catch (ProtocolException e) {
            return problem(span, ApiProblem.of(e));
        } catch (RuntimeException e) {
            if (Conflicts.isConflict(e)) { // DynamoDB kept refusing for an in-flight transaction: nothing written
                return problem(span, ApiProblem.of(ErrorCode.CONTENTION, "busy session; retry"));
            }
            LOG.log(Level.SEVERE, "HTTP route failed", e);
            span.recordException(e);
            span.setStatus(StatusCode.ERROR);
            return problem(
                    span,
                    ApiProblem.of(
                            ErrorCode.INTERNAL, "internal error; nothing was written unless a later read shows it"));
        }
    }

    /**
     * The trace context of an append: the body's {@code traceparent} when it is a valid one (an invalid
     * one is refused by the append itself), else a valid {@code traceparent} header. An invalid header is
     * ignored, as W3C Trace Context asks of a receiver; null for other requests.
     */
    static TraceParent appendTraceparent(APIGatewayV2HTTPEvent event) {
        String body = body(event);
        if (body != null && body.contains("\"traceparent\"")) {
            TraceParent inBody = TraceParent.parseOrNull(Json.topLevelText(body, "traceparent"));
            if (inBody != null) return inBody;
        }
        return TraceParent.parseOrNull(header(event.getHeaders(), "traceparent"));
    }

    /** The route of the request, or null when it has none (answered 404 or 405 below). */
    private static HttpRoutes.Route knownRoute(APIGatewayV2HTTPEvent event) {
        try {
            return route(event).route();
        } catch (ApiProblem none) {
            return null;
        }
    }

    /** A request header by name, ignoring case (API Gateway lower-cases them; the emulator need not). */
    static String header(Map<String, String> headers, String name) {
        if (headers == null) return null;
        for (var h : headers.entrySet()) if (h.getKey().equalsIgnoreCase(name)) return h.getValue();
        return null;
    }

    private HttpReply serve(APIGatewayV2HTTPEvent event) {
        HttpRoutes.Match match = route(event);
        Principal who = admit(caller(event));
        Map<String, String> path = match.pathParameters();
        Map<String, String> query =
                event.getQueryStringParameters() == null ? Map.of() : event.getQueryStringParameters();
        String sessionId = path.containsKey("sessionId") ? Fields.requireId("sessionId", path.get("sessionId")) : null;
        String runId = path.containsKey("runId") ? Fields.requireId("runId", path.get("runId")) : null;
        String body = body(event);
        return switch (match.route().op()) {
            case CREATE_SESSION -> api.create(who, body);
            case LIST_SESSIONS -> api.list(who, query);
            case GET_SESSION -> api.get(who, sessionId);
            case DELETE_SESSION -> api.delete(who, sessionId);
            case APPEND_EVENTS ->
                api.append(who, sessionId, body, TraceParent.parseOrNull(header(event.getHeaders(), "traceparent")));
            case READ_EVENTS -> api.events(who, sessionId, query);
            case SNAPSHOT -> api.snapshot(who, sessionId);
            case CONTROL_RUN -> api.control(who, sessionId, runId, body);
            case ACK_CONTROL -> api.acknowledge(who, sessionId, runId, body);
            case HEARTBEAT -> api.heartbeat(who, sessionId, runId);
            case REVOKE -> api.revoke(who, body);
        };
    }

    /** The route API Gateway matched (route key + path parameters), or our own match on method and raw path. */
    static HttpRoutes.Match route(APIGatewayV2HTTPEvent event) {
        HttpRoutes.Route known = event.getRouteKey() == null ? null : HttpRoutes.byRouteKey(event.getRouteKey());
        if (known != null && event.getPathParameters() != null) {
            return new HttpRoutes.Match(known, new HashMap<>(event.getPathParameters()));
        }
        String method =
                event.getRequestContext() != null && event.getRequestContext().getHttp() != null
                        ? event.getRequestContext().getHttp().getMethod()
                        : null;
        return switch (HttpRoutes.resolve(method == null ? "" : method, event.getRawPath())) {
            case HttpRoutes.Found f -> f.match();
            case HttpRoutes.MethodNotAllowed m ->
                throw new ApiProblem(
                        405,
                        ApiProblem.METHOD_NOT_ALLOWED,
                        "this path allows " + String.join(", ", m.allowed()),
                        Json.object().put("allow", String.join(", ", m.allowed())));
            case HttpRoutes.NotFound n -> throw ApiProblem.of(ErrorCode.UNKNOWN_ACTION, "no such endpoint");
        };
    }

    /** The caller as API Gateway's authorizer established it, else as the bearer token proves it. */
    private Principal caller(APIGatewayV2HTTPEvent event) {
        var authorizer = event.getRequestContext() == null
                ? null
                : event.getRequestContext().getAuthorizer();
        if (authorizer != null
                && authorizer.getLambda() != null
                && authorizer.getLambda().get(HttpAuthorizer.CONTEXT_PRINCIPAL) instanceof String json) {
            return Principal.fromJson(json);
        }
        if (authorizer != null && authorizer.getIam() != null) {
            Principal p = iamPrincipals.principalOf(authorizer.getIam().getUserArn());
            if (p == null) {
                LOG.info("IAM caller without grants: " + authorizer.getIam().getUserArn());
                throw ApiProblem.of(
                        ErrorCode.FORBIDDEN,
                        "this IAM principal has no grants (see IAM_PRINCIPALS / context iamPrincipals)");
            }
            return p;
        }
        String token = HttpAuthorizer.bearer(event.getHeaders());
        if (verifier == null) throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "this deployment verifies no bearer tokens");
        if (token == null) throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>");
        try {
            return verifier.verify(token);
        } catch (TokenVerifier.InvalidToken e) {
            LOG.info("HTTP request refused: " + e.getMessage()); // the reason, never the token
            Metrics.count(MetricName.AUTH_REFUSALS, 1);
            throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "invalid token");
        }
    }

    /** Per request, whatever verified the caller: expiry (a cached verdict), revocation, rate limit. */
    private Principal admit(Principal who) {
        if (who.isExpired(services.clock().millis() / 1000))
            throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "the token expired");
        if (services.revocations().isRevoked(who)) throw ApiProblem.of(ErrorCode.UNAUTHORIZED, "the token was revoked");
        String key = "http:" + who.subject();
        if (!services.rates().tryAcquire(key)) {
            throw ApiProblem.of(new ProtocolException(
                    ErrorCode.RATE_LIMITED,
                    "more than " + services.rates().perSecond() + " requests per second",
                    Json.object().put("retryAfterMs", services.rates().retryAfterMillis(key))));
        }
        return who;
    }

    /** A deployment without a token key (IAM only, or the authorizer switched off) verifies no tokens. */
    private static TokenVerifier verifierFromEnvironment(Map<String, String> env) {
        return AuthConfig.configuredIn(env) ? new TokenVerifier(AuthConfig.fromEnvironment(env)) : null;
    }

    private static String body(APIGatewayV2HTTPEvent event) {
        String b = event.getBody();
        if (b == null) return null;
        return event.getIsBase64Encoded() ? new String(Base64.getDecoder().decode(b), StandardCharsets.UTF_8) : b;
    }

    private static APIGatewayV2HTTPResponse toResponse(HttpReply r) {
        APIGatewayV2HTTPResponse out = new APIGatewayV2HTTPResponse();
        out.setStatusCode(r.status());
        out.setHeaders(new HashMap<>(r.headers()));
        out.setBody(r.body());
        return out;
    }

    private static APIGatewayV2HTTPResponse problem(Span span, ApiProblem p) {
        span.setAttribute(Tracing.OUTCOME, p.code());
        return problem(p);
    }

    private static APIGatewayV2HTTPResponse problem(ApiProblem p) {
        Map<String, String> headers = new HashMap<>(Map.of("Content-Type", ApiProblem.CONTENT_TYPE));
        if (p.status() == 401) headers.put("WWW-Authenticate", "Bearer");
        if (p.status() == 429) {
            long ms = p.details() == null
                    ? 1000
                    : p.details().path("retryAfterMs").asLong(1000);
            headers.put("Retry-After", String.valueOf(Math.max(1, (ms + 999) / 1000)));
        }
        if (p.status() == 405 && p.details() != null)
            headers.put("Allow", p.details().path("allow").asText());
        return toResponse(new HttpReply(p.status(), p.toJson(), headers));
    }
}
