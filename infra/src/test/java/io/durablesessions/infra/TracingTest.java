package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;

/** {@code tracing}: X-Ray active tracing and the ADOT Java layer on every function, or on none. */
class TracingTest {
    /** The layer CDK resolves for us-east-1 (the tests' region) and arm64. */
    static final String LAYER_ARN =
            "arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-java-wrapper-arm64-ver-1-32-0:4";

    static final Map<String, Object> TRACED = Map.of(
            "TracingConfig", Map.of("Mode", "Active"),
            "Layers", List.of(LAYER_ARN),
            "Environment",
                    Map.of("Variables", Match.objectLike(Map.of("AWS_LAMBDA_EXEC_WRAPPER", "/opt/otel-handler"))));

    @Test
    void offByDefault() {
        var r = Synth.of(Synth.config());
        assertThat(StackConfig.defaults().tracing()).isFalse();
        var t = r.template();
        t.resourcePropertiesCountIs(
                "AWS::Lambda::Function", Match.objectLike(Map.of("TracingConfig", Match.anyValue())), 0);
        t.resourcePropertiesCountIs("AWS::Lambda::Function", Match.objectLike(Map.of("Layers", Match.anyValue())), 0);
        assertThat(actions(r)).noneMatch(a -> a.startsWith("xray:"));
        assertThat(r.json().toString()).doesNotContain("AWS_LAMBDA_EXEC_WRAPPER");
    }

    @Test
    void onEveryFunctionGetsActiveTracingTheLayerItsWrapperAndTheXrayWrites() {
        var r = Synth.of(Synth.config().toBuilder().tracing(true).build());
        var t = r.template();
        t.resourcePropertiesCountIs(
                "AWS::Lambda::Function", Match.objectLike(TRACED), DurableSessionsStackTest.FUNCTIONS);
        assertThat(r.ofType("AWS::Lambda::Function")).hasSize(DurableSessionsStackTest.FUNCTIONS);
        // each function's own role may write to X-Ray (the actions take no resource but *)
        int roles = 0;
        for (var role : r.ofType("AWS::IAM::Role").keySet()) {
            boolean functionRole = r.ofType("AWS::Lambda::Function").values().stream()
                    .anyMatch(f ->
                            String.valueOf(Synth.Result.props(f).get("Role")).contains(role));
            if (!functionRole) continue;
            roles++;
            assertThat(statementsOfRole(r, role)).as("X-Ray writes of " + role).anySatisfy(st -> {
                assertThat(Synth.elements(st.get("Action")))
                        .containsExactlyInAnyOrder("xray:PutTraceSegments", "xray:PutTelemetryRecords");
                assertThat(st.get("Resource")).isEqualTo("*");
            });
        }
        assertThat(roles).isEqualTo(DurableSessionsStackTest.FUNCTIONS);
    }

    @Test
    void onPassesCdkNagWithAReasonForTheXrayWildcard() {
        var r = Synth.synth(Synth.config().toBuilder().tracing(true).build(), true);
        var errors = Annotations.fromStack(r.stack()).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
        assertThat(errors).as("unsuppressed cdk-nag errors").isEmpty();
    }

    @Test
    void readFromContext() {
        App app = new App();
        app.getNode().setContext("tracing", "true");
        assertThat(StackConfig.fromContext(app.getNode()).tracing()).isTrue();
        assertThat(StackConfig.fromContext(new App().getNode()).tracing()).isFalse();
        assertThat(Synth.config().toBuilder().tracing(true).build().toBuilder()
                        .build()
                        .tracing())
                .isTrue();
    }

    static List<String> actions(Synth.Result r) {
        List<String> out = new ArrayList<>();
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            for (var st : DurableSessionsStackTest.statements(policy)) {
                Synth.elements(st.get("Action")).forEach(a -> out.add(String.valueOf(a)));
            }
        }
        return out;
    }

    static List<Map<String, Object>> statementsOfRole(Synth.Result r, String roleId) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            if (!String.valueOf(Synth.Result.props(policy).get("Roles")).contains("Ref=" + roleId + "}")) continue;
            out.addAll(DurableSessionsStackTest.statements(policy));
        }
        return out;
    }
}
