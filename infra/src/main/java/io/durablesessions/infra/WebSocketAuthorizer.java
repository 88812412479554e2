package io.durablesessions.infra;

import io.durablesessions.functions.auth.ConnectAuthorizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.WebSocketLambdaAuthorizer;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.WebSocketLambdaAuthorizerProps;
import software.amazon.awscdk.services.lambda.Code;
import software.constructs.Construct;

/**
 * The {@code $connect} REQUEST authorizer, {@link ConnectAuthorizer}
 * (prop {@code authorizer}, on by default). It verifies the client's JWT (signature against the
 * configured JWKS URL or public key, {@code iss}, {@code aud}, expiry) and hands the verified
 * principal to {@code $connect} in the authorizer context; {@code $connect} refuses connections
 * without one. It calls no AWS API, so its role grants nothing beyond its own log group (fetching
 * the JWKS is plain HTTPS).
 *
 * <p>A WebSocket REQUEST authorizer refuses the handshake without invoking the function when any of
 * its identity sources is missing, so exactly one is configured: the query string {@code token}
 * (back ends, agents; the default) or the {@code Sec-WebSocket-Protocol} header (browsers, which
 * cannot set other headers on a WebSocket, offer {@code token.<jwt>} as a subprotocol).
 */
public final class WebSocketAuthorizer extends Construct {
    public static final String HANDLER = ConnectAuthorizer.class.getName() + "::handleRequest";
    public static final String QUERYSTRING_SOURCE = "route.request.querystring.token";
    public static final String PROTOCOL_SOURCE = "route.request.header.Sec-WebSocket-Protocol";

    private final JavaFunction function;
    private final WebSocketLambdaAuthorizer authorizer;

    public WebSocketAuthorizer(
            Construct scope, String id, Code code, SessionTables tables, WebSocketApi api, StackConfig config) {
        super(scope, id);
        config.jwt().requireUsable();
        Map<String, String> env = new LinkedHashMap<>(config.jwt().environment());
        // the function reads the token only where API Gateway was told to look for it
        env.put(ConnectAuthorizer.ENV_IDENTITY, config.authorizerIdentity());
        // 1024 MB / SnapStart like the routes: it runs on every connect, in the handshake's latency;
        // 10 s covers a JWKS fetch on a cold container
        var spec = new JavaFunction.Spec(
                HANDLER,
                "$connect authorizer",
                RouteFunctions.MEMORY_MB,
                Duration.seconds(10),
                config.snapStart(),
                env,
                Permissions.authorizer());
        this.function = new JavaFunction(this, "Function", spec, code, tables, api, config);
        String source = config.authorizerIdentity().equals(StackConfig.IDENTITY_PROTOCOL)
                ? PROTOCOL_SOURCE
                : QUERYSTRING_SOURCE;
        this.authorizer = new WebSocketLambdaAuthorizer(
                "ConnectAuthorizer",
                function.alias(),
                WebSocketLambdaAuthorizerProps.builder()
                        .identitySource(List.of(source))
                        .build());
    }

    public WebSocketLambdaAuthorizer authorizer() {
        return authorizer;
    }

    public JavaFunction function() {
        return function;
    }
}
