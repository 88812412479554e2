package io.durablesessions.functions.runtime;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.apigatewaymanagementapi.ApiGatewayManagementApiClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Builds the SDK clients once per container. In Lambda the region and credentials come from the
 * environment; the local stack passes loopback endpoints and dummy credentials instead.
 */
public final class Clients {
    private Clients() {}

    public static DynamoDbClient dynamo(Region region, URI endpointOrNull) {
        var b = DynamoDbClient.builder().region(region).httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(credentials(endpointOrNull));
        if (endpointOrNull != null) {
            // the embedded endpoint can drop a kept-alive connection under a burst; retry IO errors
            // without the standard strategy's circuit breaker (TransactWriteItems carries an
            // idempotency token, so a retried transaction is never applied twice)
            b.endpointOverride(endpointOrNull).overrideConfiguration(ClientOverrideConfiguration.builder()
                    .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(6)
                            .circuitBreakerEnabled(false).build())
                    .build());
        }
        return b.build();
    }

    public static ApiGatewayManagementApiClient management(Region region, URI endpoint, boolean local) {
        // fail fast: a failed post is retried by the stream's event source (whole batch, in order),
        // not by stalling this invocation in SDK backoff
        return ApiGatewayManagementApiClient.builder().region(region).httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(credentials(local ? endpoint : null)).endpointOverride(endpoint)
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(2).build()))
                .build();
    }

    private static AwsCredentialsProvider credentials(URI localEndpoint) {
        // a loopback endpoint is the local stack: it ignores signatures, but the SDK still signs
        // in Lambda the default chain finds the function's role; with SnapStart that is the container
        // credentials endpoint, not environment variables, so a fixed env-only provider would fail
        return localEndpoint != null ? StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))
                : DefaultCredentialsProvider.builder().build();
    }
}
