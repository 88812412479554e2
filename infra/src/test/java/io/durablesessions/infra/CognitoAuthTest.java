package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Match;

/** -c cognito=true: the stack's own user pool, app client and token trigger, trusted by the authorizers. */
class CognitoAuthTest {
    static StackConfig cognito() {
        return StackConfig.defaults().toBuilder().cognito(true).build();
    }

    static String triggerFunctionId(Synth.Result r) {
        return r.ofType("AWS::Lambda::Function").entrySet().stream()
                .filter(e -> CognitoAuth.HANDLER.equals(
                        Synth.Result.props(e.getValue()).get("Handler")))
                .map(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aUserPoolWithTheVersion2TriggerOnTheTriggersAliasAndNoSelfSignUp() {
        var r = Synth.of(cognito());
        r.template().resourceCountIs("AWS::Cognito::UserPool", 1);
        r.template()
                .hasResourceProperties(
                        "AWS::Cognito::UserPool",
                        Match.objectLike(Map.of(
                                "UserPoolTier", "ESSENTIALS",
                                "AdminCreateUserConfig", Map.of("AllowAdminCreateUserOnly", true),
                                "UsernameAttributes", List.of("email"),
                                "MfaConfiguration", "OPTIONAL",
                                "Policies",
                                        Map.of(
                                                "PasswordPolicy",
                                                Match.objectLike(Map.of(
                                                        "MinimumLength",
                                                        12,
                                                        "RequireSymbols",
                                                        true,
                                                        "RequireUppercase",
                                                        true))),
                                "Schema",
                                        Match.arrayWith(List.of(Match.objectLike(Map.of(
                                                "Name",
                                                CognitoAuth.GRANTS_ATTRIBUTE,
                                                "AttributeDataType",
                                                "String",
                                                "Mutable",
                                                true)))),
                                "LambdaConfig",
                                        Map.of(
                                                "PreTokenGenerationConfig",
                                                Map.of(
                                                        "LambdaVersion",
                                                        "V2_0",
                                                        "LambdaArn",
                                                        Map.of(
                                                                "Ref",
                                                                Match.stringLikeRegexp(".*ClaimsTriggerAlias.*")))))));
        // kept when the stack goes: it is the user directory
        r.template().hasResource("AWS::Cognito::UserPool", Match.objectLike(Map.of("DeletionPolicy", "Retain")));
        // Cognito may invoke the trigger's alias, for this pool only
        r.template()
                .hasResourceProperties(
                        "AWS::Lambda::Permission",
                        Match.objectLike(Map.of(
                                "Principal", "cognito-idp.amazonaws.com",
                                "FunctionName", Map.of("Ref", Match.stringLikeRegexp(".*ClaimsTriggerAlias.*")),
                                "SourceArn",
                                        Map.of("Fn::GetAtt", List.of(Match.stringLikeRegexp(".*UserPool.*"), "Arn")))));
    }

    @Test
    void theTriggerRunsTheRealHandlerAndMayOnlyWriteItsLogs() {
        var r = Synth.of(cognito());
        String fnId = triggerFunctionId(r);
        var fn = Synth.Result.props(r.resources().get(fnId));
        assertThat(fn.get("Runtime")).isEqualTo("java21");
        assertThat(fn.get("Timeout")).isEqualTo(5);
        String roleId = String.valueOf(fn.get("Role")).replaceAll(".*Fn::GetAtt=\\[([A-Za-z0-9]+), Arn].*", "$1");
        var policies = r.ofType("AWS::IAM::Policy").values().stream()
                .filter(p -> String.valueOf(Synth.Result.props(p).get("Roles")).contains("Ref=" + roleId + "}"))
                .toList();
        assertThat(policies).hasSize(1);
        String doc = String.valueOf(Synth.Result.props(policies.get(0)).get("PolicyDocument"));
        assertThat(doc)
                .contains("logs:CreateLogStream")
                .contains("logs:PutLogEvents")
                .doesNotContain("dynamodb:")
                .doesNotContain("execute-api:")
                .doesNotContain("cognito-idp:");
    }

    @Test
    void threeRoleGroupsAndAnAppClientThatCannotWriteGrants() {
        var r = Synth.of(cognito());
        r.template().resourceCountIs("AWS::Cognito::UserPoolGroup", 3);
        for (String g : List.of("agent", "client", "viewer")) {
            r.template().hasResourceProperties("AWS::Cognito::UserPoolGroup", Match.objectLike(Map.of("GroupName", g)));
        }
        r.template().resourceCountIs("AWS::Cognito::UserPoolClient", 1);
        r.template()
                .hasResourceProperties(
                        "AWS::Cognito::UserPoolClient",
                        Match.objectLike(Map.of(
                                "GenerateSecret",
                                false,
                                "ExplicitAuthFlows",
                                Match.arrayWith(List.of("ALLOW_USER_SRP_AUTH")),
                                "PreventUserExistenceErrors",
                                "ENABLED",
                                "ReadAttributes",
                                Match.arrayWith(List.of("custom:" + CognitoAuth.GRANTS_ATTRIBUTE)))));
        var client = Synth.Result.props(
                r.ofType("AWS::Cognito::UserPoolClient").values().iterator().next());
        assertThat(String.valueOf(client.get("WriteAttributes")))
                .contains("email")
                .doesNotContain("grants");
        assertThat(client).doesNotContainKeys("AllowedOAuthFlows", "CallbackURLs");
    }

    @Test
    void theAuthorizersTrustThePoolsIdTokens() {
        var r = Synth.of(cognito());
        var env = WebSocketAuthorizerTest.env(WebSocketAuthorizerTest.authorizerFunction(r));
        String issuer = String.valueOf(env.get("JWT_ISSUER"));
        assertThat(issuer)
                .contains("https://cognito-idp.")
                .contains(".amazonaws.com/")
                .contains("UserPool");
        assertThat(String.valueOf(env.get("JWT_JWKS_URL"))).contains("UserPool").contains("/.well-known/jwks.json");
        assertThat(String.valueOf(env.get("JWT_AUDIENCE"))).contains("AppClient");
        assertThat(env).doesNotContainKey("JWT_PUBLIC_KEY_PEM");
        r.template().hasOutput("UserPoolId", Match.anyValue());
        r.template().hasOutput("UserPoolClientId", Match.anyValue());
        r.template().hasOutput("JwtIssuer", Match.anyValue());
        // off by default: no pool
        assertThat(Synth.of(Synth.config()).ofType("AWS::Cognito::UserPool")).isEmpty();
    }

    @Test
    void eitherThePoolOrAnIssuerAndASynthWithoutEitherNamesBoth() {
        assertThatThrownBy(
                        () -> cognito().toBuilder().jwt(Synth.TEST_JWT).build().requireDeployable())
                .hasMessageContaining("leave 'jwtIssuer'");
        assertThatThrownBy(() -> cognito().toBuilder().authorizer(false).build().requireDeployable())
                .hasMessageContaining("needs the authorizer");
        assertThatThrownBy(() -> StackConfig.defaults().requireDeployable())
                .hasMessageContaining("-c cognito=true")
                .hasMessageContaining("Auth0");
    }
}
