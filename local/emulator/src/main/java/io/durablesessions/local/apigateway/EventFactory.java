package io.durablesessions.local.apigateway;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent.RequestContext;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent.RequestIdentity;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Builds events the way API Gateway's Lambda proxy integration does for WebSocket routes. */
final class EventFactory {

    static final String CONNECT = "$connect";
    static final String DISCONNECT = "$disconnect";
    static final String DEFAULT = "$default";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final DateTimeFormatter REQUEST_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US).withZone(ZoneOffset.UTC);

    private final String stage;
    private final String apiId;
    private volatile String domainName;

    EventFactory(String stage, String apiId) {
        this.stage = stage;
        this.apiId = apiId;
    }

    void domainName(String domainName) {
        this.domainName = domainName;
    }

    /**
     * An id shaped like API Gateway's connection, request and message ids: 11 random bytes in
     * URL-safe base64, 16 characters ending in '=' (URL-safe so that it fits in a path segment).
     */
    static String newId() {
        byte[] bytes = new byte[11];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().encodeToString(bytes);
    }

    APIGatewayV2WebSocketEvent connect(
            Connection c, Map<String, List<String>> headers, Map<String, List<String>> query) {
        APIGatewayV2WebSocketEvent event = event(newContext(c, CONNECT, "CONNECT"));
        Map<String, String> single = new LinkedHashMap<>();
        headers.forEach((name, values) -> single.put(name, String.join(",", values)));
        event.setHeaders(single);
        event.setMultiValueHeaders(headers);
        if (!query.isEmpty()) {
            Map<String, String> lastValues = new LinkedHashMap<>();
            query.forEach((name, values) -> lastValues.put(name, values.get(values.size() - 1)));
            event.setQueryStringParameters(lastValues);
            event.setMultiValueQueryStringParameters(query);
        }
        return event;
    }

    APIGatewayV2WebSocketEvent message(Connection c, String routeKey, String body, boolean base64) {
        RequestContext context = newContext(c, routeKey, "MESSAGE");
        context.setMessageId(newId());
        APIGatewayV2WebSocketEvent event = event(context);
        event.setBody(body);
        event.setIsBase64Encoded(base64);
        return event;
    }

    APIGatewayV2WebSocketEvent disconnect(Connection c, Connection.CloseReason why) {
        DisconnectRequestContext context = new DisconnectRequestContext();
        fill(context, c, DISCONNECT, "DISCONNECT");
        context.setDisconnectStatusCode(why.statusCode());
        context.setDisconnectReason(why.reason());
        APIGatewayV2WebSocketEvent event = event(context);
        // API Gateway passes a few headers to $disconnect as well
        event.setHeaders(Map.of("Host", domainName, "x-api-key", "", "X-Forwarded-For", "", "x-restapi", ""));
        event.setMultiValueHeaders(Map.of(
                "Host",
                List.of(domainName),
                "x-api-key",
                List.of(""),
                "X-Forwarded-For",
                List.of(""),
                "x-restapi",
                List.of("")));
        return event;
    }

    private static APIGatewayV2WebSocketEvent event(RequestContext context) {
        APIGatewayV2WebSocketEvent event = new APIGatewayV2WebSocketEvent();
        event.setRequestContext(context);
        event.setIsBase64Encoded(false);
        return event;
    }

    private RequestContext newContext(Connection c, String routeKey, String eventType) {
        RequestContext context = new RequestContext();
        fill(context, c, routeKey, eventType);
        return context;
    }

    private void fill(RequestContext context, Connection c, String routeKey, String eventType) {
        long now = System.currentTimeMillis();
        String requestId = newId();
        context.setRouteKey(routeKey);
        context.setEventType(eventType);
        context.setConnectionId(c.id);
        context.setConnectedAt(c.connectedAt.toEpochMilli());
        context.setRequestId(requestId);
        context.setExtendedRequestId(requestId);
        context.setRequestTimeEpoch(now);
        context.setRequestTime(REQUEST_TIME.format(Instant.ofEpochMilli(now)));
        context.setMessageDirection("IN");
        context.setStage(stage);
        context.setDomainName(domainName);
        context.setApiId(apiId);
        if (c.authorizerContext != null) {
            context.setAuthorizer(new LinkedHashMap<>(c.authorizerContext));
        }
        RequestIdentity identity = new RequestIdentity();
        identity.setSourceIp(c.sourceIp);
        identity.setUserAgent(c.userAgent);
        context.setIdentity(identity);
    }
}
