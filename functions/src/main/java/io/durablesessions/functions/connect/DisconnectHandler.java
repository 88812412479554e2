package io.durablesessions.functions.connect;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;

/** {@code $disconnect} (best effort in AWS: rows also expire by TTL and on 410 Gone). */
public final class DisconnectHandler
        implements RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {
    private final Presence presence;
    private final Tracing tracing;

    public DisconnectHandler() {
        this(Services.fromEnvironment());
    }

    public DisconnectHandler(Services services) {
        this.presence = new Presence(services);
        this.tracing = services.tracing();
    }

    @Override
    public APIGatewayV2WebSocketResponse handleRequest(APIGatewayV2WebSocketEvent event, Context context) {
        Span span = tracing.handler("ws $disconnect", "$disconnect", null, null);
        try (Scope ignored = span.makeCurrent()) {
            presence.connectionGone(event.getRequestContext().getConnectionId());
        } finally {
            span.end();
        }
        APIGatewayV2WebSocketResponse r = new APIGatewayV2WebSocketResponse();
        r.setStatusCode(200);
        return r;
    }
}
