package io.durablesessions.local.apigateway;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2CustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SimpleIAMPolicyResponse;
import io.durablesessions.events.Json;
import io.durablesessions.functions.http.HttpRoutes;
import io.durablesessions.local.lambda.LocalLambdaContext;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
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
 * the matched route, else {@code $default}; raw path and query, headers lower-cased, body) and the
 * handler's response goes back as the HTTP response. Requests larger than API Gateway's 10 MB are
 * refused with 413.
 *
 * <p>Before the handler runs, the route's authorization, as API Gateway applies it: a Lambda
 * authorizer (payload 2.0, simple responses; no {@code Authorization} header → 401 without calling
 * it, a refusal → 403, its context → {@code requestContext.authorizer.lambda}) or IAM (a SigV4
 * signature checked by {@link SigV4Verifier} → {@code requestContext.authorizer.iam}, else 403).
 * Those refusals are API Gateway's own {@code {"message": …}} bodies, not the handler's. Verdicts
 * are not cached locally. A base path (e.g. {@code /iam}, as a custom domain's API mapping) is
 * stripped before routing.
 */
public final class HttpApiBridge extends Handler.Abstract.NonBlocking {
    static final int MAX_BODY_BYTES = 10 * 1024 * 1024;

    /** How API Gateway authorizes the API's routes. */
    public sealed interface Guard {}

    public record NoAuthorization() implements Guard {}

    public record LambdaAuthorizer(RequestHandler<APIGatewayV2CustomAuthorizerEvent, SimpleIAMPolicyResponse> function)
            implements Guard {}

    public record Iam(SigV4Verifier verifier) implements Guard {}

    private final RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler;
    private final Guard guard;
    private final String basePath;
    private final RequestLog requestLog;

    public HttpApiBridge(
            RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler, Guard guard, String basePath) {
        this(handler, guard, basePath, RequestLog.OFF);
    }

    public HttpApiBridge(
            RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler,
            Guard guard,
            String basePath,
            RequestLog requestLog) {
        this.handler = handler;
        this.guard = guard;
        this.basePath = basePath;
        this.requestLog = requestLog;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        // the handler blocks on DynamoDB: run it off the selector thread
        Thread.ofVirtual().name("http-api").start(() -> serve(request, response, callback));
        return true;
    }

    private void serve(Request request, Response response, Callback callback) {
        long t0 = System.nanoTime();
        String route = request.getMethod() + " " + request.getHttpURI().getPath();
        int[] status = {500};
        String[] answer = {null};
        try {
            serve(request, response, callback, status, answer);
        } finally {
            requestLog.served("http", route, null, status[0], answer[0], System.nanoTime() - t0);
        }
    }

    private void serve(Request request, Response response, Callback callback, int[] status, String[] answer) {
        try {
            ByteBuffer raw = Content.Source.asByteBuffer(request);
            if (raw.remaining() > MAX_BODY_BYTES) {
                status[0] = 413;
                write(
                        response,
                        callback,
                        413,
                        Map.of("Content-Type", "application/json"),
                        "{\"message\":\"Request Entity Too Large\"}");
                return;
            }
            byte[] bytes = new byte[raw.remaining()];
            raw.duplicate().get(bytes);
            APIGatewayV2HTTPEvent event = toEvent(request, raw, basePath);
            String refusal = authorize(request, event, bytes);
            if (refusal != null) {
                int refused = refusal.equals(UNAUTHORIZED) ? 401 : refusal.equals(SERVER_ERROR) ? 500 : 403;
                status[0] = refused;
                write(
                        response,
                        callback,
                        refused,
                        Map.of("Content-Type", "application/json"),
                        Json.write(Json.object().put("message", refusal)));
                return;
            }
            APIGatewayV2HTTPResponse r =
                    handler.handleRequest(event, LocalLambdaContext.forInvocation("http-api", Duration.ofSeconds(30)));
            status[0] = r.getStatusCode();
            answer[0] = r.getBody();
            write(
                    response,
                    callback,
                    r.getStatusCode(),
                    r.getHeaders() == null ? Map.of() : r.getHeaders(),
                    r.getBody() == null ? "" : r.getBody());
        } catch (Throwable t) {
            write(
                    response,
                    callback,
                    500,
                    Map.of("Content-Type", "application/json"),
                    "{\"message\":\"Internal Server Error\"}");
        }
    }

    private static final String UNAUTHORIZED = "Unauthorized";
    private static final String SERVER_ERROR = "Internal Server Error";

    /** Runs the route's authorization; null when the request may proceed, else API Gateway's message. */
    private String authorize(Request request, APIGatewayV2HTTPEvent event, byte[] body) {
        var authorizer = new APIGatewayV2HTTPEvent.RequestContext.Authorizer();
        switch (guard) {
            case NoAuthorization n -> {
                return null;
            }
            case LambdaAuthorizer l -> {
                String header = event.getHeaders().get("authorization");
                if (header == null || header.isBlank()) return UNAUTHORIZED; // identity source missing: not invoked
                APIGatewayV2CustomAuthorizerEvent in = new APIGatewayV2CustomAuthorizerEvent();
                in.setVersion("2.0");
                in.setType("REQUEST");
                in.setRouteArn("arn:aws:execute-api:us-east-1:000000000000:local/$default/"
                        + event.getRequestContext().getHttp().getMethod() + event.getRawPath());
                in.setIdentitySource(List.of(header));
                in.setRouteKey(event.getRouteKey());
                in.setRawPath(event.getRawPath());
                in.setRawQueryString(event.getRawQueryString());
                in.setHeaders(event.getHeaders());
                in.setQueryStringParameters(event.getQueryStringParameters());
                in.setPathParameters(event.getPathParameters());
                SimpleIAMPolicyResponse verdict;
                try {
                    verdict = l.function()
                            .handleRequest(
                                    in, LocalLambdaContext.forInvocation("http-authorizer", Duration.ofSeconds(10)));
                } catch (RuntimeException e) {
                    return SERVER_ERROR;
                }
                if (verdict == null || !verdict.getIsAuthorized()) return "Forbidden";
                authorizer.setLambda(new HashMap<>(verdict.getContext() == null ? Map.of() : verdict.getContext()));
            }
            case Iam i -> {
                URI uri = URI.create(request.getHttpURI().asString());
                switch (i.verifier().verify(request.getMethod(), uri, event.getHeaders(), body)) {
                    case SigV4Verifier.Refused r -> {
                        return r.message();
                    }
                    case SigV4Verifier.Caller c -> {
                        var iam = new APIGatewayV2HTTPEvent.RequestContext.IAM();
                        iam.setAccessKey(c.accessKey());
                        iam.setAccountId(c.identity().accountId());
                        iam.setUserArn(c.identity().arn());
                        iam.setCallerId(c.accessKey());
                        authorizer.setIam(iam);
                    }
                }
            }
        }
        event.getRequestContext().setAuthorizer(authorizer);
        return null;
    }

    static APIGatewayV2HTTPEvent toEvent(Request request, ByteBuffer raw, String basePath) {
        String method = request.getMethod();
        String fullPath = request.getHttpURI().getPath();
        String path = !basePath.isEmpty() && fullPath.startsWith(basePath + "/")
                ? fullPath.substring(basePath.length())
                : fullPath;
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
        e.setRawQueryString(
                request.getHttpURI().getQuery() == null
                        ? ""
                        : request.getHttpURI().getQuery());
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

    private static void write(
            Response response, Callback callback, int status, Map<String, String> headers, String body) {
        response.setStatus(status);
        headers.forEach((k, v) -> response.getHeaders().put(k, v));
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    }
}
