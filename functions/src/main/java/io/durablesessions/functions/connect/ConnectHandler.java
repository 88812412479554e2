package io.durablesessions.functions.connect;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.events.Ids;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import java.util.Map;

/**
 * {@code $connect}: records who is on the connection. The identity comes from the authorizer's
 * context when there is one (security issue); until then from the query string
 * ({@code ?id=…&role=agent|client|viewer&instance=…&label=…&surface=…}).
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
        Map<String, String> query = event.getQueryStringParameters() == null ? Map.of() : event.getQueryStringParameters();
        String id = query.get("id");
        String role = query.getOrDefault("role", "client");
        String instance = query.get("instance");
        if ((id != null && !Ids.isValidId(id)) || (instance != null && !Ids.isValidId(instance))
                || !(role.equals("agent") || role.equals("client") || role.equals("viewer"))) {
            return status(400, null);
        }
        String safeConnectionId = connectionId.replaceAll("[^A-Za-z0-9]", "");
        String principal = id != null ? id : "anon-" + safeConnectionId;
        // a stable instance id (per tab / device) lets a reconnect keep its presence without flapping
        services.connections().register(new Connection(connectionId, principal, role, limit(query.get("label")),
                limit(query.get("surface")), instance != null ? instance : safeConnectionId, services.clock().millis()));
        return status(200, subprotocol(event));
    }

    /** Browsers carry tokens in Sec-WebSocket-Protocol; the handshake must echo one protocol back. */
    private static String subprotocol(APIGatewayV2WebSocketEvent event) {
        Map<String, String> headers = event.getHeaders();
        if (headers == null) return null;
        for (var h : headers.entrySet()) {
            if (h.getKey().equalsIgnoreCase("Sec-WebSocket-Protocol") && h.getValue() != null) {
                return h.getValue().split(",")[0].trim();
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
