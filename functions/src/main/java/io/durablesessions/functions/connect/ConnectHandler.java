package io.durablesessions.functions.connect;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.events.Ids;
import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import java.util.Map;

/**
 * {@code $connect}: records who is on the connection: the principal the REQUEST authorizer
 * verified (subject, role, grants, token id), plus the client's {@code instance}, {@code label}
 * and {@code surface} from the query string.
 */
public final class ConnectHandler implements RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {
    private final Services services;

    public ConnectHandler() {
        this(Services.fromEnvironment());
    }

    public ConnectHandler(Services services) {
        this.services = services;
    }

    @Override
    public APIGatewayV2WebSocketResponse handleRequest(APIGatewayV2WebSocketEvent event, Context context) {
        String connectionId = event.getRequestContext().getConnectionId();
        Principal principal = principalOf(event);
        if (principal == null) return status(401, null); // only reachable without the authorizer in front
        Map<String, String> query = event.getQueryStringParameters() == null ? Map.of() : event.getQueryStringParameters();
        String instance = query.get("instance");
        if (instance != null && !Ids.isValidId(instance)) return status(400, null);
        String safeConnectionId = connectionId.replaceAll("[^A-Za-z0-9]", "");
        // a stable instance id (per tab / device) lets a reconnect keep its presence without flapping
        services.connections().register(new Connection(connectionId, principal, limit(query.get("label")),
                limit(query.get("surface")), instance != null ? instance : safeConnectionId, services.clock().millis()));
        return status(200, subprotocol(event));
    }

    /** The principal the authorizer verified, passed by API Gateway in the request context. */
    private static Principal principalOf(APIGatewayV2WebSocketEvent event) {
        Map<String, Object> authorizer = event.getRequestContext().getAuthorizer() instanceof Map<?, ?> m
                ? castMap(m) : null;
        Object json = authorizer == null ? null : authorizer.get(ConnectAuthorizer.CONTEXT_PRINCIPAL);
        return json instanceof String s ? Principal.fromJson(s) : null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    /**
     * A browser offers its token as a subprotocol ({@code token.<jwt>}) next to
     * {@code durable-sessions}; the handshake must select one of the offered protocols, and it
     * must never be the token.
     */
    private static String subprotocol(APIGatewayV2WebSocketEvent event) {
        Map<String, String> headers = event.getHeaders();
        if (headers == null) return null;
        for (var h : headers.entrySet()) {
            if (!h.getKey().equalsIgnoreCase("Sec-WebSocket-Protocol") || h.getValue() == null) continue;
            for (String p : h.getValue().split(",")) {
                String v = p.trim();
                if (!v.isEmpty() && !v.startsWith(ConnectAuthorizer.TOKEN_PROTOCOL_PREFIX)) return v;
            }
        }
        return null;
    }

    private static String limit(String s) {
        return s == null ? null : s.length() > 64 ? s.substring(0, 64) : s;
    }

    private static APIGatewayV2WebSocketResponse status(int code, String protocol) {
        APIGatewayV2WebSocketResponse r = new APIGatewayV2WebSocketResponse();
        r.setStatusCode(code);
        if (protocol != null) r.setHeaders(Map.of("Sec-WebSocket-Protocol", protocol));
        return r;
    }
}
