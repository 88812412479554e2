package io.durablesessions.local.apigateway;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.durablesessions.functions.http.HttpRoutes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * API Gateway HTTP API (payload format 2.0) in front of a Lambda handler, on the emulator's Jetty
 * server: each request becomes an {@link APIGatewayV2HTTPEvent} (route key and path parameters of
 * the matched route, raw path and query, headers lower-cased, body) and the handler's response
 * goes back as the HTTP response. Requests larger than API Gateway's 10 MB are refused with 413.
 */
public final class HttpApiBridge extends Handler.Abstract.NonBlocking {
    static final int MAX_BODY_BYTES = 10 * 1024 * 1024;

    private final RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler;

    public HttpApiBridge(RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler) {
        this.handler = handler;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        // the handler blocks on DynamoDB: run it off the selector thread
        Thread.ofVirtual().name("http-api").start(() -> serve(request, response, callback));
        return true;
    }

    private void serve(Request request, Response response, Callback callback) {
        try {
            ByteBuffer raw = Content.Source.asByteBuffer(request);
            if (raw.remaining() > MAX_BODY_BYTES) {
                write(response, callback, 413, Map.of("Content-Type", "application/json"), "{\"message\":\"Request Entity Too Large\"}");
                return;
            }
            APIGatewayV2HTTPEvent event = toEvent(request, raw);
            APIGatewayV2HTTPResponse r = handler.handleRequest(event, LocalLambdaContext.forInvocation("http-api", java.time.Duration.ofSeconds(30)));
            write(response, callback, r.getStatusCode(), r.getHeaders() == null ? Map.of() : r.getHeaders(),
                    r.getBody() == null ? "" : r.getBody());
        } catch (Throwable t) {
            write(response, callback, 500, Map.of("Content-Type", "application/json"), "{\"message\":\"Internal Server Error\"}");
        }
    }

    static APIGatewayV2HTTPEvent toEvent(Request request, ByteBuffer raw) {
        String method = request.getMethod();
        String path = request.getHttpURI().getPath();
        Map<String, String> headers = new HashMap<>();
        for (HttpField f : request.getHeaders()) {
            // API Gateway joins repeated headers with commas and lower-cases the names
            headers.merge(f.getLowerCaseName(), f.getValue(), (a, b) -> a + "," + b);
        }
        Map<String, String> query = new HashMap<>();
        Fields fields = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        for (Fields.Field f : fields) query.put(f.getName(), String.join(",", f.getValues()));

        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        e.setVersion("2.0");
        String routeKey = "$default";
        if (HttpRoutes.resolve(method, path) instanceof HttpRoutes.Found found) {
            routeKey = found.match().route().routeKey();
            e.setPathParameters(found.match().pathParameters());
        }
        e.setRouteKey(routeKey);
        e.setRawPath(path);
        e.setRawQueryString(request.getHttpURI().getQuery() == null ? "" : request.getHttpURI().getQuery());
        e.setHeaders(headers);
        e.setQueryStringParameters(query.isEmpty() ? null : query);
        if (raw.hasRemaining()) {
            e.setBody(StandardCharsets.UTF_8.decode(raw).toString());
        }
        e.setIsBase64Encoded(false);
        APIGatewayV2HTTPEvent.RequestContext ctx = new APIGatewayV2HTTPEvent.RequestContext();
        ctx.setRouteKey(routeKey);
        ctx.setStage("$default");
        ctx.setRequestId(UUID.randomUUID().toString());
        ctx.setTimeEpoch(Instant.now().toEpochMilli());
        APIGatewayV2HTTPEvent.RequestContext.Http http = new APIGatewayV2HTTPEvent.RequestContext.Http();
        http.setMethod(method);
        http.setPath(path);
        http.setProtocol("HTTP/1.1");
        http.setSourceIp(Request.getRemoteAddr(request));
        http.setUserAgent(request.getHeaders().get("User-Agent"));
        ctx.setHttp(http);
        e.setRequestContext(ctx);
        return e;
    }

    private static void write(Response response, Callback callback, int status, Map<String, String> headers, String body) {
        response.setStatus(status);
        headers.forEach((k, v) -> response.getHeaders().put(k, v));
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    }
}
