package io.durablesessions.infra;

import io.durablesessions.functions.liveness.SweeperHandler;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.events.Rule;
import software.amazon.awscdk.services.events.Schedule;
import software.amazon.awscdk.services.events.targets.LambdaFunction;
import software.amazon.awscdk.services.lambda.Code;
import software.constructs.Construct;

/**
 * The liveness sweeper ({@link SweeperHandler}): every minute, Query the sessions table's sparse
 * deadline index for what is due: runs whose heartbeat is too old fail ({@code run.failed}), stops
 * nobody acknowledged become {@code run.stopped}, members whose grace period ran out leave. Its own
 * role: {@link Permissions#sweeper()}.
 *
 * <p>No SnapStart: invoked once a minute, its container stays warm and a cold start's latency
 * does not matter to a background job.
 */
public final class LivenessSweeper extends Construct {
    public static final String HANDLER = SweeperHandler.class.getName() + "::handleRequest";
    public static final Duration RATE = Duration.minutes(1);
    /** Must finish before the next tick; one pass is a few Queries and transactions. */
    static final Duration TIMEOUT = Duration.seconds(55);

    static final int MEMORY_MB = 1024;

    private final JavaFunction function;
    private final Rule schedule;

    public LivenessSweeper(
            Construct scope, String id, Code code, SessionTables tables, WebSocketApi api, StackConfig config) {
        super(scope, id);
        // liveness / stop-ack deadlines, presence grace; MANAGEMENT_ENDPOINT for session_deleted (retention)
        Map<String, String> env = JavaFunction.handlerEnvironment(tables, api, config);
        var spec = new JavaFunction.Spec(
                HANDLER, "liveness sweeper", MEMORY_MB, TIMEOUT, false, env, Permissions.sweeper());
        // one sweep at a time: a slow sweep is never overtaken by the next minute's
        this.function = new JavaFunction(this, "Function", spec, code, tables, api, config).reserveConcurrency(1);
        this.schedule = Rule.Builder.create(this, "Schedule")
                .description("durable sessions: liveness sweep")
                .schedule(Schedule.rate(RATE))
                // a missed tick is covered by the next one: no retries, no pile-up
                .targets(List.of(LambdaFunction.Builder.create(function.alias())
                        .retryAttempts(0)
                        .build()))
                .build();
    }

    public JavaFunction function() {
        return function;
    }

    public Rule schedule() {
        return schedule;
    }
}
