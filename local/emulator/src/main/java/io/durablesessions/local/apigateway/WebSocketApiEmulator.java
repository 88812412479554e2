package io.durablesessions.local.apigateway;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.durablesessions.local.lambda.LocalLambdaContext;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ConnectionStatistics;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local API Gateway WebSocket API: WebSocket upgrades at {@code ws://127.0.0.1:PORT/{stage}}
 * routed to Lambda handler objects the way the Lambda proxy integration invokes them, plus the
 * {@code @connections} management API at {@code http://127.0.0.1:PORT/{stage}/@connections/{id}}.
 * The same handler classes run here and in AWS.
 */
public final class WebSocketApiEmulator implements AutoCloseable {

    /** A Lambda function behind a WebSocket route. */
    public interface RouteHandler extends RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {}

    /**
     * Counters since start; management calls are keyed by HTTP status. {@code unitsIn}/{@code unitsOut}
     * are the messages as API Gateway meters them: one per started 32 KB of each message;
     * {@code integrationErrors} counts the route invocations that failed (answered "Internal server error").
     */
    public record Counters(
            long connects,
            long disconnects,
            long messagesIn,
            long messagesOut,
            long unitsIn,
            long unitsOut,
            long integrationErrors,
            Map<Integer, Long> managementCallsByStatus) {}

    /** API Gateway quotas (not adjustable in AWS either). */
    public static final int MAX_FRAME_BYTES = Connection.MAX_FRAME_BYTES;

    public static final int MAX_MESSAGE_BYTES = 128 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketApiEmulator.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a client gets to answer our close frame before we drop the socket. */
    private static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private record Route(
            RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> handler, boolean twoWay) {}

    private final String stage;
    private final int requestedPort;
    private final Map<String, Route> routes;
    private final Authorizer authorizer;
    private final Duration idleTimeout;
    private final Duration maxConnectionDuration;
    private final Duration integrationTimeout;
    private final boolean serializePerConnection;
    private final RequestLog requestLog;

    private final ConnectionRegistry registry = new ConnectionRegistry();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final EventFactory events;
    private final ManagementApiHandler managementApi;
    private final Handler.Sequence httpRoutes = new Handler.Sequence();
    private final Server server;
    private final ConnectionStatistics connectionStats = new ConnectionStatistics();
    private final ScheduledExecutorService sweeper;
    private volatile int port = -1;

    private WebSocketApiEmulator(Builder b) {
        this.stage = b.stage;
        this.requestedPort = b.port;
        this.routes = Map.copyOf(b.routes);
        this.authorizer = b.authorizer;
        this.idleTimeout = b.idleTimeout;
        this.maxConnectionDuration = b.maxConnectionDuration;
        this.integrationTimeout = b.integrationTimeout;
        this.serializePerConnection = b.serializePerConnection;
        this.requestLog = b.requestLog;
        this.events = new EventFactory(stage, b.apiId);
        this.managementApi = new ManagementApiHandler(
                stage, b.region, registry, metrics, c -> c.close(1000, "Connection Closed Normally"));

        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("apigw-emulator");
        // blocking handler work (management POSTs wait for the socket write) runs on virtual threads
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);
        httpRoutes.addHandler(managementApi);
        b.httpRoutes.forEach(this::addHttpRoute);
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxFrameSize(MAX_FRAME_BYTES);
            container.setMaxTextMessageSize(MAX_MESSAGE_BYTES);
            container.setMaxBinaryMessageSize(MAX_MESSAGE_BYTES);
            // an over-size frame must fail (close 1009) rather than be split up
            container.setAutoFragment(false);
            // our own sweeper enforces the idle timeout; Jetty's is only a backstop
            container.setIdleTimeout(idleTimeout.plusMinutes(1));
            container.addMapping("/" + stage, this::connect);
        });
        upgrades.setHandler(httpRoutes);
        server.setHandler(upgrades);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "apigw-emulator-timeouts");
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds 127.0.0.1 and starts serving. */
    public WebSocketApiEmulator start() {
        HttpConfiguration http = new HttpConfiguration();
        // API Gateway names no server software; neither do we (it only helps an attacker pick exploits)
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.addBean(connectionStats);
        connector.setHost("127.0.0.1");
        connector.setPort(requestedPort);
        server.addConnector(connector);
        try {
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the API Gateway emulator on port " + requestedPort, e);
        }
        port = connector.getLocalPort();
        events.domainName("127.0.0.1:" + port);
        long tick = Math.clamp(Math.min(idleTimeout.toMillis(), maxConnectionDuration.toMillis()) / 10, 20, 1000);
        sweeper.scheduleWithFixedDelay(this::enforceTimeouts, tick, tick, TimeUnit.MILLISECONDS);
        LOG.info("API Gateway WebSocket emulator: {} (management API {})", webSocketUrl(), managementEndpoint());
        return this;
    }

    /** Closes every connection (each gets its $disconnect) and stops the server. */
    @Override
    public void close() {
        sweeper.shutdownNow();
        for (Connection c : registry.all()) {
            c.close(1001, "Going away");
        }
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("error stopping the API Gateway emulator", e);
        }
    }

    /**
     * Mounts another HTTP handler on this server for a path prefix, e.g. {@code "/demo"} serves
     * {@code /demo} and everything below it; the handler sees the full request path. Before start only.
     */
    public void addHttpRoute(String pathPrefix, Handler handler) {
        if (server.isStarted() || server.isStarting()) {
            throw new IllegalStateException("add HTTP routes before start()");
        }
        String prefix = pathPrefix.endsWith("/") ? pathPrefix.substring(0, pathPrefix.length() - 1) : pathPrefix;
        httpRoutes.addHandler(new Handler.Wrapper(handler) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String path = request.getHttpURI().getDecodedPath();
                boolean mine = prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix + "/");
                return mine && super.handle(request, response, callback);
            }
        });
    }

    /**
     * TCP connections accepted since start, WebSocket clients and management API callers alike (a
     * test sees whether the handlers' posts reuse their kept-alive connections).
     */
    public long connectionsAccepted() {
        return connectionStats.getConnectionsTotal();
    }

    public int port() {
        requireStarted();
        return port;
    }

    /** {@code ws://127.0.0.1:PORT/{stage}}, what clients connect to. */
    public URI webSocketUrl() {
        return URI.create("ws://127.0.0.1:" + port() + "/" + stage);
    }

    /** {@code http://127.0.0.1:PORT/{stage}}, the endpointOverride for ApiGatewayManagementApiClient. */
    public URI managementEndpoint() {
        return URI.create("http://127.0.0.1:" + port() + "/" + stage);
    }

    public Set<String> connectionIds() {
        return registry.ids();
    }

    /** Cuts a connection without a close frame, as a network failure would; $disconnect still fires. */
    public boolean killConnection(String connectionId) {
        return registry.find(connectionId)
                .map(c -> {
                    c.abort();
                    return true;
                })
                .orElse(false);
    }

    /** While false the management API answers every call with 503 ServiceUnavailableException. */
    public void setManagementApiAvailable(boolean available) {
        managementApi.setAvailable(available);
    }

    /**
     * Holds every post to {@code connectionId} (a slow reader) until the returned hold is closed, at
     * most a minute; other connections are served meanwhile.
     */
    public AutoCloseable holdPostsTo(String connectionId) {
        return managementApi.hold(connectionId);
    }

    public Counters counters() {
        return metrics.snapshot();
    }

    private void requireStarted() {
        if (port < 0) {
            throw new IllegalStateException("not started");
        }
    }

    // ---- $connect -------------------------------------------------------------------------

    /** Runs the authorizer and the $connect route; returning null refuses the upgrade. */
    private Object connect(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpField field : request.getHeaders()) {
            headers.computeIfAbsent(field.getName(), n -> new ArrayList<>()).add(field.getValue());
        }
        Map<String, List<String>> query = parseQuery(request.getHttpURI().getQuery());
        String sourceIp = Request.getRemoteAddr(request);
        String userAgent = request.getHeaders().get(HttpHeader.USER_AGENT);
        String connectionId = EventFactory.newId();

        Map<String, Object> authorizerContext = null;
        if (authorizer != null) {
            Map<String, List<String>> caseInsensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            caseInsensitive.putAll(headers);
            Authorizer.Decision decision;
            try {
                decision = authorizer.authorize(new Authorizer.ConnectRequest(
                        connectionId, Collections.unmodifiableMap(caseInsensitive), Map.copyOf(query), sourceIp));
            } catch (RuntimeException e) {
                LOG.warn("authorizer failed for {}", connectionId, e);
                return refuse(response, callback, 500);
            }
            switch (decision) {
                case Authorizer.Deny deny -> {
                    return refuse(response, callback, deny.statusCode());
                }
                case Authorizer.Allow allow -> authorizerContext = allow.context();
            }
        }

        ExecutorService serial = serializePerConnection
                ? Executors.newSingleThreadExecutor(
                        Thread.ofVirtual().name("apigw-" + connectionId).factory())
                : null;
        Connection connection =
                new Connection(connectionId, Instant.now(), sourceIp, userAgent, authorizerContext, serial);
        Route route = routes.get(EventFactory.CONNECT);
        if (route != null) {
            APIGatewayV2WebSocketResponse result;
            try {
                result = route.handler()
                        .handleRequest(
                                events.connect(connection, headers, query),
                                LocalLambdaContext.forInvocation(EventFactory.CONNECT, integrationTimeout));
            } catch (RuntimeException e) {
                LOG.warn("$connect handler failed for {}", connectionId, e);
                return refuse(response, callback, 500, serial);
            }
            int status = result == null || result.getStatusCode() == 0 ? 200 : result.getStatusCode();
            if (status < 200 || status > 299) {
                return refuse(response, callback, status, serial);
            }
            String subprotocol = header(result, "Sec-WebSocket-Protocol");
            if (subprotocol != null && !request.getSubProtocols().isEmpty()) {
                response.setAcceptedSubProtocol(subprotocol);
            }
        }
        return new Endpoint(connection);
    }

    private static Object refuse(
            ServerUpgradeResponse response, Callback callback, int status, ExecutorService serial) {
        if (serial != null) {
            serial.shutdown();
        }
        return refuse(response, callback, status);
    }

    /** Fails the handshake with API Gateway's status and a {@code {"message": ...}} body. */
    private static Object refuse(ServerUpgradeResponse response, Callback callback, int status) {
        String reason = HttpStatus.getMessage(status);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(
                true,
                ByteBuffer.wrap(JSON.createObjectNode()
                        .put("message", reason)
                        .toString()
                        .getBytes(StandardCharsets.UTF_8)),
                callback);
        return null;
    }

    private static String header(APIGatewayV2WebSocketResponse result, String name) {
        if (result.getHeaders() != null) {
            for (Map.Entry<String, String> h : result.getHeaders().entrySet()) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    return h.getValue();
                }
            }
        }
        if (result.getMultiValueHeaders() != null) {
            for (Map.Entry<String, String[]> h : result.getMultiValueHeaders().entrySet()) {
                if (h.getKey().equalsIgnoreCase(name) && h.getValue() != null && h.getValue().length > 0) {
                    return h.getValue()[0];
                }
            }
        }
        return null;
    }

    /** Query parameters in request order, decoded; a name without '=' has the value "". */
    static Map<String, List<String>> parseQuery(String rawQuery) {
        Map<String, List<String>> query = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return query;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            query.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
        }
        return query;
    }

    // ---- messages and $disconnect ------------------------------------------------------------

    /**
     * Jetty's view of one connection; every callback is delegated to the emulator. Public only
     * because Jetty binds the listener methods through method handles.
     */
    public final class Endpoint implements Session.Listener.AutoDemanding {
        private final Connection connection;

        private Endpoint(Connection connection) {
            this.connection = connection;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            connection.opened(session);
            registry.add(connection);
            metrics.connected();
        }

        @Override
        public void onWebSocketText(String message) {
            received(connection, message, false);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            String body = Base64.getEncoder().encodeToString(toArray(payload));
            callback.succeed();
            received(connection, body, true);
        }

        @Override
        public void onWebSocketPing(ByteBuffer payload) {
            connection.touch();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            LOG.debug("connection {} error: {}", connection.id, cause.toString());
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason, org.eclipse.jetty.websocket.api.Callback callback) {
            Connection.CloseReason serverSide = connection.serverClose();
            ended(connection, serverSide != null ? serverSide : new Connection.CloseReason(statusCode, reason));
            callback.succeed();
        }
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private void received(Connection c, String body, boolean base64) {
        metrics.messageIn(base64 ? body.length() / 4 * 3 : GatewayMetrics.meteredBytes(body));
        c.touch();
        long receivedAt = System.currentTimeMillis(); // requestTimeEpoch: arrival, not when the invocation ran
        run(c, () -> handleMessage(c, body, base64, receivedAt));
    }

    /**
     * API Gateway invokes the integration for each message as it arrives, so invocations of one
     * connection may overlap; a virtual thread per invocation reproduces that.
     */
    private void run(Connection c, Runnable invocation) {
        if (c.serialExecutor == null) {
            Thread.ofVirtual().name("apigw-" + c.id).start(invocation);
            return;
        }
        try {
            c.serialExecutor.execute(invocation);
        } catch (RejectedExecutionException e) {
            LOG.debug("connection {} already ended; invocation dropped", c.id);
        }
    }

    private void handleMessage(Connection c, String body, boolean base64, long receivedAt) {
        String routeKey = base64 ? EventFactory.DEFAULT : selectRoute(body);
        Route route = routes.get(routeKey);
        APIGatewayV2WebSocketEvent event = events.message(c, routeKey, body, base64);
        event.getRequestContext().setRequestTimeEpoch(receivedAt);
        String requestId = event.getRequestContext().getRequestId();
        if (route == null) {
            // no $default route: API Gateway answers the client itself
            sendToClient(c, errorFrame("Forbidden", c, requestId));
            return;
        }
        long t0 = System.nanoTime();
        String answer = null;
        try {
            APIGatewayV2WebSocketResponse result = route.handler()
                    .handleRequest(event, LocalLambdaContext.forInvocation(routeKey, integrationTimeout));
            if (route.twoWay() && result != null && result.getBody() != null) {
                answer = result.getBody();
                sendToClient(c, answer);
            }
        } catch (RuntimeException | Error e) {
            LOG.warn("route {} failed on connection {}", routeKey, c.id, e);
            metrics.integrationError();
            answer = errorFrame("Internal server error", c, requestId);
            sendToClient(c, answer);
        }
        requestLog.served("ws", routeKey, body, 0, answer, System.nanoTime() - t0);
    }

    /** {@code $request.body.action}: a JSON object with a string action naming a route, else $default. */
    private String selectRoute(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            JsonNode action = json == null ? null : json.get("action");
            if (json != null
                    && json.isObject()
                    && action != null
                    && action.isTextual()
                    && !action.asText().startsWith("$")
                    && routes.containsKey(action.asText())) {
                return action.asText();
            }
        } catch (Exception notJson) {
            // falls through to $default like API Gateway
        }
        return EventFactory.DEFAULT;
    }

    private static String errorFrame(String message, Connection c, String requestId) {
        return JSON.createObjectNode()
                .put("message", message)
                .put("connectionId", c.id)
                .put("requestId", requestId)
                .toString();
    }

    private void sendToClient(Connection c, String message) {
        try {
            c.send(message);
            metrics.messageOut(GatewayMetrics.meteredBytes(message));
        } catch (IOException e) {
            LOG.debug("could not reply on connection {}: {}", c.id, e.toString());
        }
    }

    /** Once per connection, whatever ended it: forget it and invoke $disconnect. */
    private void ended(Connection c, Connection.CloseReason why) {
        if (!c.markEnded()) {
            return;
        }
        registry.remove(c);
        metrics.disconnected();
        Route route = routes.get(EventFactory.DISCONNECT);
        Runnable disconnect = () -> {
            if (route == null) {
                return;
            }
            try {
                route.handler()
                        .handleRequest(
                                events.disconnect(c, why),
                                LocalLambdaContext.forInvocation(EventFactory.DISCONNECT, integrationTimeout));
            } catch (RuntimeException | Error e) {
                LOG.warn("$disconnect handler failed for {}", c.id, e);
            }
        };
        run(c, disconnect);
        if (c.serialExecutor != null) {
            c.serialExecutor.shutdown();
        }
    }

    /** Idle timeout and maximum connection duration, both closed with 1001 "Going away". */
    private void enforceTimeouts() {
        try {
            Instant now = Instant.now();
            for (Connection c : registry.all()) {
                if (c.closeRequestedLongerAgoThan(CLOSE_GRACE_NANOS)) {
                    c.abort();
                } else if (now.isAfter(c.connectedAt.plus(maxConnectionDuration))
                        || now.isAfter(c.lastActiveAt().plus(idleTimeout))) {
                    c.close(1001, "Going away");
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("timeout sweep failed", e);
        }
    }

    // ---- builder --------------------------------------------------------------------------------

    public static final class Builder {
        private String stage = "local";
        private String apiId = "local";
        private String region = "us-east-1";
        private int port = 0;
        private final Map<String, Route> routes = new LinkedHashMap<>();
        private final Map<String, Handler> httpRoutes = new LinkedHashMap<>();
        private Authorizer authorizer;
        private Duration idleTimeout = Duration.ofMinutes(10);
        private Duration maxConnectionDuration = Duration.ofHours(2);
        private Duration integrationTimeout = Duration.ofSeconds(29);
        private boolean serializePerConnection = false;
        private RequestLog requestLog = RequestLog.OFF;

        private Builder() {}

        /** A line per message served (off by default). */
        public Builder requestLog(RequestLog log) {
            this.requestLog = Objects.requireNonNull(log);
            return this;
        }

        public Builder stage(String stage) {
            if (stage == null || stage.isEmpty() || stage.contains("/")) {
                throw new IllegalArgumentException("a stage is one path segment, got " + stage);
            }
            this.stage = stage;
            return this;
        }

        public Builder apiId(String apiId) {
            this.apiId = Objects.requireNonNull(apiId);
            return this;
        }

        /** The region the emulated API is in: management calls must be signed for it. */
        public Builder region(String region) {
            this.region = Objects.requireNonNull(region);
            return this;
        }

        /** 0 picks a free port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** A two-way route: a response body from the handler is sent back to the client. */
        public Builder route(
                String routeKey, RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> handler) {
            return route(routeKey, handler, true);
        }

        /** @param twoWay whether a response body from the handler is sent back to the client */
        public Builder route(
                String routeKey,
                RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> handler,
                boolean twoWay) {
            routes.put(Objects.requireNonNull(routeKey), new Route(Objects.requireNonNull(handler), twoWay));
            return this;
        }

        public Builder defaultRoute(RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> handler) {
            return route(EventFactory.DEFAULT, handler);
        }

        public Builder authorizer(Authorizer authorizer) {
            this.authorizer = authorizer;
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = positive(idleTimeout);
            return this;
        }

        public Builder maxConnectionDuration(Duration maxConnectionDuration) {
            this.maxConnectionDuration = positive(maxConnectionDuration);
            return this;
        }

        /** What handlers see as their Lambda timeout in {@code Context.getRemainingTimeInMillis()}. */
        public Builder integrationTimeout(Duration integrationTimeout) {
            this.integrationTimeout = positive(integrationTimeout);
            return this;
        }

        /** True runs one connection's invocations one after another (deterministic tests); API Gateway does not. */
        public Builder serializePerConnection(boolean serializePerConnection) {
            this.serializePerConnection = serializePerConnection;
            return this;
        }

        /** See {@link WebSocketApiEmulator#addHttpRoute(String, Handler)}. */
        public Builder httpRoute(String pathPrefix, Handler handler) {
            httpRoutes.put(Objects.requireNonNull(pathPrefix), Objects.requireNonNull(handler));
            return this;
        }

        public WebSocketApiEmulator build() {
            return new WebSocketApiEmulator(this);
        }

        private static Duration positive(Duration d) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException("expected a positive duration, got " + d);
            }
            return d;
        }
    }
}
