package io.durablesessions.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;

/**
 * The CDK app ({@code cdk.json} runs it through {@code bin/cdk-app}). Settings come from context,
 * see {@link StackConfig}; account and region from the CLI's profile, as usual.
 */
public final class InfraApp {
    private InfraApp() {}

    public static void main(String[] args) {
        App app = new App();
        StackConfig config = StackConfig.fromContext(app.getNode());
        new DurableSessionsStack(
                app,
                config.stackName(),
                StackProps.builder()
                        .env(Environment.builder()
                                .account(System.getenv("CDK_DEFAULT_ACCOUNT"))
                                .region(System.getenv("CDK_DEFAULT_REGION"))
                                .build())
                        .description(
                                "Durable sessions: API Gateway WebSocket, Lambda, DynamoDB event log and Streams fan-out")
                        .build(),
                config,
                FunctionsJar.locate());
        if (config.nag())
            Aspects.of(app)
                    .add(AwsSolutionsChecks.Builder.create().verbose(true).build());
        app.synth();
    }
}
