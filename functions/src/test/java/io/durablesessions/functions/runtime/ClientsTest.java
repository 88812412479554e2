package io.durablesessions.functions.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.events.ErrorCode;
import io.durablesessions.functions.store.Conflicts;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.AcquireInitialTokenRequest;
import software.amazon.awssdk.retries.api.RefreshRetryTokenRequest;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.retries.api.TokenAcquisitionFailedException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

/** The store's DynamoDB client retries what DynamoDB refuses for an in-flight transaction. */
class ClientsTest {
    static LocalDynamoDb db;
    static DynamoDbClient ddb;

    @BeforeAll
    static void start() {
        db = LocalDynamoDb.start();
        ddb = Clients.dynamo(Region.US_EAST_1, db.endpoint());
        ddb.createTable(t -> t.tableName("items")
                .billingMode("PAY_PER_REQUEST")
                .attributeDefinitions(a -> a.attributeName("pk").attributeType("S"))
                .keySchema(k -> k.attributeName("pk").keyType("HASH")));
    }

    @AfterAll
    static void stop() {
        ddb.close();
        db.close();
    }

    static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk));
    }

    @Test
    void aSingleItemWriteRefusedForAnInFlightTransactionIsSentAgainAndSucceeds() {
        // seed 1540 at 60 %: the first two requests on the held item conflict, the third does not
        db.faults().transactionConflicts(0.6, Duration.ofMinutes(5), 1540);
        try {
            ddb.transactWriteItems(r -> r.transactItems(TransactWriteItem.builder()
                    .put(p -> p.tableName("items").item(key("held")))
                    .build()));
            db.stats().reset();
            ddb.updateItem(u -> u.tableName("items")
                    .key(key("held"))
                    .updateExpression("SET v = :v")
                    .expressionAttributeValues(Map.of(":v", AttributeValue.fromN("2"))));
            assertThat(db.faults().transactionConflictExceptions()).isEqualTo(2);
            assertThat(db.stats().snapshot().requests("UpdateItem")).isEqualTo(3);
            assertThat(ddb.getItem(g -> g.tableName("items").key(key("held")).consistentRead(true))
                            .item()
                            .get("v")
                            .n())
                    .isEqualTo("2");
        } finally {
            db.faults().clear();
        }
    }

    @Test
    void inLambdaTheClientKeepsDynamoDbsRetryDefaultsAndAddsConflicts() {
        // the client Lambda builds (no endpoint override); nothing is sent
        try (DynamoDbClient lambda = Clients.dynamo(Region.US_EAST_1, null)) {
            RetryStrategy strategy = lambda.serviceClientConfiguration()
                    .overrideConfiguration()
                    .retryStrategy()
                    .orElseThrow();
            assertThat(strategy.maxAttempts())
                    .as("DynamoDB's own default attempts")
                    .isGreaterThan(3);
            assertThat(retries(
                            strategy,
                            TransactionConflictException.builder()
                                    .message("ongoing")
                                    .awsErrorDetails(error("TransactionConflictException"))
                                    .statusCode(400)
                                    .build()))
                    .isTrue();
            assertThat(retries(
                            strategy,
                            ConditionalCheckFailedException.builder()
                                    .message("no")
                                    .awsErrorDetails(error("ConditionalCheckFailedException"))
                                    .statusCode(400)
                                    .build()))
                    .isFalse();
            assertThat(retries(
                            strategy,
                            TransactionCanceledException.builder()
                                    .message("no")
                                    .awsErrorDetails(error("TransactionCanceledException"))
                                    .statusCode(400)
                                    .build()))
                    .isFalse();
        }
    }

    static AwsErrorDetails error(String code) {
        return AwsErrorDetails.builder()
                .errorCode(code)
                .errorMessage(code)
                .serviceName("DynamoDb")
                .build();
    }

    /** Whether the strategy would send the request again after this failure. */
    static boolean retries(RetryStrategy strategy, Throwable failure) {
        var token = strategy.acquireInitialToken(AcquireInitialTokenRequest.create("test"))
                .token();
        try {
            strategy.refreshRetryToken(RefreshRetryTokenRequest.builder()
                    .token(token)
                    .failure(failure)
                    .build());
            return true;
        } catch (TokenAcquisitionFailedException refused) {
            return false;
        }
    }

    @Test
    void aConflictOutlastingEveryRetryIsAConflictNotAnInternalError() {
        db.faults().transactionConflicts(1.0, Duration.ofMinutes(5), 7);
        try {
            ddb.transactWriteItems(r -> r.transactItems(TransactWriteItem.builder()
                    .put(p -> p.tableName("items").item(key("stuck")))
                    .build()));
            assertThatThrownBy(() -> ddb.deleteItem(d -> d.tableName("items").key(key("stuck"))))
                    .isInstanceOf(TransactionConflictException.class)
                    .satisfies(e -> assertThat(Conflicts.isConflict(e)).isTrue());
            assertThatThrownBy(() -> ddb.transactWriteItems(r -> r.transactItems(TransactWriteItem.builder()
                            .delete(d -> d.tableName("items").key(key("stuck")))
                            .build())))
                    .isInstanceOfSatisfying(TransactionCanceledException.class, e -> {
                        assertThat(e.cancellationReasons())
                                .extracting(CancellationReason::code)
                                .isEqualTo(List.of("TransactionConflict"));
                        assertThat(Conflicts.isConflict(e)).isTrue();
                    });
        } finally {
            db.faults().clear();
        }
        // a failed condition is not a conflict
        assertThatThrownBy(() -> ddb.transactWriteItems(r -> r.transactItems(TransactWriteItem.builder()
                        .put(p ->
                                p.tableName("items").item(key("stuck")).conditionExpression("attribute_not_exists(pk)"))
                        .build())))
                .isInstanceOfSatisfying(
                        TransactionCanceledException.class,
                        e -> assertThat(Conflicts.isConflict(e)).isFalse());
        assertThat(ErrorCode.CONTENTION).isNotNull();
    }
}
