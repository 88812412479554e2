package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The $connect authorizer is a prop: off by default (its class ships later), on by context. */
class ConnectAuthorizerTest {

    @Test
    void offByDefault() {
        assertThat(StackConfig.defaults().authorizer()).isFalse();
        var r = Synth.of(StackConfig.defaults());
        assertThat(r.ofType("AWS::ApiGatewayV2::Authorizer")).isEmpty();
        assertThat(connectRoute(r).get("AuthorizationType")).isEqualTo("NONE");
        assertThat(r.ofType("AWS::Lambda::Function").values()).noneSatisfy(f ->
                assertThat(Synth.Result.props(f).get("Handler")).isEqualTo(ConnectAuthorizer.HANDLER));
    }

    @Test
    void onGuardsConnectWithARequestAuthorizer() {
        var config = StackConfig.defaults().withAuthorizer(true);
        var r = Synth.of(config);
        var authorizers = r.ofType("AWS::ApiGatewayV2::Authorizer");
        assertThat(authorizers).hasSize(1);
        var a = Synth.Result.props(authorizers.values().iterator().next());
        assertThat(a.get("AuthorizerType")).isEqualTo("REQUEST");
        assertThat(a.get("IdentitySource")).isEqualTo(List.of(ConnectAuthorizer.QUERYSTRING_SOURCE));
        var connect = connectRoute(r);
        assertThat(connect.get("AuthorizationType")).isEqualTo("CUSTOM");
        assertThat(String.valueOf(connect.get("AuthorizerId"))).contains(authorizers.keySet().iterator().next());
        // only $connect: WebSocket APIs authorize at the handshake
        assertThat(r.ofType("AWS::ApiGatewayV2::Route").values().stream().map(Synth.Result::props)
                .filter(p -> "CUSTOM".equals(p.get("AuthorizationType")))).hasSize(1);

        var fn = r.ofType("AWS::Lambda::Function").values().stream().map(Synth.Result::props)
                .filter(p -> ConnectAuthorizer.HANDLER.equals(p.get("Handler"))).toList();
        assertThat(fn).hasSize(1);
        @SuppressWarnings("unchecked")
        var env = (Map<String, Object>) ((Map<String, Object>) fn.get(0).get("Environment")).get("Variables");
        assertThat(env).containsKeys("JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL", "ALLOWED_ORIGINS");
        assertThat(fn.get(0).get("SnapStart")).isEqualTo(Map.of("ApplyOn", "PublishedVersions"));
        // it touches no table and no connection
        String role = String.valueOf(fn.get(0).get("Role"));
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            String roleId = role.replaceAll(".*Fn::GetAtt=\\[([A-Za-z0-9]+), Arn].*", "$1");
            if (!String.valueOf(Synth.Result.props(policy).get("Roles")).contains("Ref=" + roleId + "}")) continue;
            assertThat(String.valueOf(Synth.Result.props(policy).get("PolicyDocument")))
                    .doesNotContain("dynamodb:").doesNotContain("execute-api:");
        }
    }

    @Test
    void browsersMayCarryTheTokenInTheSubprotocolHeader() {
        var config = new StackConfig("DurableSessions", "prod", 30, true, StackConfig.IDENTITY_PROTOCOL, "https://issuer",
                "aud", "https://issuer/.well-known/jwks.json", List.of("https://app.example"), true, true, "", true,
                60_000, java.util.Optional.empty(), true);
        var r = Synth.of(config);
        var a = Synth.Result.props(r.ofType("AWS::ApiGatewayV2::Authorizer").values().iterator().next());
        assertThat(a.get("IdentitySource")).isEqualTo(List.of(ConnectAuthorizer.PROTOCOL_SOURCE));
    }

    static Map<String, Object> connectRoute(Synth.Result r) {
        return r.ofType("AWS::ApiGatewayV2::Route").values().stream().map(Synth.Result::props)
                .filter(p -> "$connect".equals(p.get("RouteKey"))).findFirst().orElseThrow();
    }
}
