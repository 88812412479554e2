package io.durablesessions.local.apigateway;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;

/**
 * The {@code $disconnect} request context. API Gateway sends {@code disconnectStatusCode} and
 * {@code disconnectReason}, but the aws-lambda-java-events class has no such fields (in AWS the
 * runtime drops them), so handlers only see them by casting here; they do show up when the event is
 * serialised with Jackson.
 */
public class DisconnectRequestContext extends APIGatewayV2WebSocketEvent.RequestContext {

    private static final long serialVersionUID = 1L;

    private int disconnectStatusCode;
    private String disconnectReason;

    public int getDisconnectStatusCode() {
        return disconnectStatusCode;
    }

    public void setDisconnectStatusCode(int disconnectStatusCode) {
        this.disconnectStatusCode = disconnectStatusCode;
    }

    public String getDisconnectReason() {
        return disconnectReason;
    }

    public void setDisconnectReason(String disconnectReason) {
        this.disconnectReason = disconnectReason;
    }
}
