package io.durablesessions.functions.connect;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.runtime.Services;

/** {@code $disconnect} (best effort in AWS: rows also expire by TTL and on 410 Gone). */
public final class DisconnectHandler implements RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {
    private final Presence presence;

    public DisconnectHandler() {
        this(Services.fromEnvironment());
    }

    public DisconnectHandler(Services services) {
        this.presence = new Presence(services);
    }

    @Override
    public APIGatewayV2WebSocketResponse handleRequest(APIGatewayV2WebSocketEvent event, Context context) {
        presence.connectionGone(event.getRequestContext().getConnectionId());
        APIGatewayV2WebSocketResponse r = new APIGatewayV2WebSocketResponse();
        r.setStatusCode(200);
        return r;
    }
}
