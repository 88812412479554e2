package io.durablesessions.functions.gateway;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import io.durablesessions.functions.connect.ConnectHandler;
import io.durablesessions.functions.connect.DisconnectHandler;
import io.durablesessions.functions.control.ControlHandler;
import io.durablesessions.functions.liveness.HeartbeatHandler;
import io.durablesessions.functions.publish.AppendHandler;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.subscribe.SubscribeHandler;
import io.durablesessions.functions.subscribe.UnsubscribeHandler;
import java.util.List;
import java.util.function.Function;

/**
 * The WebSocket API's routes and the handler behind each: one list, read by the local stack
 * (which builds the handlers) and by the CDK stack (which names them in Lambda functions).
 */
public final class Routes {
    /** API Gateway's route selection expression; the protocol's route key field. */
    public static final String SELECTION_EXPRESSION = "$request.body.action";

    public record Route(
            String key,
            Class<?> handlerClass,
            Function<Services, RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse>> factory) {
        /** The Lambda handler string, e.g. {@code io…AppendHandler::handleRequest}. */
        public String lambdaHandler() {
            return handlerClass.getName() + "::handleRequest";
        }
    }

    public static final List<Route> ALL = List.of(
            new Route("$connect", ConnectHandler.class, ConnectHandler::new),
            new Route("$disconnect", DisconnectHandler.class, DisconnectHandler::new),
            new Route("$default", DefaultHandler.class, DefaultHandler::new),
            new Route("append", AppendHandler.class, AppendHandler::new),
            new Route("subscribe", SubscribeHandler.class, SubscribeHandler::new),
            new Route("unsubscribe", UnsubscribeHandler.class, UnsubscribeHandler::new),
            new Route("control", ControlHandler.class, ControlHandler::new),
            new Route("heartbeat", HeartbeatHandler.class, HeartbeatHandler::new));

    private Routes() {}
}
