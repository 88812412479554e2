package io.durablesessions.local.apigateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The {@code @connections} API at {@code /{stage}/@connections/{connectionId}}. Errors carry the
 * {@code x-amzn-ErrorType} header and a {@code {"message": ...}} body, which is what the AWS SDK's
 * REST-JSON protocol reads to raise GoneException, PayloadTooLargeException, ForbiddenException.
 */
final class ManagementApiHandler extends Handler.Abstract {

    /** PostToConnection payload quota. */
    static final int MAX_PAYLOAD_BYTES = 128 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String pathPrefix;
    private final ConnectionRegistry registry;
    private final Metrics metrics;
    /** Closes a connection for DELETE (the emulator decides the close code). */
    private final Consumer<Connection> disconnect;
    private volatile boolean available = true;

    ManagementApiHandler(String stage, ConnectionRegistry registry, Metrics metrics,
                         Consumer<Connection> disconnect) {
        this.pathPrefix = "/" + stage + "/@connections/";
        this.registry = registry;
        this.metrics = metrics;
        this.disconnect = disconnect;
    }

    void setAvailable(boolean available) {
        this.available = available;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getDecodedPath();
        if (!path.startsWith(pathPrefix)) {
            return false;
        }
        dispatch(request, path.substring(pathPrefix.length()), response, callback);
        return true;
    }

    private int dispatch(Request request, String connectionId, Response response, Callback callback)
            throws IOException {
        if (!available) {
            // a 503 is what the SDK retries and finally reports as a retryable service error
            return error(response, callback, 503, "ServiceUnavailableException", "Service Unavailable");
        }
        if (connectionId.isEmpty() || connectionId.contains("/")) {
            return error(response, callback, 403, "ForbiddenException", "Missing Authentication Token");
        }
        Optional<Connection> found = registry.find(connectionId);
        return switch (request.getMethod()) {
            case "POST" -> post(request, found, response, callback);
            case "GET" -> found.map(c -> info(c, response, callback)).orElseGet(() -> gone(response, callback));
            case "DELETE" -> found.map(c -> {
                disconnect.accept(c);
                return empty(response, callback, 204);
            }).orElseGet(() -> gone(response, callback));
            default -> error(response, callback, 403, "ForbiddenException", "Missing Authentication Token");
        };
    }

    private int post(Request request, Optional<Connection> found, Response response, Callback callback)
            throws IOException {
        ByteBuffer body = Content.Source.asByteBuffer(request);
        if (body.remaining() > MAX_PAYLOAD_BYTES) {
            return error(response, callback, 413, "PayloadTooLargeException", "Request entity too large");
        }
        if (found.isEmpty()) {
            return gone(response, callback);
        }
        try {
            found.get().send(StandardCharsets.UTF_8.decode(body).toString());
            metrics.messageOut();
        } catch (IOException e) {
            // closed between lookup and write: the client is gone
            return gone(response, callback);
        }
        return empty(response, callback, 200);
    }

    private int info(Connection c, Response response, Callback callback) {
        // the wire names are lowerCamelCase (the SDK's model maps ConnectedAt <- "connectedAt" etc.)
        ObjectNode json = JSON.createObjectNode();
        json.put("connectedAt", iso(c.connectedAt));
        ObjectNode identity = json.putObject("identity");
        identity.put("sourceIp", c.sourceIp);
        identity.put("userAgent", c.userAgent);
        json.put("lastActiveAt", iso(c.lastActiveAt()));
        return write(response, callback, 200, null, json.toString());
    }

    private static String iso(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MILLIS).toString();
    }

    /** Counted before the response completes, so a caller that saw the answer sees the count. */
    private int empty(Response response, Callback callback, int status) {
        metrics.managementCall(status);
        response.setStatus(status);
        callback.succeeded();
        return status;
    }

    private int gone(Response response, Callback callback) {
        return error(response, callback, 410, "GoneException", null);
    }

    private int error(Response response, Callback callback, int status, String type, String message) {
        ObjectNode json = JSON.createObjectNode();
        if (message == null) {
            json.putNull("message");
        } else {
            json.put("message", message);
        }
        return write(response, callback, status, type, json.toString());
    }

    private int write(Response response, Callback callback, int status, String errorType, String json) {
        metrics.managementCall(status);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put("x-amzn-RequestId", java.util.UUID.randomUUID().toString());
        if (errorType != null) {
            response.getHeaders().put("x-amzn-ErrorType", errorType);
        }
        response.write(true, ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)), callback);
        return status;
    }
}
