package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.functions.auth.ConnectAuthorizer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The $connect authorizer: on by default with the real handler, off when asked, never without a key. */
class WebSocketAuthorizerTest {
    static final String PEM =
            "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtest\n-----END PUBLIC KEY-----";

    @Test
    void onByDefaultGuardingConnectWithTheRealHandler() {
        assertThat(StackConfig.defaults().authorizer()).isTrue();
        assertThat(WebSocketAuthorizer.HANDLER)
                .isEqualTo("io.durablesessions.functions.auth.ConnectAuthorizer::handleRequest");
        var r = Synth.of(Synth.config());
        // the WebSocket API's (the HTTP API's own is under Http…, see SessionHttpApiTest)
        var authorizers = DurableSessionsStackTest.webSocketOnly(r.ofType("AWS::ApiGatewayV2::Authorizer"));
        assertThat(authorizers).hasSize(1);
        var a = Synth.Result.props(authorizers.values().iterator().next());
        assertThat(a.get("AuthorizerType")).isEqualTo("REQUEST");
        assertThat(a.get("IdentitySource")).isEqualTo(List.of(WebSocketAuthorizer.QUERYSTRING_SOURCE));
        // invokes the authorizer function's live alias
        assertThat(String.valueOf(a.get("AuthorizerUri"))).contains("Alias");
        var connect = connectRoute(r);
        assertThat(connect.get("AuthorizationType")).isEqualTo("CUSTOM");
        assertThat(String.valueOf(connect.get("AuthorizerId")))
                .contains(authorizers.keySet().iterator().next());
        // only $connect: WebSocket APIs authorize at the handshake
        assertThat(DurableSessionsStackTest.webSocketOnly(r.ofType("AWS::ApiGatewayV2::Route")).values().stream()
                        .map(Synth.Result::props)
                        .filter(p -> "CUSTOM".equals(p.get("AuthorizationType"))))
                .hasSize(1);

        var fn = authorizerFunction(r);
        // exactly what AuthConfig.fromEnvironment reads (an empty JWT_* variable would count as configured)
        assertThat(env(fn))
                .containsEntry("JWT_ISSUER", Synth.TEST_JWT.issuer())
                .containsEntry("JWT_AUDIENCE", Synth.TEST_JWT.audience())
                .containsEntry("JWT_JWKS_URL", Synth.TEST_JWT.jwksUrl())
                .doesNotContainKeys("JWT_PUBLIC_KEY_PEM", "JWT_HS256_SECRET", "JWKS_URL")
                // the function reads the token only from the identity source API Gateway checks
                .containsEntry(ConnectAuthorizer.ENV_IDENTITY, StackConfig.IDENTITY_QUERYSTRING);
        assertThat(fn.get("SnapStart")).isEqualTo(Map.of("ApplyOn", "PublishedVersions"));
        // it touches no table and no connection
        String role = String.valueOf(fn.get("Role"));
        String roleId = role.replaceAll(".*Fn::GetAtt=\\[([A-Za-z0-9]+), Arn].*", "$1");
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            if (!String.valueOf(Synth.Result.props(policy).get("Roles")).contains("Ref=" + roleId + "}")) continue;
            assertThat(String.valueOf(Synth.Result.props(policy).get("PolicyDocument")))
                    .doesNotContain("dynamodb:")
                    .doesNotContain("execute-api:");
        }
    }

    @Test
    void offWhenAsked() {
        var r = Synth.of(Synth.config().toBuilder().authorizer(false).build());
        assertThat(r.ofType("AWS::ApiGatewayV2::Authorizer")).isEmpty();
        assertThat(connectRoute(r).get("AuthorizationType")).isEqualTo("NONE");
        assertThat(r.ofType("AWS::Lambda::Function").values())
                .noneSatisfy(
                        f -> assertThat(Synth.Result.props(f).get("Handler")).isEqualTo(WebSocketAuthorizer.HANDLER));
        // off needs no token settings at all
        Synth.of(StackConfig.defaults().toBuilder().authorizer(false).build());
    }

    @Test
    void synthFailsClearlyWithoutAVerificationKey() {
        assertThatThrownBy(() -> Synth.synth(StackConfig.defaults(), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'jwksUrl'")
                .hasMessageContaining("'jwtPublicKeyPem'")
                .hasMessageContaining("docs/architecture.md");
        var noIssuer = new StackConfig.Jwt("", "aud", "https://issuer.example.test/jwks.json", "");
        assertThatThrownBy(() ->
                        StackConfig.defaults().toBuilder().jwt(noIssuer).build().requireDeployable())
                .hasMessageContaining("'jwtIssuer'");
        var both = new StackConfig.Jwt(
                "https://issuer.example.test/", "aud", "https://issuer.example.test/jwks.json", PEM);
        assertThatThrownBy(() ->
                        StackConfig.defaults().toBuilder().jwt(both).build().requireDeployable())
                .hasMessageContaining("only one");
        var plainHttp =
                new StackConfig.Jwt("https://issuer.example.test/", "aud", "http://issuer.example.test/jwks", "");
        assertThatThrownBy(() -> StackConfig.defaults().toBuilder()
                        .jwt(plainHttp)
                        .build()
                        .requireDeployable())
                .hasMessageContaining("https://");
    }

    @Test
    void aFixedPublicKeyInsteadOfAJwksUrl() {
        var jwt = new StackConfig.Jwt("https://issuer.example.test/", "aud", "", PEM);
        var fn = authorizerFunction(
                Synth.of(StackConfig.defaults().toBuilder().jwt(jwt).build()));
        assertThat(env(fn)).containsEntry("JWT_PUBLIC_KEY_PEM", PEM).doesNotContainKey("JWT_JWKS_URL");
    }

    @Test
    void browsersMayCarryTheTokenInTheSubprotocolHeader() {
        var r = Synth.of(Synth.config().toBuilder()
                .authorizerIdentity(StackConfig.IDENTITY_PROTOCOL)
                .build());
        var a = Synth.Result.props(DurableSessionsStackTest.webSocketOnly(r.ofType("AWS::ApiGatewayV2::Authorizer"))
                .values()
                .iterator()
                .next());
        assertThat(a.get("IdentitySource")).isEqualTo(List.of(WebSocketAuthorizer.PROTOCOL_SOURCE));
        assertThat(env(authorizerFunction(r)))
                .containsEntry(ConnectAuthorizer.ENV_IDENTITY, StackConfig.IDENTITY_PROTOCOL);
    }

    static Map<String, Object> authorizerFunction(Synth.Result r) {
        var fn = r.ofType("AWS::Lambda::Function").values().stream()
                .map(Synth.Result::props)
                .filter(p -> WebSocketAuthorizer.HANDLER.equals(p.get("Handler")))
                .toList();
        assertThat(fn).hasSize(1);
        return fn.get(0);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> env(Map<String, Object> fn) {
        return (Map<String, Object>) ((Map<String, Object>) fn.get("Environment")).get("Variables");
    }

    static Map<String, Object> connectRoute(Synth.Result r) {
        return r.ofType("AWS::ApiGatewayV2::Route").values().stream()
                .map(Synth.Result::props)
                .filter(p -> "$connect".equals(p.get("RouteKey")))
                .findFirst()
                .orElseThrow();
    }
}
