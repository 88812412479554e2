package io.durablesessions.infra;

import io.durablesessions.functions.gateway.Routes;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.aws_apigatewayv2_integrations.WebSocketLambdaIntegration;
import software.amazon.awscdk.aws_apigatewayv2_integrations.WebSocketLambdaIntegrationProps;
import software.amazon.awscdk.services.apigatewayv2.CfnStage;
import software.amazon.awscdk.services.apigatewayv2.IWebSocketRouteAuthorizer;
import software.amazon.awscdk.services.apigatewayv2.ThrottleSettings;
import software.amazon.awscdk.services.apigatewayv2.WebSocketApiProps;
import software.amazon.awscdk.services.apigatewayv2.WebSocketRoute;
import software.amazon.awscdk.services.apigatewayv2.WebSocketRouteOptions;
import software.amazon.awscdk.services.apigatewayv2.WebSocketStage;
import software.amazon.awscdk.services.lambda.IFunction;
import software.constructs.Construct;

/**
 * The API Gateway WebSocket API and its auto-deployed stage. Routes are added by
 * {@link RouteFunctions}, each with its own Lambda integration and a route response (the handlers
 * answer every request frame with one frame). Route selection is the protocol's {@code action}
 * field, {@link Routes#SELECTION_EXPRESSION}.
 */
public final class WebSocketApi extends Construct {
    /** API Gateway's maximum integration timeout: a route's answer is lost after it. */
    public static final Duration INTEGRATION_TIMEOUT = Duration.seconds(29);
    /** Stage-wide ceiling against runaway callers (requests per second, burst), far below the account's limit. */
    static final int THROTTLE_RATE = 1000;

    static final int THROTTLE_BURST = 2000;
    /**
     * Tighter limits where one request costs much more than it carries: a subscribe can send a whole
     * log (read amplification), a connect runs the authorizer.
     */
    static final Map<String, int[]> ROUTE_THROTTLES =
            Map.of("subscribe", new int[] {200, 400}, "$connect", new int[] {200, 400});

    private final software.amazon.awscdk.services.apigatewayv2.WebSocketApi api; // same simple name as this construct
    private final WebSocketStage stage;
    private final String stageName;

    public WebSocketApi(Construct scope, String id, StackConfig config) {
        super(scope, id);
        this.stageName = config.stageName();
        this.api = new software.amazon.awscdk.services.apigatewayv2.WebSocketApi(
                this,
                "Api",
                WebSocketApiProps.builder()
                        .apiName(config.stackName() + "-ws")
                        .description("Durable sessions: WebSocket protocol v1 (docs/protocol.md)")
                        .routeSelectionExpression(Routes.SELECTION_EXPRESSION)
                        .build());
        var stageBuilder = WebSocketStage.Builder.create(this, "Stage")
                .webSocketApi(api)
                .stageName(stageName)
                .autoDeploy(true)
                .throttle(ThrottleSettings.builder()
                        .rateLimit(THROTTLE_RATE)
                        .burstLimit(THROTTLE_BURST)
                        .build());
        var accessLogs = AccessLogs.of(
                this,
                this,
                config,
                "{\"requestId\":\"$context.requestId\","
                        + "\"connectionId\":\"$context.connectionId\",\"eventType\":\"$context.eventType\","
                        + "\"routeKey\":\"$context.routeKey\",\"status\":\"$context.status\","
                        + "\"integrationError\":\"$context.integrationErrorMessage\","
                        + "\"authorizerError\":\"$context.authorizer.error\","
                        + "\"sourceIp\":\"$context.identity.sourceIp\",\"time\":\"$context.requestTimeEpoch\"}");
        if (accessLogs != null) stageBuilder.accessLogSettings(accessLogs);
        this.stage = stageBuilder.build();
        Map<String, Object> routeSettings = new TreeMap<>();
        ROUTE_THROTTLES.forEach((route, limits) -> routeSettings.put(
                route, new TreeMap<>(Map.of("ThrottlingRateLimit", limits[0], "ThrottlingBurstLimit", limits[1]))));
        ((CfnStage) stage.getNode().getDefaultChild()).addPropertyOverride("RouteSettings", routeSettings);
    }

    /** Adds a route whose integration invokes {@code target} (an alias) and returns its answer. */
    public WebSocketRoute addRoute(String routeKey, IFunction target, IWebSocketRouteAuthorizer authorizerOrNull) {
        var options = WebSocketRouteOptions.builder()
                .integration(new WebSocketLambdaIntegration(
                        integrationId(routeKey),
                        target,
                        WebSocketLambdaIntegrationProps.builder()
                                .timeout(INTEGRATION_TIMEOUT)
                                .build()))
                .returnResponse(true);
        if (authorizerOrNull != null) options.authorizer(authorizerOrNull);
        return api.addRoute(routeKey, options.build());
    }

    private static String integrationId(String routeKey) {
        return "Integration-" + routeKey.replace("$", "");
    }

    public software.amazon.awscdk.services.apigatewayv2.WebSocketApi api() {
        return api;
    }

    public WebSocketStage stage() {
        return stage;
    }

    public String stageName() {
        return stageName;
    }

    /** wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}: what clients connect to. */
    public String webSocketUrl() {
        return stage.getUrl();
    }

    /** https://{apiId}.execute-api.{region}.amazonaws.com/{stage}: the handlers' MANAGEMENT_ENDPOINT. */
    public String managementEndpoint() {
        return stage.getCallbackUrl();
    }

    /** arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/@connections/* */
    public String connectionsArn(String method) {
        return "arn:" + Aws.PARTITION + ":execute-api:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":" + api.getApiId() + "/"
                + stageName + "/" + method + "/@connections/*";
    }
}
