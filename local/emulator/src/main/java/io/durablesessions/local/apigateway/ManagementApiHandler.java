package io.durablesessions.local.apigateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpField;
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
 * As in AWS, every call must be SigV4-signed ({@code execute-api}, the API's region) by a known
 * identity — locally the service's own credentials ({@link #LOCAL_ACCESS_KEY}) — so nobody who can
 * reach the port can post into other people's connections.
 */
final class ManagementApiHandler extends Handler.Abstract {

    /** PostToConnection payload quota. */
    static final int MAX_PAYLOAD_BYTES = 128 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The credentials the local stack's functions sign management calls with (Clients.management). */
    public static final String LOCAL_ACCESS_KEY = "local";

    public static final String LOCAL_SECRET_KEY = "local";

    private final String pathPrefix;
    private final SigV4Verifier signatures;
    private final ConnectionRegistry registry;
    private final GatewayMetrics metrics;
    /** Closes a connection for DELETE (the emulator decides the close code). */
    private final Consumer<Connection> disconnect;

    private volatile boolean available = true;
    /** Connections whose posts wait (a slow reader): each released when its latch opens. */
    private final Map<String, CountDownLatch> held = new ConcurrentHashMap<>();

    ManagementApiHandler(
            String stage,
            String region,
            ConnectionRegistry registry,
            GatewayMetrics metrics,
            Consumer<Connection> disconnect) {
        this.pathPrefix = "/" + stage + "/@connections/";
        this.signatures = new SigV4Verifier(
                Map.of(
                        LOCAL_ACCESS_KEY,
                        new SigV4Verifier.Identity(
                                LOCAL_SECRET_KEY, "arn:aws:iam::000000000000:role/local-service", "000000000000")),
                Clock.systemUTC(),
                region);
        this.registry = registry;
        this.metrics = metrics;
        this.disconnect = disconnect;
    }

    void setAvailable(boolean available) {
        this.available = available;
    }

    /** Posts to {@code connectionId} wait until the returned hold is closed (or for at most a minute). */
    AutoCloseable hold(String connectionId) {
        CountDownLatch latch = new CountDownLatch(1);
        held.put(connectionId, latch);
        return () -> {
            held.remove(connectionId, latch);
            latch.countDown();
        };
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
        ByteBuffer body = Content.Source.asByteBuffer(request);
        byte[] bytes = new byte[body.remaining()];
        body.duplicate().get(bytes);
        Map<String, String> headers = new HashMap<>();
        for (HttpField f : request.getHeaders())
            headers.merge(f.getLowerCaseName(), f.getValue(), (a, b) -> a + "," + b);
        if (signatures.verify(request.getMethod(), request.getHttpURI().toURI(), headers, bytes)
                instanceof SigV4Verifier.Refused refused) {
            return error(response, callback, 403, "ForbiddenException", refused.message());
        }
        Optional<Connection> found = registry.find(connectionId);
        return switch (request.getMethod()) {
            case "POST" -> post(body, found, response, callback);
            case "GET" -> found.map(c -> info(c, response, callback)).orElseGet(() -> gone(response, callback));
            case "DELETE" ->
                found.map(c -> {
                            disconnect.accept(c);
                            return empty(response, callback, 204);
                        })
                        .orElseGet(() -> gone(response, callback));
            default -> error(response, callback, 403, "ForbiddenException", "Missing Authentication Token");
        };
    }

    private int post(ByteBuffer body, Optional<Connection> found, Response response, Callback callback) {
        if (body.remaining() > MAX_PAYLOAD_BYTES) {
            return error(response, callback, 413, "PayloadTooLargeException", "Request entity too large");
        }
        if (found.isEmpty()) {
            return gone(response, callback);
        }
        CountDownLatch hold = held.get(found.get().id);
        if (hold != null) {
            try {
                hold.await(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            int bytes = body.remaining();
            found.get().send(StandardCharsets.UTF_8.decode(body).toString());
            metrics.messageOut(bytes);
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
        response.getHeaders().put("x-amzn-RequestId", UUID.randomUUID().toString());
        if (errorType != null) {
            response.getHeaders().put("x-amzn-ErrorType", errorType);
        }
        response.write(true, ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)), callback);
        return status;
    }
}
