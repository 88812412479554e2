package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;

/** cdk-nag AwsSolutions on the synthesized stack: no unsuppressed error, every suppression explained. */
class NagTest {

    @Test
    void awsSolutionsChecksPassWithReasonedSuppressions() {
        // the default stack: the authorizer on, so its function is checked too
        var r = Synth.synth(Synth.config(), true);
        var errors = Annotations.fromStack(r.stack()).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
        assertThat(errors).as("unsuppressed cdk-nag errors").isEmpty();

        List<Map<String, Object>> suppressions = new ArrayList<>();
        r.resources().values().forEach(res -> suppressions.addAll(suppressionsOf(res)));
        assertThat(suppressions).isNotEmpty();
        assertThat(suppressions).allSatisfy(s -> {
            assertThat(s.get("id")).asString().startsWith("AwsSolutions-");
            assertThat(s.get("reason")).asString().hasSizeGreaterThan(40);
        });
    }

    @Test
    void stackWithoutAuthorizerPassesToo() {
        var r = Synth.synth(Synth.config().toBuilder().authorizer(false).build(), true);
        assertThat(Annotations.fromStack(r.stack()).findError("*", Match.stringLikeRegexp("AwsSolutions-.*")))
                .isEmpty();
    }

    @Test
    void stackWithTheIamHttpApiPassesToo() {
        var r = Synth.synth(
                Synth.config().toBuilder().iamPrincipals(SessionHttpApiTest.IAM).build(), true);
        assertThat(Annotations.fromStack(r.stack()).findError("*", Match.stringLikeRegexp("AwsSolutions-.*")))
                .isEmpty();
    }

    @Test
    void stackWithTheCognitoUserPoolPassesToo() {
        var r = Synth.synth(StackConfig.defaults().toBuilder().cognito(true).build(), true);
        var errors = Annotations.fromStack(r.stack()).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
        assertThat(errors).as("unsuppressed cdk-nag errors").isEmpty();
        var pools = r.ofType("AWS::Cognito::UserPool").values();
        assertThat(pools)
                .singleElement()
                .satisfies(p -> assertThat(suppressionsOf(p))
                        .extracting(s -> s.get("id"))
                        .containsExactlyInAnyOrder("AwsSolutions-COG2", "AwsSolutions-COG3"));
    }

    /** Control: the same check does report a violation, so an empty result above means something. */
    @Test
    void theCheckSeesViolations() {
        var app = new software.amazon.awscdk.App();
        var stack = new software.amazon.awscdk.Stack(app, "Control");
        new software.amazon.awscdk.services.sqs.Queue(stack, "PlainQueue");
        software.amazon.awscdk.Aspects.of(app)
                .add(io.github.cdklabs.cdknag.AwsSolutionsChecks.Builder.create()
                        .build());
        software.amazon.awscdk.assertions.Template.fromStack(stack);
        assertThat(Annotations.fromStack(stack).findError("*", Match.stringLikeRegexp("AwsSolutions-SQS.*")))
                .isNotEmpty();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> suppressionsOf(Map<String, Object> resource) {
        var metadata = (Map<String, Object>) resource.get("Metadata");
        if (metadata == null) return List.of();
        var nag = (Map<String, Object>) metadata.get("cdk_nag");
        if (nag == null) return List.of();
        return (List<Map<String, Object>>) nag.getOrDefault("rules_to_suppress", List.of());
    }
}
