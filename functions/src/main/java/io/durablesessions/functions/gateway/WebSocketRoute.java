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
import io.durablesessions.functions.auth.Authorization;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A thin WebSocket route: parse the frame, find the caller's connection, hand the message to
 * {@link Router}, and answer with one frame (the route response). Every refusal becomes an
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
        String body = event.getBody();
        String requestId = null;
        try {
            if (event.isIsBase64Encoded()) {
                throw new ProtocolException(ErrorCode.MALFORMED_JSON, "binary frames are not supported; send JSON text");
            }
            ClientMessage msg = ClientMessages.parse(body);
            requestId = msg.requestId();
            if (!accepted.isEmpty() && !accepted.contains(msg.getClass())) {
                throw new ProtocolException(ErrorCode.UNKNOWN_ACTION, "this route does not serve that action");
            }
            String connectionId = event.getRequestContext().getConnectionId();
            Connection caller = services.connections().get(connectionId);
            if (caller == null) throw new ProtocolException(ErrorCode.UNAUTHORIZED, "connection is not registered");
            if (services.revocations().isRevoked(caller.identity())) {
                throw new ProtocolException(ErrorCode.UNAUTHORIZED, "the token of this connection was revoked");
            }
            if (!services.connections().admit(connectionId, services.limits().messagesPerSecond())) {
                throw new ProtocolException(ErrorCode.RATE_LIMITED, "more than " + services.limits().messagesPerSecond()
                        + " messages per second on this connection", Json.object().put("retryAfterMs", 1000));
            }
            Authorization.check(msg, caller.identity());
            return reply(router.dispatch(msg, caller));
        } catch (ProtocolException e) {
            return reply(Frames.error(requestId != null ? requestId : ClientMessages.bestEffortRequestId(body), e));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "route failed", e);
            return reply(Frames.error(requestId, ErrorCode.INTERNAL,
                    "internal error; nothing was written unless an ack says so", null));
        }
    }

    private static APIGatewayV2WebSocketResponse reply(String frame) {
        APIGatewayV2WebSocketResponse r = new APIGatewayV2WebSocketResponse();
        r.setStatusCode(200);
        r.setBody(frame);
        return r;
    }
}
