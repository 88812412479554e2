package io.durablesessions.functions.connect;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.events.Fields;
import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.security.SecureRandom;
import java.util.Base64;
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
        Span span = services.tracing().handler("ws $connect", "$connect", null, null);
        try (Scope ignored = span.makeCurrent()) {
            APIGatewayV2WebSocketResponse r = connect(event);
            span.setAttribute(Tracing.OUTCOME, r.getStatusCode() == 200 ? "ok" : String.valueOf(r.getStatusCode()));
            return r;
        } finally {
            span.end();
        }
    }

    private APIGatewayV2WebSocketResponse connect(APIGatewayV2WebSocketEvent event) {
        String connectionId = event.getRequestContext().getConnectionId();
        Principal principal =
                ConnectAuthorizer.principalOf(event.getRequestContext().getAuthorizer());
        if (principal == null) return status(401, null); // only reachable without the authorizer in front
        Map<String, String> query =
                event.getQueryStringParameters() == null ? Map.of() : event.getQueryStringParameters();
        String instance = query.get("instance");
        if (instance != null && !Fields.isValidId(instance)) return status(400, null);
        // others see these in presence: letters, digits and a little punctuation, nothing that can disguise
        String label = query.get("label");
        String surface = query.get("surface");
        if ((label != null && !Fields.isSafeLabel(label)) || (surface != null && !Fields.isSafeLabel(surface))) {
            return status(400, null);
        }
        // a stable instance id (per tab / device) lets a reconnect keep its presence without flapping; without
        // one, the connection is its own member under a random id (never the connection id: that is a capability)
        services.connections()
                .register(new Connection(
                        connectionId,
                        principal,
                        label,
                        surface,
                        instance != null ? instance : randomInstance(),
                        services.clock().millis()));
        return status(200, subprotocol(event));
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

    private static final SecureRandom RANDOM = new SecureRandom();

    private static String randomInstance() {
        byte[] b = new byte[9];
        RANDOM.nextBytes(b);
        return "i-" + Base64.getUrlEncoder().withoutPadding().encodeToString(b).replace('-', '.');
    }

    private static APIGatewayV2WebSocketResponse status(int code, String protocol) {
        APIGatewayV2WebSocketResponse r = new APIGatewayV2WebSocketResponse();
        r.setStatusCode(code);
        if (protocol != null) r.setHeaders(Map.of("Sec-WebSocket-Protocol", protocol));
        return r;
    }
}
