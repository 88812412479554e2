package io.durablesessions.functions.gateway;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.events.ClientMessage;
import io.durablesessions.events.ClientMessages;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Frames;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.functions.auth.Authorization;
import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.Conflicts;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import java.time.Instant;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A thin WebSocket route: parse the frame, know the caller (from the authorizer's context, or the
 * connection row for a subscribe), check its token is neither expired nor revoked (a short
 * in-container memory of revocations, {@code RevocationStore}) and its rate (in memory), hand the
 * message to {@link Router}, and answer with one frame (the route response). Every refusal becomes an
 * {@code error} frame here, in one place; the connection stays open.
 */
public abstract class WebSocketRoute
        implements RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {
    private static final Logger LOG = Logger.getLogger(WebSocketRoute.class.getName());

    private final Services services;
    private final Router router;
    private final Set<Class<? extends ClientMessage>> accepted;

    /** @param accepted the message types this route serves; empty = all ($default) */
    protected WebSocketRoute(Services services, Set<Class<? extends ClientMessage>> accepted) {
        this.services = services;
        this.router = new Router(services);
        this.accepted = accepted;
    }

    @Override
    public final APIGatewayV2WebSocketResponse handleRequest(APIGatewayV2WebSocketEvent event, Context context) {
        Instant started = Instant.now();
        String body = event.getBody();
        ClientMessage msg = null;
        RuntimeException refused = null;
        try {
            if (event.isIsBase64Encoded()) {
                throw new ProtocolException(
                        ErrorCode.MALFORMED_JSON, "binary frames are not supported; send JSON text");
            }
            msg = ClientMessages.parse(body);
        } catch (RuntimeException e) {
            refused = e;
        }
        // the span starts once the frame is read (an append's traceparent makes it a child of the writer's
        // span), timed from the invocation's start
        String route = event.getRequestContext() == null
                ? null
                : event.getRequestContext().getRouteKey();
        Span span = services.tracing()
                .handler(
                        "ws " + (route == null ? "message" : route),
                        route,
                        msg instanceof ClientMessage.Append a ? a.traceparent() : null,
                        started);
        try (Scope ignored = span.makeCurrent()) {
            String requestId = msg == null ? ClientMessages.bestEffortRequestId(body) : msg.requestId();
            if (requestId != null) span.setAttribute(Tracing.REQUEST_ID, requestId);
            String frame = refused != null ? failure(span, requestId, refused) : serve(msg, event, span);
            return reply(frame);
        } finally {
            span.end();
        }
    }

    private String serve(ClientMessage msg, APIGatewayV2WebSocketEvent event, Span span) {
        String requestId = msg.requestId();
        String sessionId = sessionOf(msg);
        if (sessionId != null) span.setAttribute(Tracing.SESSION, sessionId);
        try {
            if (!accepted.isEmpty() && !accepted.contains(msg.getClass())) {
                throw new ProtocolException(ErrorCode.UNKNOWN_ACTION, "this route does not serve that action");
            }
            String connectionId = event.getRequestContext().getConnectionId();
            Connection caller = caller(msg, connectionId, event);
            if (caller == null) throw new ProtocolException(ErrorCode.UNAUTHORIZED, "connection is not registered");
            if (caller.identity().isExpired(services.clock().millis() / 1000)) {
                // a live socket outlives its token by at most the clock skew: reconnect with a fresh one
                throw new ProtocolException(ErrorCode.UNAUTHORIZED, "the token of this connection expired");
            }
            if (services.revocations().isRevoked(caller.identity())) {
                throw new ProtocolException(ErrorCode.UNAUTHORIZED, "the token of this connection was revoked");
            }
            if (!services.rates().tryAcquire(connectionId, arrivedAt(event))) {
                throw new ProtocolException(
                        ErrorCode.RATE_LIMITED,
                        "more than " + services.rates().perSecond() + " messages per second on this connection",
                        Json.object().put("retryAfterMs", services.rates().retryAfterMillis(connectionId)));
            }
            Authorization.check(msg, caller.identity());
            span.setAttribute(Tracing.OUTCOME, "ok"); // an append's or a control's refusal overrides it
            return router.dispatch(msg, caller);
        } catch (RuntimeException e) {
            return failure(span, requestId, e);
        }
    }

    /** The error frame for what went wrong, in one place: a refusal, contention, or an internal fault. */
    private static String failure(Span span, String requestId, RuntimeException e) {
        if (e instanceof ProtocolException p) {
            span.setAttribute(Tracing.OUTCOME, p.code().name());
            return Frames.error(requestId, p);
        }
        if (Conflicts.isConflict(e)) { // DynamoDB kept refusing for an in-flight transaction: nothing written
            span.setAttribute(Tracing.OUTCOME, ErrorCode.CONTENTION.name());
            return Frames.error(requestId, ErrorCode.CONTENTION, "busy session; retry", null);
        }
        LOG.log(Level.SEVERE, "route failed", e);
        span.setAttribute(Tracing.OUTCOME, ErrorCode.INTERNAL.name());
        span.recordException(e);
        span.setStatus(StatusCode.ERROR);
        return Frames.error(
                requestId, ErrorCode.INTERNAL, "internal error; nothing was written unless an ack says so", null);
    }

    /** The session a message names (a ping names none). */
    static String sessionOf(ClientMessage msg) {
        return switch (msg) {
            case ClientMessage.Append a -> a.sessionId();
            case ClientMessage.Subscribe s -> s.sessionId();
            case ClientMessage.Unsubscribe u -> u.sessionId();
            case ClientMessage.Control c -> c.sessionId();
            case ClientMessage.Heartbeat h -> h.sessionId();
            case ClientMessage.Ping p -> null;
        };
    }

    /**
     * Who sent the message. The principal comes with the message (the {@code $connect} authorizer's
     * context, which API Gateway passes on every message), so an append or a control reads nothing
     * before its own work; a subscribe reads the connection row for the member's presence fields.
     */
    private Connection caller(ClientMessage msg, String connectionId, APIGatewayV2WebSocketEvent event) {
        if (!(msg instanceof ClientMessage.Subscribe)) {
            Principal p =
                    ConnectAuthorizer.principalOf(event.getRequestContext().getAuthorizer());
            if (p != null) return Connection.ofMessage(connectionId, p);
        }
        return services.connections().get(connectionId);
    }

    /** When API Gateway received the message (epoch ms), or 0 when it does not say. */
    private static long arrivedAt(APIGatewayV2WebSocketEvent event) {
        return event.getRequestContext().getRequestTimeEpoch();
    }

    private static APIGatewayV2WebSocketResponse reply(String frame) {
        APIGatewayV2WebSocketResponse r = new APIGatewayV2WebSocketResponse();
        r.setStatusCode(200);
        r.setBody(frame);
        return r;
    }
}
