package io.durablesessions.infra;

import io.durablesessions.functions.auth.HttpAuthorizer;
import io.durablesessions.functions.auth.IamPrincipals;
import io.durablesessions.functions.http.HttpApiHandler;
import io.durablesessions.functions.http.HttpRoutes;
import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.HttpIamAuthorizer;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.HttpLambdaAuthorizer;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.HttpLambdaAuthorizerProps;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.HttpLambdaResponseType;
import software.amazon.awscdk.aws_apigatewayv2_integrations.HttpLambdaIntegration;
import software.amazon.awscdk.services.apigatewayv2.AddRoutesOptions;
import software.amazon.awscdk.services.apigatewayv2.HttpApi;
import software.amazon.awscdk.services.apigatewayv2.HttpMethod;
import software.amazon.awscdk.services.apigatewayv2.HttpStage;
import software.amazon.awscdk.services.apigatewayv2.IHttpRouteAuthorizer;
import software.amazon.awscdk.services.apigatewayv2.ThrottleSettings;
import software.amazon.awscdk.services.lambda.Code;
import software.constructs.Construct;

/**
 * The HTTP API for agents and back ends (docs/protocol.md, HTTP API; docs/openapi.yaml): one route
 * per {@link HttpRoutes#ALL} entry, all served by one function, {@link HttpApiHandler}, invoked
 * through its {@code live} alias with payload format 2.0.
 *
 * <ul>
 *   <li>JWT API (always, unless {@code -c httpApi=false}): every route guarded by
 *       {@link HttpAuthorizer}, a Lambda authorizer that verifies {@code Authorization: Bearer <jwt>}
 *       with the WebSocket's token settings and passes the principal on; verdicts are cached per
 *       header value for {@link #AUTHORIZER_CACHE} (the principal carries the token's expiry and the
 *       function refuses it once passed; revocation is checked on every request). A Lambda
 *       authorizer rather than API Gateway's JWT authorizer: that one needs OIDC discovery (no
 *       fixed PEM key) and flattens the {@code grants} claim into a string.</li>
 *   <li>IAM API (only with {@code -c iamPrincipals=…}): the same routes under SigV4
 *       ({@code AWS_IAM}) authorization, for agents running in AWS under a role; the function maps
 *       the caller's ARN to a subject, role and grants with {@link IamPrincipals}. Callers also need
 *       {@code execute-api:Invoke} on this API in their own policy.</li>
 * </ul>
 */
public final class SessionHttpApi extends Construct {
    public static final String HANDLER = HttpApiHandler.class.getName() + "::handleRequest";
    public static final String AUTHORIZER_HANDLER = HttpAuthorizer.class.getName() + "::handleRequest";
    public static final String IDENTITY_SOURCE = "$request.header.Authorization";
    /** How long API Gateway reuses an authorizer verdict for the same Authorization header. */
    public static final Duration AUTHORIZER_CACHE = Duration.minutes(5);
    /**
     * An erase of a very large session may outlast this; it is idempotent (SESSION row last), so
     * DELETE again. Appends and reads take well under a second.
     */
    static final Duration TIMEOUT = Duration.seconds(29);
    /** Per-stage default throttle: a ceiling against runaway callers, far below the account's 10,000 rps. */
    static final int THROTTLE_RATE = 1000;

    static final int THROTTLE_BURST = 2000;

    private final JavaFunction function;
    private final JavaFunction authorizerFunction;
    private final HttpApi jwtApi;
    private final HttpApi iamApi;

    public SessionHttpApi(
            Construct scope, String id, Code code, SessionTables tables, WebSocketApi webSocket, StackConfig config) {
        super(scope, id);
        Map<String, String> env =
                JavaFunction.handlerEnvironment(tables, webSocket, config); // + session_deleted frames
        if (config.authorizer()) env.putAll(config.jwt().environment());
        if (config.iamHttpApi()) env.put(IamPrincipals.ENV, config.iamPrincipals());
        this.function = new JavaFunction(
                this,
                "Function",
                new JavaFunction.Spec(
                        HANDLER,
                        "HTTP API",
                        RouteFunctions.MEMORY_MB,
                        TIMEOUT,
                        config.snapStart(),
                        env,
                        Permissions.httpApi()),
                code,
                tables,
                webSocket,
                config);

        IHttpRouteAuthorizer jwt = null;
        if (config.authorizer()) {
            config.jwt().requireUsable();
            this.authorizerFunction = new JavaFunction(
                    this,
                    "Authorizer",
                    new JavaFunction.Spec(
                            AUTHORIZER_HANDLER,
                            "HTTP API authorizer",
                            RouteFunctions.MEMORY_MB,
                            Duration.seconds(10),
                            config.snapStart(),
                            config.jwt().environment(),
                            Permissions.authorizer()),
                    code,
                    tables,
                    webSocket,
                    config);
            jwt = new HttpLambdaAuthorizer(
                    "JwtAuthorizer",
                    authorizerFunction.alias(),
                    HttpLambdaAuthorizerProps.builder()
                            .responseTypes(List.of(HttpLambdaResponseType.SIMPLE))
                            .identitySource(List.of(IDENTITY_SOURCE))
                            .resultsCacheTtl(AUTHORIZER_CACHE)
                            .build());
        } else {
            this.authorizerFunction = null;
        }
        this.jwtApi = api("Api", config.stackName() + "-http", "Durable sessions HTTP API v1, bearer JWT", jwt, config);
        if (jwt == null) {
            NagSuppressions.addResourceSuppressions(
                    jwtApi,
                    List.of(NagPackSuppression.builder()
                            .id("AwsSolutions-APIG4")
                            .reason(
                                    "the authorizer was switched off for this deployment (-c authorizer=false); the function "
                                            + "then has no token key and refuses every request with 401, so nothing is reachable "
                                            + "unauthenticated")
                            .build()),
                    true);
        }
        this.iamApi = config.iamHttpApi()
                ? api(
                        "IamApi",
                        config.stackName() + "-http-iam",
                        "Durable sessions HTTP API v1, IAM (SigV4)",
                        new HttpIamAuthorizer(),
                        config)
                : null;
    }

    private HttpApi api(
            String id, String name, String description, IHttpRouteAuthorizer authorizer, StackConfig config) {
        Construct scope = new Construct(this, id);
        HttpLambdaIntegration integration = new HttpLambdaIntegration("Integration", function.alias());
        // $default too: an unknown path or method reaches the function, which answers problem+json
        // (404 UNKNOWN_ACTION, 405 with Allow) instead of API Gateway's bare {"message":"Not Found"}
        var builder = HttpApi.Builder.create(scope, "Api")
                .apiName(name)
                .description(description)
                .createDefaultStage(false)
                .defaultIntegration(integration);
        if (authorizer != null) builder.defaultAuthorizer(authorizer);
        HttpApi api = builder.build();
        var stage = HttpStage.Builder.create(scope, "Stage")
                .httpApi(api)
                .stageName("$default")
                .autoDeploy(true)
                .throttle(ThrottleSettings.builder()
                        .rateLimit(THROTTLE_RATE)
                        .burstLimit(THROTTLE_BURST)
                        .build());
        var logs = AccessLogs.of(
                scope,
                api,
                config,
                "{\"requestId\":\"$context.requestId\","
                        + "\"routeKey\":\"$context.routeKey\",\"status\":\"$context.status\","
                        + "\"integrationError\":\"$context.integrationErrorMessage\","
                        + "\"authorizerError\":\"$context.authorizer.error\",\"caller\":\"$context.identity.userArn\","
                        + "\"sourceIp\":\"$context.identity.sourceIp\",\"time\":\"$context.requestTimeEpoch\"}");
        if (logs != null) stage.accessLogSettings(logs);
        stage.build();
        for (HttpRoutes.Route r : HttpRoutes.ALL) {
            var options = AddRoutesOptions.builder()
                    .path(r.path())
                    .methods(List.of(HttpMethod.valueOf(r.method())))
                    .integration(integration);
            if (authorizer != null) options.authorizer(authorizer);
            api.addRoutes(options.build());
        }
        return api;
    }

    public JavaFunction function() {
        return function;
    }

    /** The JWT authorizer's function, or null when the authorizer is off. */
    public JavaFunction authorizerFunction() {
        return authorizerFunction;
    }

    public HttpApi jwtApi() {
        return jwtApi;
    }

    /** The IAM-authorized API, or null when no IAM caller is configured. */
    public HttpApi iamApi() {
        return iamApi;
    }

    /** https://{apiId}.execute-api.{region}.amazonaws.com (the $default stage): append /v1/sessions. */
    public String url() {
        return jwtApi.getApiEndpoint();
    }
}
