package io.durablesessions.functions.runtime;

import java.net.URI;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.apigatewaymanagementapi.ApiGatewayManagementApiClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

/**
 * Builds the SDK clients once per container. In Lambda the region and credentials come from the
 * environment; the local stack passes loopback endpoints and dummy credentials instead.
 */
public final class Clients {
    private Clients() {}

    public static DynamoDbClient dynamo(Region region, URI endpointOrNull) {
        return dynamo(region, endpointOrNull, List.of());
    }

    /** As {@link #dynamo(Region, URI)}, with interceptors that see every request (tests' probes). */
    public static DynamoDbClient dynamo(Region region, URI endpointOrNull, List<ExecutionInterceptor> interceptors) {
        var b = DynamoDbClient.builder()
                .region(region)
                .httpClient(BufferedBodyHttpClient.create())
                .credentialsProvider(credentials(endpointOrNull));
        if (endpointOrNull != null) {
            // the embedded endpoint can drop a kept-alive connection under a burst; retry IO errors
            // without the standard strategy's circuit breaker (TransactWriteItems carries an
            // idempotency token, so a retried transaction is never applied twice)
            var retries = AwsRetryStrategy.standardRetryStrategy().toBuilder()
                    .maxAttempts(6)
                    .circuitBreakerEnabled(false);
            retryTransactionConflicts(retries);
            b.endpointOverride(endpointOrNull)
                    .overrideConfiguration(ClientOverrideConfiguration.builder()
                            .retryStrategy(retries.build())
                            .executionInterceptors(interceptors)
                            .build());
        } else {
            // DynamoDB's own defaults (attempts, backoff), plus conflicts
            b.overrideConfiguration(
                    c -> c.retryStrategy(Clients::retryTransactionConflicts).executionInterceptors(interceptors));
        }
        return b.build();
    }

    /**
     * DynamoDB refuses a PutItem, UpdateItem or DeleteItem on an item that an in-flight transaction
     * holds with TransactionConflictException, and the SDK does not retry that code by itself. The
     * refused write changed nothing, so sending it again is always safe (conditions are evaluated
     * anew): every single-item write of the store is retried here, in one place. Transactions are
     * cancelled instead (TransactionCanceledException, reason TransactionConflict); their callers
     * re-read and retry, because a transaction's conditions come from what it read.
     */
    static void retryTransactionConflicts(RetryStrategy.Builder<?, ?> b) {
        b.retryOnExceptionInstanceOf(TransactionConflictException.class);
    }

    public static ApiGatewayManagementApiClient management(Region region, URI endpoint, boolean local) {
        // fail fast: a failed post is retried by the stream's event source (whole batch, in order),
        // not by stalling this invocation in SDK backoff
        return ApiGatewayManagementApiClient.builder()
                .region(region)
                .httpClient(BufferedBodyHttpClient.create())
                .credentialsProvider(credentials(local ? endpoint : null))
                .endpointOverride(endpoint)
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(2)
                        .build()))
                .build();
    }

    private static AwsCredentialsProvider credentials(URI endpoint) {
        // a plain-http endpoint is an emulator (the local stack's, moto, LocalStack): it ignores
        // signatures, but the SDK still signs. An https endpoint is a real service (e.g. a real table
        // given with -Ddynamo.endpoint): the default chain, as in Lambda, where it finds the function's
        // role; with SnapStart that is the container credentials endpoint, not environment variables,
        // so a fixed env-only provider would fail
        return endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme())
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))
                : DefaultCredentialsProvider.builder().build();
    }
}
