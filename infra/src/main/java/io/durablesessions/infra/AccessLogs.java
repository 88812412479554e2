package io.durablesessions.infra;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import java.util.List;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.apigateway.AccessLogFormat;
import software.amazon.awscdk.services.apigatewayv2.IAccessLogDestination;
import software.amazon.awscdk.services.apigatewayv2.IAccessLogSettings;
import software.amazon.awscdk.services.apigatewayv2.LogGroupLogDestination;
import software.amazon.awscdk.services.logs.LogGroup;
import software.constructs.Construct;

/**
 * An API Gateway stage's access logs: a log group with the configured retention and a JSON line
 * per request. Off with {@code -c accessLogs=false} (accounts without the API Gateway CloudWatch
 * Logs role), then recorded as a reviewed cdk-nag exception on {@code api}.
 */
final class AccessLogs {
    private AccessLogs() {}

    /** Settings for a stage, or null (and the suppression on {@code api}) when access logs are off. */
    static IAccessLogSettings of(Construct scope, Construct api, StackConfig config, String jsonFormat) {
        if (!config.accessLogs()) {
            NagSuppressions.addResourceSuppressions(
                    api,
                    List.of(NagPackSuppression.builder()
                            .id("AwsSolutions-APIG1")
                            .reason(
                                    "access logs switched off for this deployment with -c accessLogs=false (accounts without "
                                            + "the API Gateway CloudWatch Logs role); Lambda logs still record every request")
                            .build()),
                    true);
            return null;
        }
        LogGroup group = LogGroup.Builder.create(scope, "AccessLogs")
                .retention(config.retention())
                .removalPolicy(RemovalPolicy.DESTROY)
                .build();
        return new IAccessLogSettings() {
            @Override
            public IAccessLogDestination getDestination() {
                return new LogGroupLogDestination(group);
            }

            @Override
            public AccessLogFormat getFormat() {
                return AccessLogFormat.custom(jsonFormat);
            }
        };
    }
}
