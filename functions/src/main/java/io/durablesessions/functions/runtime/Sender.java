package io.durablesessions.functions.runtime;

import java.util.logging.Logger;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.apigatewaymanagementapi.ApiGatewayManagementApiClient;
import software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException;

/** Sends frames to connections through API Gateway's management API (PostToConnection). */
public final class Sender {
    private static final Logger LOG = Logger.getLogger(Sender.class.getName());

    public enum Outcome {
        SENT,
        GONE,
        FAILED
    }

    private final ApiGatewayManagementApiClient client;

    public Sender(ApiGatewayManagementApiClient client) {
        this.client = client;
    }

    public Outcome post(String connectionId, String frame) {
        try {
            client.postToConnection(r -> r.connectionId(connectionId).data(SdkBytes.fromUtf8String(frame)));
            return Outcome.SENT;
        } catch (GoneException gone) {
            return Outcome.GONE;
        } catch (SdkException e) {
            LOG.warning("PostToConnection failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return Outcome.FAILED;
        }
    }

    public void close(String connectionId) {
        try {
            client.deleteConnection(r -> r.connectionId(connectionId));
        } catch (SdkException ignored) {
            // already gone
        }
    }
}
