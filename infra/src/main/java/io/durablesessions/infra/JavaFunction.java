package io.durablesessions.infra;

import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.TableLayout;
import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import io.github.cdklabs.cdknag.RegexAppliesTo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.lambda.AdotInstrumentationConfig;
import software.amazon.awscdk.services.lambda.AdotLambdaExecWrapper;
import software.amazon.awscdk.services.lambda.AdotLambdaLayerJavaSdkVersion;
import software.amazon.awscdk.services.lambda.AdotLayerVersion;
import software.amazon.awscdk.services.lambda.Alias;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.CfnFunction;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.LoggingFormat;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.lambda.SnapStartConf;
import software.amazon.awscdk.services.lambda.Tracing;
import software.amazon.awscdk.services.logs.LogGroup;
import software.constructs.Construct;

/**
 * One Java handler of the shaded functions jar as a Lambda function, the way every function of the
 * service is built:
 * <ul>
 *   <li>{@code java21} (the code is compiled with {@code --release 21}) on ARM64 (Graviton: about
 *       20% cheaper per GB-second than x86 and as fast for this I/O-bound code);</li>
 *   <li>its own role with exactly its {@link DataAccess} plus writing to its own log group — no
 *       managed policy, no wildcard action, no {@code *} resource;</li>
 *   <li>its own log group with the configured retention, JSON log format (so the handlers' EMF
 *       lines and the runtime's records are structured);</li>
 *   <li>SnapStart on published versions (when enabled): Lambda runs the handler's constructor (SDK
 *       clients built once per container) when a version is published and resumes later cold starts
 *       from the snapshot, cutting a JVM cold start from seconds to a few hundred ms;</li>
 *   <li>an alias {@code live} on the current version: every integration, event source and schedule
 *       invokes the alias, never {@code $LATEST}, so they always run a SnapStart version;</li>
 *   <li>with {@link StackConfig#tracing()}: X-Ray active tracing and the ADOT Java wrapper layer
 *       ({@link #ADOT_LAYER}) behind {@code AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler}.</li>
 * </ul>
 */
public final class JavaFunction extends Construct {
    /** The alias every caller invokes. */
    public static final String ALIAS = "live";

    /**
     * The ADOT Java wrapper layer (OpenTelemetry Java 1.32.0, the version the functions' API is pinned
     * to, with a collector extension that exports to X-Ray). CDK resolves its ARN per region and
     * architecture, {@code arn:aws:lambda:<region>:901920570463:layer:aws-otel-java-wrapper-arm64-ver-1-32-0:4}
     * (a lookup table for a stack without a fixed region).
     */
    public static final AdotLambdaLayerJavaSdkVersion ADOT_LAYER = AdotLambdaLayerJavaSdkVersion.V1_32_0_1;

    /**
     * @param handler     Lambda handler string, {@code class::handleRequest}
     * @param memoryMb    memory (and proportional CPU)
     * @param timeout     invocation timeout
     * @param snapStart   SnapStart on published versions
     * @param environment environment variables (table names, MANAGEMENT_ENDPOINT, …)
     * @param access      DynamoDB and @connections access
     */
    /**
     * What {@code Services.fromEnvironment()} reads in every handler that uses the store: the table
     * names, the management API's endpoint and the handlers' limits and deadlines. A new map: callers add theirs.
     */
    static Map<String, String> handlerEnvironment(SessionTables tables, WebSocketApi api, StackConfig config) {
        Map<String, String> env = new LinkedHashMap<>(tables.environment());
        env.put(Services.MANAGEMENT_ENDPOINT_ENV, api.managementEndpoint());
        env.putAll(config.handlers().environment());
        return env;
    }

    public record Spec(
            String handler,
            String description,
            int memoryMb,
            Duration timeout,
            boolean snapStart,
            Map<String, String> environment,
            DataAccess access) {}

    private final String handler;
    private final Function function;
    private final Alias alias;
    private final Role role;
    private final LogGroup logGroup;

    public JavaFunction(
            Construct scope,
            String id,
            Spec spec,
            Code code,
            SessionTables tables,
            WebSocketApi api,
            StackConfig config) {
        super(scope, id);
        this.handler = spec.handler();
        this.logGroup = LogGroup.Builder.create(this, "Logs")
                .retention(config.retention())
                .removalPolicy(RemovalPolicy.DESTROY)
                .build();
        this.role = Role.Builder.create(this, "Role")
                .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
                .description("durable sessions: " + spec.description())
                .build();
        // what AWSLambdaBasicExecutionRole would grant, scoped to this function's own log group
        role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("logs:CreateLogStream", "logs:PutLogEvents"))
                .resources(List.of(logGroup.getLogGroupArn()))
                .build());
        grant(spec.access(), tables, api);

        Map<String, String> env = new LinkedHashMap<>(spec.environment());
        // C1 only: these functions are short and I/O-bound; a JIT that stops at tier 1 starts faster
        // and spends none of the small CPU share on C2 compilation
        env.put("JAVA_TOOL_OPTIONS", "-XX:+TieredCompilation -XX:TieredStopAtLevel=1");
        var b = Function.Builder.create(this, "Function")
                .description("durable sessions: " + spec.description())
                .runtime(Runtime.JAVA_21)
                .architecture(Architecture.ARM_64)
                .handler(spec.handler())
                .code(code)
                .memorySize(spec.memoryMb())
                .timeout(spec.timeout())
                .role(role)
                .logGroup(logGroup)
                .loggingFormat(LoggingFormat.JSON)
                .environment(env);
        if (spec.snapStart()) b.snapStart(SnapStartConf.ON_PUBLISHED_VERSIONS);
        if (config.tracing()) {
            // the layer's wrapper installs the OpenTelemetry SDK before the handler is built, traces each
            // invocation and every AWS SDK call; CDK sets AWS_LAMBDA_EXEC_WRAPPER and grants the X-Ray writes
            b.tracing(Tracing.ACTIVE)
                    .adotInstrumentation(AdotInstrumentationConfig.builder()
                            .layerVersion(AdotLayerVersion.fromJavaSdkLayerVersion(ADOT_LAYER))
                            .execWrapper(AdotLambdaExecWrapper.REGULAR_HANDLER)
                            .build());
        }
        this.function = b.build();
        if (spec.snapStart()) {
            Annotations.of(function)
                    .acknowledgeWarning(
                            "@aws-cdk/aws-lambda:snapStartRequirePublish",
                            "published: every caller invokes the alias on currentVersion below");
        }
        this.alias = Alias.Builder.create(this, "Alias")
                .aliasName(ALIAS)
                .version(function.getCurrentVersion())
                .build();

        NagSuppressions.addResourceSuppressions(
                this,
                List.of(NagPackSuppression.builder()
                        .id("AwsSolutions-L1")
                        .reason("java21 on purpose: the code is compiled with --release 21 and tested on the java21 "
                                + "runtime; moving to a newer Java runtime is a deliberate, tested change")
                        .build()),
                true);
        if (config.tracing()) {
            NagSuppressions.addResourceSuppressions(
                    role,
                    List.of(NagPackSuppression.builder()
                            .id("AwsSolutions-IAM5")
                            .reason(
                                    "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions: "
                                            + "AWS documents Resource * for them (granted by CDK for active tracing)")
                            .appliesTo(List.of("Resource::*"))
                            .build()),
                    true);
        }
    }

    /** Actions that write an item: on the connections table they are limited to the partitions a function owns. */
    static final Set<String> WRITES = Set.of("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem");

    private void grant(DataAccess access, SessionTables tables, WebSocketApi api) {
        for (var e : access.tables().entrySet()) {
            String arn = tables.table(e.getKey()).getTableArn();
            if (e.getKey() != TableLayout.CONNECTIONS) {
                role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(dynamo(e.getValue()))
                        .resources(List.of(arn))
                        .build());
                continue;
            }
            Set<String> reads = new TreeSet<>(e.getValue());
            reads.removeAll(WRITES);
            Set<String> writes = new TreeSet<>(e.getValue());
            writes.retainAll(WRITES);
            if (!reads.isEmpty()) {
                role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(dynamo(reads))
                        .resources(List.of(arn))
                        .build());
            }
            if (!writes.isEmpty()) {
                if (access.connectionRows().isEmpty()) {
                    throw new IllegalStateException("a function that writes the connections table must name the "
                            + "partitions it writes (DataAccess.connectionRows)");
                }
                // fine-grained access control: e.g. a route function can never write a revocation row
                role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(dynamo(writes))
                        .resources(List.of(arn))
                        .conditions(Map.of(
                                "ForAllValues:StringLike",
                                Map.of("dynamodb:LeadingKeys", List.copyOf(access.connectionRows()))))
                        .build());
            }
        }
        for (var e : access.indexes().entrySet()) {
            TableLayout layout = e.getKey();
            for (var index : e.getValue().entrySet()) {
                role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(dynamo(index.getValue()))
                        .resources(List.of(tables.table(layout).getTableArn() + "/index/" + index.getKey()))
                        .build());
            }
        }
        if (!access.connectionMethods().isEmpty()) {
            List<String> arns =
                    access.connectionMethods().stream().map(api::connectionsArn).toList();
            role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(List.of("execute-api:ManageConnections"))
                    .resources(arns)
                    .build());
            NagSuppressions.addResourceSuppressions(
                    role,
                    List.of(NagPackSuppression.builder()
                            .id("AwsSolutions-IAM5")
                            .reason(
                                    "PostToConnection is authorized per connection id, which is only known at run time: "
                                            + "the resource is this API's stage and method with @connections/* (AWS's documented "
                                            + "form), never other APIs, stages or methods")
                            .appliesTo(List.of(RegexAppliesTo.builder()
                                    .regex("/^Resource::arn:.*@connections\\/\\*$/")
                                    .build()))
                            .build()),
                    true);
        }
    }

    static List<String> dynamo(Set<String> actions) {
        List<String> out = new ArrayList<>();
        for (String a : actions) out.add("dynamodb:" + a);
        return out;
    }

    /** The Lambda handler string, {@code class::handleRequest}. */
    public String handler() {
        return handler;
    }

    /** Whether this function runs that handler class. */
    public boolean runs(Class<?> handlerClass) {
        return handler.equals(handlerClass.getName() + "::handleRequest");
    }

    public Function function() {
        return function;
    }

    /**
     * Caps the function's concurrent executions: a burst (a stream backlog, a flood of deadlines)
     * cannot take the account's concurrency from the request routes, and a runaway cannot multiply.
     */
    public JavaFunction reserveConcurrency(int executions) {
        ((CfnFunction) function.getNode().getDefaultChild()).setReservedConcurrentExecutions(executions);
        return this;
    }

    /** What callers invoke: the {@code live} alias on the current (SnapStart) version. */
    public Alias alias() {
        return alias;
    }

    public Role role() {
        return role;
    }

    public LogGroup logGroup() {
        return logGroup;
    }
}
