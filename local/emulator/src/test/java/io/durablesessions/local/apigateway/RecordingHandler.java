package io.durablesessions.local.apigateway;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A fake Lambda handler: records every event and answers with whatever the test asks for. */
final class RecordingHandler implements RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {

    final List<APIGatewayV2WebSocketEvent> events = new CopyOnWriteArrayList<>();
    final List<Context> contexts = new CopyOnWriteArrayList<>();
    private final Function<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> behaviour;

    RecordingHandler(Function<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> behaviour) {
        this.behaviour = behaviour;
    }

    /** Answers 200 without a body. */
    static RecordingHandler ok() {
        return new RecordingHandler(e -> response(200, null));
    }

    static APIGatewayV2WebSocketResponse response(int status, String body) {
        return response(status, body, Map.of());
    }

    static APIGatewayV2WebSocketResponse response(int status, String body, Map<String, String> headers) {
        APIGatewayV2WebSocketResponse response = new APIGatewayV2WebSocketResponse();
        response.setStatusCode(status);
        response.setBody(body);
        response.setHeaders(headers);
        return response;
    }

    @Override
    public APIGatewayV2WebSocketResponse handleRequest(APIGatewayV2WebSocketEvent event, Context context) {
        events.add(event);
        contexts.add(context);
        return behaviour.apply(event);
    }

    APIGatewayV2WebSocketEvent last() {
        return events.get(events.size() - 1);
    }
}
