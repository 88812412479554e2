package io.durablesessions.infra;

import io.durablesessions.functions.gateway.Routes;
import io.durablesessions.functions.subscribe.SubscribeHandler;
import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.apigatewayv2.IWebSocketRouteAuthorizer;
import software.amazon.awscdk.services.apigatewayv2.WebSocketRoute;
import software.amazon.awscdk.services.lambda.Code;
import software.constructs.Construct;

/**
 * One Lambda function per WebSocket route, from {@link Routes#ALL}: the route key, the handler
 * class and its handler string all come from there; the access each handler needs from
 * {@link Permissions}. Each route gets its own integration (invoking the function's {@code live}
 * alias) and a route response.
 */
public final class RouteFunctions extends Construct {
    /**
     * 1024 MB: Lambda allots CPU in proportion to memory, and a JVM handler's cold start and first
     * requests are CPU-bound (class loading, JIT); 1024 MB roughly halves them against 512 MB for
     * little more cost per request (the work itself is a few ms of DynamoDB I/O).
     */
    static final int MEMORY_MB = 1024;
    /** Single-item reads and one transaction (with bounded contention retries) take well under a second. */
    static final Duration TIMEOUT = Duration.seconds(10);
    /**
     * Subscribe posts up to {@code Limits.MAX_CATCH_UP_EVENTS} catch-up events before answering;
     * its answer is useless after API Gateway's 29 s integration timeout, so it may run exactly that long.
     */
    static final Duration SUBSCRIBE_TIMEOUT = WebSocketApi.INTEGRATION_TIMEOUT;

    private final Map<String, JavaFunction> byRoute = new LinkedHashMap<>();
    private final Map<String, WebSocketRoute> routes = new LinkedHashMap<>();

    public RouteFunctions(
            Construct scope,
            String id,
            Code code,
            SessionTables tables,
            WebSocketApi api,
            StackConfig config,
            IWebSocketRouteAuthorizer connectAuthorizerOrNull) {
        super(scope, id);
        Map<String, String> env = JavaFunction.handlerEnvironment(tables, api, config);
        for (Routes.Route route : Routes.ALL) {
            boolean subscribe = route.handlerClass() == SubscribeHandler.class;
            var spec = new JavaFunction.Spec(
                    route.lambdaHandler(),
                    "route " + route.key(),
                    MEMORY_MB,
                    subscribe ? SUBSCRIBE_TIMEOUT : TIMEOUT,
                    config.snapStart(),
                    env,
                    Permissions.forRoute(route));
            JavaFunction fn = new JavaFunction(this, constructId(route.key()), spec, code, tables, api, config);
            boolean connect = route.key().equals("$connect");
            WebSocketRoute r = api.addRoute(route.key(), fn.alias(), connect ? connectAuthorizerOrNull : null);
            byRoute.put(route.key(), fn);
            routes.put(route.key(), r);
            if (!connect) {
                NagSuppressions.addResourceSuppressions(
                        r,
                        List.of(NagPackSuppression.builder()
                                .id("AwsSolutions-APIG4")
                                .reason(
                                        "a WebSocket API authorizes once, at $connect; API Gateway accepts no authorizer on "
                                                + "other routes, whose frames arrive on the already authorized connection and are "
                                                + "checked against the identity recorded for it")
                                .build()),
                        true);
            } else if (connectAuthorizerOrNull == null) {
                NagSuppressions.addResourceSuppressions(
                        r,
                        List.of(NagPackSuppression.builder()
                                .id("AwsSolutions-APIG4")
                                .reason(
                                        "the $connect authorizer was switched off for this deployment (-c authorizer=false); "
                                                + "$connect then finds no verified principal and refuses every connection, so "
                                                + "nothing is reachable unauthenticated")
                                .build()),
                        true);
            }
        }
    }

    /** "$connect" → "Connect", "append" → "Append". */
    static String constructId(String routeKey) {
        String k = routeKey.replace("$", "");
        return Character.toUpperCase(k.charAt(0)) + k.substring(1);
    }

    public Map<String, JavaFunction> byRoute() {
        return byRoute;
    }

    public Map<String, WebSocketRoute> routes() {
        return routes;
    }
}
