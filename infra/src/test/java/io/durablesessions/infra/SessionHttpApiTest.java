package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.functions.http.HttpRoutes;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The HTTP API for agents and back ends, as synthesized: routes, authorizers, stage, outputs. */
class SessionHttpApiTest {
    static final String IAM = "{\"arn:aws:iam::123456789012:role/research-agent\": {\"subject\": \"research-agent\", "
            + "\"role\": \"agent\", \"grants\": [{\"prefix\": \"tenant-a:\", \"caps\": [\"read\", \"append\", \"agent\"]}]}}";

    static Map<String, Map<String, Object>> httpOnly(Synth.Result r, String type) {
        return r.ofType(type).entrySet().stream()
                .filter(e -> e.getKey().startsWith("Http"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    static List<String> routeKeys() {
        var keys = new java.util.ArrayList<>(
                HttpRoutes.ALL.stream().map(HttpRoutes.Route::routeKey).toList());
        keys.add("$default");
        return keys;
    }

    static List<Map<String, Object>> props(Map<String, Map<String, Object>> resources) {
        return resources.values().stream().map(Synth.Result::props).toList();
    }

    @Test
    void everyRouteOfTheHandlerIsARouteOfTheApiBehindTheJwtAuthorizer() {
        var r = Synth.of(Synth.config());
        var apis = props(httpOnly(r, "AWS::ApiGatewayV2::Api"));
        assertThat(apis).singleElement().satisfies(a -> {
            assertThat(a.get("ProtocolType")).isEqualTo("HTTP");
            assertThat(a.get("Name")).isEqualTo("DurableSessions-http");
        });
        var routes = props(httpOnly(r, "AWS::ApiGatewayV2::Route"));
        // plus $default, so unknown paths get the function's problem+json 404/405 (behind the authorizer too)
        assertThat(routes.stream().map(p -> p.get("RouteKey"))).containsExactlyInAnyOrderElementsOf(routeKeys());
        assertThat(routes).allSatisfy(p -> {
            assertThat(p.get("AuthorizationType")).isEqualTo("CUSTOM");
            assertThat(String.valueOf(p.get("AuthorizerId"))).contains("JwtAuthorizer");
        });

        // one Lambda proxy integration, payload 2.0, on the HTTP function's live alias
        var integrations = props(httpOnly(r, "AWS::ApiGatewayV2::Integration"));
        assertThat(integrations).singleElement().satisfies(i -> {
            assertThat(i.get("IntegrationType")).isEqualTo("AWS_PROXY");
            assertThat(i.get("PayloadFormatVersion")).isEqualTo("2.0");
            assertThat(String.valueOf(i.get("IntegrationUri")))
                    .contains(DurableSessionsStackTest.aliasOfIn(r, SessionHttpApi.HANDLER));
        });

        // the Lambda authorizer: simple responses, the Authorization header, verdicts cached 5 minutes
        var authorizers = props(httpOnly(r, "AWS::ApiGatewayV2::Authorizer"));
        assertThat(authorizers).singleElement().satisfies(a -> {
            assertThat(a.get("AuthorizerType")).isEqualTo("REQUEST");
            assertThat(a.get("AuthorizerPayloadFormatVersion")).isEqualTo("2.0");
            assertThat(a.get("EnableSimpleResponses")).isEqualTo(true);
            assertThat(a.get("IdentitySource")).isEqualTo(List.of(SessionHttpApi.IDENTITY_SOURCE));
            assertThat(a.get("AuthorizerResultTtlInSeconds")).isEqualTo(300);
            assertThat(String.valueOf(a.get("AuthorizerUri")))
                    .contains(DurableSessionsStackTest.aliasOfIn(r, SessionHttpApi.AUTHORIZER_HANDLER));
        });
    }

    @Test
    void theStageDeploysItselfIsThrottledAndLogsEveryRequest() {
        var r = Synth.of(Synth.config());
        var stages = props(httpOnly(r, "AWS::ApiGatewayV2::Stage"));
        assertThat(stages).singleElement().satisfies(s -> {
            assertThat(s.get("StageName")).isEqualTo("$default");
            assertThat(s.get("AutoDeploy")).isEqualTo(true);
            assertThat(String.valueOf(s.get("DefaultRouteSettings")))
                    .contains("ThrottlingRateLimit=" + SessionHttpApi.THROTTLE_RATE)
                    .contains("ThrottlingBurstLimit=" + SessionHttpApi.THROTTLE_BURST);
            assertThat(String.valueOf(s.get("AccessLogSettings")))
                    .contains("$context.requestId")
                    .contains("$context.authorizer.error");
        });
    }

    @Test
    void onlyThisApiMayInvokeTheFunctionAndTheAuthorizer() {
        var r = Synth.of(Synth.config());
        var permissions = props(r.ofType("AWS::Lambda::Permission")).stream()
                .filter(p -> "apigateway.amazonaws.com".equals(p.get("Principal")))
                .filter(p -> String.valueOf(p.get("SourceArn")).contains("HttpApi"))
                .toList();
        assertThat(permissions).isNotEmpty().allSatisfy(p -> {
            assertThat(p.get("Action")).isEqualTo("lambda:InvokeFunction");
            assertThat(String.valueOf(p.get("SourceArn"))).contains("execute-api");
        });
    }

    @Test
    void theFunctionKnowsTheTokenSettingsTheTablesAndTheManagementApi() {
        var r = Synth.of(Synth.config());
        @SuppressWarnings("unchecked")
        var env = (Map<String, Object>)
                ((Map<String, Object>) DurableSessionsStackTest.functionIn(r, SessionHttpApi.HANDLER)
                                .get("Environment"))
                        .get("Variables");
        assertThat(env)
                .containsEntry("JWT_ISSUER", Synth.TEST_JWT.issuer())
                .containsEntry("JWT_AUDIENCE", Synth.TEST_JWT.audience())
                .containsEntry("JWT_JWKS_URL", Synth.TEST_JWT.jwksUrl())
                .containsKeys("EVENTS_TABLE", "SESSIONS_TABLE", "CONNECTIONS_TABLE", "MANAGEMENT_ENDPOINT")
                .doesNotContainKey("IAM_PRINCIPALS");
    }

    @Test
    void iamPrincipalsAddASecondApiUnderSigV4WithTheSameRoutes() {
        var r = Synth.of(Synth.config().toBuilder().iamPrincipals(IAM).build());
        var apis = httpOnly(r, "AWS::ApiGatewayV2::Api");
        assertThat(props(apis).stream().map(a -> a.get("Name")))
                .containsExactlyInAnyOrder("DurableSessions-http", "DurableSessions-http-iam");
        var iamRoutes = props(httpOnly(r, "AWS::ApiGatewayV2::Route")).stream()
                .filter(p -> "AWS_IAM".equals(p.get("AuthorizationType")))
                .toList();
        assertThat(iamRoutes.stream().map(p -> p.get("RouteKey"))).containsExactlyInAnyOrderElementsOf(routeKeys());
        @SuppressWarnings("unchecked")
        var env = (Map<String, Object>)
                ((Map<String, Object>) DurableSessionsStackTest.functionIn(r, SessionHttpApi.HANDLER)
                                .get("Environment"))
                        .get("Variables");
        assertThat(env).containsEntry("IAM_PRINCIPALS", IAM);
        @SuppressWarnings("unchecked")
        var outputs = (Map<String, Map<String, Object>>) r.json().get("Outputs");
        assertThat(outputs).containsKeys("HttpApiUrl", "IamHttpApiUrl");
    }

    @Test
    void aMalformedIamTableFailsTheSynthNamingTheProblem() {
        assertThatThrownBy(() -> Synth.config().toBuilder()
                        .iamPrincipals("{\"arn:aws:iam::123456789012:role/a\": {\"role\": \"agent\"}}")
                        .build())
                .hasMessageContaining("IAM_PRINCIPALS")
                .hasMessageContaining("subject");
        assertThatThrownBy(() -> Synth.config().toBuilder()
                        .iamPrincipals("{\"not-an-arn\": {}}")
                        .build())
                .hasMessageContaining("not an IAM role or user ARN");
        assertThatThrownBy(() -> Synth.config().toBuilder()
                        .httpApi(false)
                        .iamPrincipals(IAM)
                        .build())
                .hasMessageContaining("httpApi");
        StringBuilder many = new StringBuilder("{");
        for (int i = 0; i < 40; i++) {
            if (i > 0) many.append(',');
            many.append("\"arn:aws:iam::123456789012:role/agent-")
                    .append(i)
                    .append("\": {\"subject\": \"agent-")
                    .append(i)
                    .append("\", \"role\": \"agent\", \"grants\": [{\"prefix\": \"t")
                    .append(i)
                    .append(":\", \"caps\": [\"append\"]}]}");
        }
        String tooBig = many.append('}').toString();
        assertThatThrownBy(
                        () -> Synth.config().toBuilder().iamPrincipals(tooBig).build())
                .hasMessageContaining("4 KB");
    }

    @Test
    void withoutTheHttpApiNothingOfItIsDeployed() {
        var r = Synth.of(Synth.config().toBuilder().httpApi(false).build());
        assertThat(httpOnly(r, "AWS::ApiGatewayV2::Api")).isEmpty();
        assertThat(r.ofType("AWS::Lambda::Function").values().stream()
                        .map(f -> Synth.Result.props(f).get("Handler")))
                .doesNotContain(SessionHttpApi.HANDLER, SessionHttpApi.AUTHORIZER_HANDLER);
        @SuppressWarnings("unchecked")
        var outputs = (Map<String, Map<String, Object>>) r.json().get("Outputs");
        assertThat(outputs).doesNotContainKey("HttpApiUrl");
    }

    @Test
    void withTheAuthorizerOffTheRoutesHaveNoneAndTheFunctionNoTokenKey() {
        // the function then refuses every bearer token (see HttpApiHandler): nothing is open
        var r = Synth.of(Synth.config().toBuilder().authorizer(false).build());
        assertThat(props(httpOnly(r, "AWS::ApiGatewayV2::Route")))
                .allSatisfy(p -> assertThat(p.get("AuthorizationType")).isEqualTo("NONE"));
        assertThat(httpOnly(r, "AWS::ApiGatewayV2::Authorizer")).isEmpty();
        @SuppressWarnings("unchecked")
        var env = (Map<String, Object>)
                ((Map<String, Object>) DurableSessionsStackTest.functionIn(r, SessionHttpApi.HANDLER)
                                .get("Environment"))
                        .get("Variables");
        assertThat(env.keySet()).noneMatch(k -> k.startsWith("JWT_"));
    }
}
