package io.durablesessions.infra;

import io.durablesessions.functions.fanout.FanoutHandler;
import io.durablesessions.functions.fanout.FanoutMapping;
import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import io.github.cdklabs.cdknag.RegexAppliesTo;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.EventSourceMapping;
import software.amazon.awscdk.services.lambda.StartingPosition;
import software.amazon.awscdk.services.lambda.eventsources.SqsDlq;
import software.amazon.awscdk.services.sqs.Queue;
import software.amazon.awscdk.services.sqs.QueueEncryption;
import software.constructs.Construct;

/**
 * The fan-out: the events table's stream → {@link FanoutHandler} → PostToConnection to every
 * subscriber. The event source mapping takes every setting from {@link FanoutMapping}, the one
 * definition the local stack's emulated mapping uses too. Batches that still fail after the
 * bounded retries (or grow older than the maximum record age) are described in an SQS queue
 * (on-failure destination) instead of blocking their shard.
 */
public final class FanoutFunction extends Construct {
    public static final String HANDLER = FanoutHandler.class.getName() + "::handleRequest";
    /**
     * 1024 MB like the routes (JVM start is CPU-bound); 60 s: a batch of up to 100 events to every
     * subscriber of their sessions, with fail-fast posts (2 SDK attempts), fits easily; a hung batch
     * is cut off and retried rather than holding its shard for long.
     */
    static final int MEMORY_MB = 1024;

    static final Duration TIMEOUT = Duration.seconds(60);

    /** At most this many fan-out invocations at once. */
    static final int RESERVED_CONCURRENCY = 50;

    private final JavaFunction function;
    private final Queue failures;
    private final EventSourceMapping mapping;

    public FanoutFunction(
            Construct scope, String id, Code code, SessionTables tables, WebSocketApi api, StackConfig config) {
        super(scope, id);
        Map<String, String> env = JavaFunction.handlerEnvironment(tables, api, config);
        var spec = new JavaFunction.Spec(
                HANDLER, "stream fan-out", MEMORY_MB, TIMEOUT, config.snapStart(), env, Permissions.fanout());
        // one batch per shard at a time (parallelization 1): this covers a busy table's shards with room
        this.function = new JavaFunction(this, "Function", spec, code, tables, api, config)
                .reserveConcurrency(RESERVED_CONCURRENCY);

        this.failures = Queue.Builder.create(this, "FailedBatches")
                .encryption(QueueEncryption.SQS_MANAGED)
                .enforceSsl(true)
                .retentionPeriod(Duration.days(14))
                .build();
        NagSuppressions.addResourceSuppressions(
                failures,
                List.of(NagPackSuppression.builder()
                        .id("AwsSolutions-SQS3")
                        .reason("this queue is itself the dead-letter (on-failure) destination of the stream mapping; "
                                + "an alarm fires on its first message")
                        .build()),
                true);

        // Stream read, scoped to the events table's stream (what DynamoEventSource would grant, minus
        // its ListStreams on "*": AWS accepts the table's stream/* pattern for ListStreams)
        String streamArn = tables.events().getTableStreamArn();
        function.role()
                .addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(List.of("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"))
                        .resources(List.of(streamArn))
                        .build());
        function.role()
                .addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(List.of("dynamodb:ListStreams"))
                        .resources(List.of(tables.events().getTableArn() + "/stream/*"))
                        .build());
        NagSuppressions.addResourceSuppressions(
                function.role(),
                List.of(NagPackSuppression.builder()
                        .id("AwsSolutions-IAM5")
                        .reason(
                                "dynamodb:ListStreams names no stream; AWS documents the table's stream/* pattern as its "
                                        + "narrowest resource, limited here to the events table")
                        .appliesTo(List.of(RegexAppliesTo.builder()
                                .regex("/^Resource::.*\\/stream\\/\\*$/")
                                .build()))
                        .build()),
                true);

        this.mapping = EventSourceMapping.Builder.create(this, "StreamMapping")
                .target(function.alias())
                .eventSourceArn(streamArn)
                // from the stream's oldest record: nothing written between table and mapping creation
                // is lost; a re-created mapping may repeat events, which clients drop by seq
                .startingPosition(StartingPosition.TRIM_HORIZON)
                .batchSize(FanoutMapping.BATCH_SIZE)
                .maxBatchingWindow(Duration.seconds(FanoutMapping.MAX_BATCHING_WINDOW.toSeconds()))
                .parallelizationFactor(FanoutMapping.PARALLELIZATION_FACTOR)
                .bisectBatchOnError(FanoutMapping.BISECT_ON_ERROR)
                .reportBatchItemFailures(FanoutMapping.REPORT_BATCH_ITEM_FAILURES)
                .retryAttempts(FanoutMapping.MAX_RETRY_ATTEMPTS)
                .maxRecordAge(Duration.seconds(FanoutMapping.MAX_RECORD_AGE.toSeconds()))
                .filters(List.of(Map.of("pattern", FanoutMapping.INSERT_ONLY_FILTER)))
                .onFailure(new SqsDlq(failures))
                .build();
        // the mapping checks its stream access when created: create it after the role's policy
        mapping.getNode().addDependency(function.role());
    }

    public JavaFunction function() {
        return function;
    }

    public Queue failures() {
        return failures;
    }

    public EventSourceMapping mapping() {
        return mapping;
    }
}
