package io.durablesessions.infra;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.functions.connect.ConnectHandler;
import io.durablesessions.functions.connect.DisconnectHandler;
import io.durablesessions.functions.control.ControlHandler;
import io.durablesessions.functions.fanout.FanoutMapping;
import io.durablesessions.functions.gateway.DefaultHandler;
import io.durablesessions.functions.gateway.Routes;
import io.durablesessions.functions.liveness.HeartbeatHandler;
import io.durablesessions.functions.publish.AppendHandler;
import io.durablesessions.functions.runtime.HandlerSettings;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.TableLayout;
import io.durablesessions.functions.subscribe.SubscribeHandler;
import io.durablesessions.functions.subscribe.UnsubscribeHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Match;

class DurableSessionsStackTest {
    static Synth.Result r;

    @BeforeAll
    static void synth() {
        r = Synth.of(Synth.config());
    }

    // ------------------------------------------------------------------ tables

    @Test
    @SuppressWarnings("unchecked")
    void tablesFollowTheLayout() {
        var tables = r.ofType("AWS::DynamoDB::Table");
        assertThat(tables).hasSize(TableLayout.ALL.size());
        for (TableLayout layout : TableLayout.ALL) {
            var entry = table(layout);
            Map<String, Object> p = Synth.Result.props(entry.getValue());
            assertThat(p.get("BillingMode")).isEqualTo("PAY_PER_REQUEST");
            assertThat(p.get("PointInTimeRecoverySpecification")).isEqualTo(Map.of("PointInTimeRecoveryEnabled", true));
            assertThat(p.get("TimeToLiveSpecification"))
                    .isEqualTo(Map.of("AttributeName", layout.ttlAttribute().orElseThrow(), "Enabled", true));
            var keys = new java.util.ArrayList<Object>();
            keys.add(Map.of("AttributeName", layout.partitionKey().name(), "KeyType", "HASH"));
            layout.sortKey().ifPresent(k -> keys.add(Map.of("AttributeName", k.name(), "KeyType", "RANGE")));
            assertThat(p.get("KeySchema")).isEqualTo(keys);
            assertThat((List<Object>) p.get("AttributeDefinitions")).contains((Object) Map.of(
                    "AttributeName",
                    layout.partitionKey().name(),
                    "AttributeType",
                    layout.partitionKey().type().name()));
            if (layout.stream().isPresent()) {
                assertThat(p.get("StreamSpecification"))
                        .isEqualTo(
                                Map.of("StreamViewType", layout.stream().get().name()));
            } else {
                assertThat(p).doesNotContainKey("StreamSpecification");
            }
            boolean durable = layout != TableLayout.CONNECTIONS;
            assertThat(entry.getValue().get("DeletionPolicy")).isEqualTo(durable ? "Retain" : "Delete");
            assertThat(p.get("DeletionProtectionEnabled")).isEqualTo(durable);
        }
        assertThat(Synth.Result.props(table(TableLayout.EVENTS).getValue()).get("StreamSpecification"))
                .isEqualTo(Map.of("StreamViewType", "NEW_IMAGE"));
    }

    @Test
    void indexesFollowTheLayout() {
        for (TableLayout layout : TableLayout.ALL) {
            @SuppressWarnings("unchecked")
            List<Object> gsis = (List<Object>)
                    Synth.Result.props(table(layout).getValue()).getOrDefault("GlobalSecondaryIndexes", List.of());
            assertThat(gsis).hasSize(layout.indexes().size());
            for (TableLayout.Index index : layout.indexes()) {
                var keys = new java.util.ArrayList<Object>();
                keys.add(Map.of("AttributeName", index.partitionKey().name(), "KeyType", "HASH"));
                index.sortKey().ifPresent(k -> keys.add(Map.of("AttributeName", k.name(), "KeyType", "RANGE")));
                assertThat(gsis).contains((Object) Map.of(
                        "IndexName",
                        index.name(),
                        "KeySchema",
                        keys,
                        "Projection",
                        Map.of("ProjectionType", index.projection().name())));
            }
        }
        assertThat(TableLayout.SESSIONS.indexes()).isNotEmpty();
    }

    // ------------------------------------------------------------------ API

    @Test
    void webSocketApiRoutesEveryRouteToItsOwnFunction() {
        r.template()
                .hasResourceProperties(
                        "AWS::ApiGatewayV2::Api",
                        Map.of("ProtocolType", "WEBSOCKET", "RouteSelectionExpression", Routes.SELECTION_EXPRESSION));
        r.template().hasResourceProperties("AWS::ApiGatewayV2::Stage", Map.of("StageName", "prod", "AutoDeploy", true));
        // the WebSocket API's own routes (the HTTP API's live under Http*, see SessionHttpApiTest)
        var routes = webSocketOnly(r.ofType("AWS::ApiGatewayV2::Route"));
        var integrations = webSocketOnly(r.ofType("AWS::ApiGatewayV2::Integration"));
        assertThat(routes).hasSize(Routes.ALL.size());
        assertThat(integrations).hasSize(Routes.ALL.size());
        for (Routes.Route route : Routes.ALL) {
            var p = routes.values().stream()
                    .map(Synth.Result::props)
                    .filter(x -> route.key().equals(x.get("RouteKey")))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no route " + route.key()));
            // returnResponse: the handler's answer goes back to the client
            assertThat(p.get("RouteResponseSelectionExpression")).isEqualTo("$default");
            // target: "integrations/" + Ref to the route's own integration
            String target = String.valueOf(p.get("Target"));
            assertThat(target).contains("integrations/");
            var integrationLogicalId =
                    integrations.keySet().stream().filter(target::contains).findFirst();
            assertThat(integrationLogicalId).as("integration of " + route.key()).isPresent();
            var ip = Synth.Result.props(integrations.get(integrationLogicalId.get()));
            assertThat(ip.get("IntegrationType")).isEqualTo("AWS_PROXY");
            // the integration invokes the function's live alias of the route's handler
            String uri = String.valueOf(ip.get("IntegrationUri"));
            String alias = aliasOf(route.lambdaHandler());
            assertThat(uri).contains(alias);
        }
        assertThat(r.ofType("AWS::ApiGatewayV2::RouteResponse")).hasSize(Routes.ALL.size());
    }

    // ------------------------------------------------------------------ Lambda

    @Test
    void everyFunctionIsJava21OnArmWithJsonLogsAndItsTables() {
        var functions = r.ofType("AWS::Lambda::Function");
        // one per route, the fan-out, the sweeper, the $connect authorizer, the HTTP API and its authorizer
        assertThat(functions).hasSize(FUNCTIONS);
        for (var f : functions.values()) {
            var p = Synth.Result.props(f);
            assertThat(p.get("Runtime")).isEqualTo("java21");
            assertThat(p.get("Architectures")).isEqualTo(List.of("arm64"));
            assertThat(p.get("LoggingConfig")).asString().contains("LogFormat=JSON");
            @SuppressWarnings("unchecked")
            var env = (Map<String, Object>) ((Map<String, Object>) p.get("Environment")).get("Variables");
            assertThat(env).containsKey(Observability.FUNCTION_ENV);
            if (WebSocketAuthorizer.HANDLER.equals(p.get("Handler"))) continue; // no store: see WebSocketAuthorizerTest
            if (SessionHttpApi.AUTHORIZER_HANDLER.equals(p.get("Handler"))) continue; // no store either
            // the handlers' limits and deadlines (Services.Limits, StoreSettings), from context
            assertThat(env)
                    .containsEntry("RATE_LIMIT_PER_SECOND", "500")
                    .containsEntry("LIVENESS_TIMEOUT_SECONDS", "30")
                    .containsEntry("STOP_ACK_TIMEOUT_SECONDS", "10")
                    .containsEntry("PRESENCE_GRACE_SECONDS", "5");
            for (TableLayout layout : TableLayout.ALL) assertThat(env).containsKey(layout.envVar());
            assertThat(String.valueOf(env.get("MANAGEMENT_ENDPOINT"))).startsWith("{Fn::Join=[, [https://");
            assertThat(String.valueOf(env.get("MANAGEMENT_ENDPOINT"))).contains("/prod");
        }
        var handlers = functions.values().stream()
                .map(f -> Synth.Result.props(f).get("Handler"))
                .toList();
        for (Routes.Route route : Routes.ALL) assertThat(handlers).contains(route.lambdaHandler());
        assertThat(handlers)
                .contains(
                        FanoutFunction.HANDLER,
                        LivenessSweeper.HANDLER,
                        WebSocketAuthorizer.HANDLER,
                        SessionHttpApi.HANDLER,
                        SessionHttpApi.AUTHORIZER_HANDLER);
        // the EMF dimension value of each function is the name the dashboard uses
        assertThat(env(FanoutFunction.HANDLER).get(Observability.FUNCTION_ENV)).isEqualTo("Fanout");
        assertThat(env(route(AppendHandler.class)).get(Observability.FUNCTION_ENV))
                .isEqualTo("Append");
        assertThat(env(WebSocketAuthorizer.HANDLER).get(Observability.FUNCTION_ENV))
                .isEqualTo("Authorizer");
        assertThat(env(SessionHttpApi.HANDLER).get(Observability.FUNCTION_ENV)).isEqualTo("HttpApi");
    }

    @Test
    void limitsComeFromContext() {
        var config = Synth.config().toBuilder()
                .handlers(HandlerSettings.builder()
                        .messagesPerSecond(50)
                        .livenessTimeout(Duration.ofSeconds(60))
                        .stopAckTimeout(Duration.ofSeconds(20))
                        .presenceGrace(Duration.ofSeconds(15))
                        .build())
                .build();
        var fn = Synth.of(config).ofType("AWS::Lambda::Function").values().stream()
                .map(Synth.Result::props)
                .filter(p -> FanoutFunction.HANDLER.equals(p.get("Handler")))
                .findFirst()
                .orElseThrow();
        assertThat(String.valueOf(fn.get("Environment")))
                .contains("RATE_LIMIT_PER_SECOND=50")
                .contains("LIVENESS_TIMEOUT_SECONDS=60")
                .contains("STOP_ACK_TIMEOUT_SECONDS=20")
                .contains("PRESENCE_GRACE_SECONDS=15");
    }

    @Test
    void latencySensitiveFunctionsUseSnapStartThroughAnAlias() {
        for (Routes.Route route : Routes.ALL) {
            assertThat(function(route.lambdaHandler()).get("SnapStart"))
                    .isEqualTo(Map.of("ApplyOn", "PublishedVersions"));
        }
        assertThat(function(FanoutFunction.HANDLER).get("SnapStart")).isEqualTo(Map.of("ApplyOn", "PublishedVersions"));
        assertThat(function(WebSocketAuthorizer.HANDLER).get("SnapStart"))
                .isEqualTo(Map.of("ApplyOn", "PublishedVersions"));
        assertThat(function(LivenessSweeper.HANDLER)).doesNotContainKey("SnapStart");
        assertThat(r.ofType("AWS::Lambda::Alias"))
                .hasSize(FUNCTIONS)
                .allSatisfy(
                        (id, a) -> assertThat(Synth.Result.props(a).get("Name")).isEqualTo(JavaFunction.ALIAS));
        assertThat(r.ofType("AWS::Lambda::Version")).hasSize(FUNCTIONS);
    }

    @Test
    void everyFunctionHasItsOwnLogGroupWithRetention() {
        var groups = r.ofType("AWS::Logs::LogGroup");
        // one per function, plus the access logs of the WebSocket API and of the HTTP API
        assertThat(groups).hasSize(FUNCTIONS + 2);
        assertThat(groups.values())
                .allSatisfy(g ->
                        assertThat(Synth.Result.props(g).get("RetentionInDays")).isEqualTo(30));
    }

    // ------------------------------------------------------------------ fan-out

    @Test
    void streamMappingUsesFanoutMapping() {
        var mappings = r.ofType("AWS::Lambda::EventSourceMapping");
        assertThat(mappings).hasSize(1);
        var p = Synth.Result.props(mappings.values().iterator().next());
        assertThat(p.get("BatchSize")).isEqualTo(FanoutMapping.BATCH_SIZE);
        assertThat(p.get("MaximumBatchingWindowInSeconds"))
                .isEqualTo((int) FanoutMapping.MAX_BATCHING_WINDOW.toSeconds());
        assertThat(p.get("ParallelizationFactor")).isEqualTo(1);
        assertThat(p.get("BisectBatchOnFunctionError")).isEqualTo(true);
        assertThat(p.get("FunctionResponseTypes")).isEqualTo(List.of("ReportBatchItemFailures"));
        assertThat(p.get("MaximumRetryAttempts")).isEqualTo(FanoutMapping.MAX_RETRY_ATTEMPTS);
        assertThat(p.get("MaximumRecordAgeInSeconds")).isEqualTo((int) FanoutMapping.MAX_RECORD_AGE.toSeconds());
        assertThat(p.get("FilterCriteria"))
                .isEqualTo(Map.of("Filters", List.of(Map.of("Pattern", FanoutMapping.INSERT_ONLY_FILTER))));
        assertThat(FanoutMapping.INSERT_ONLY_FILTER).contains("INSERT");
        // the events table's stream, delivered to the fan-out's alias, failures to the SQS queue
        assertThat(String.valueOf(p.get("EventSourceArn")))
                .contains(table(TableLayout.EVENTS).getKey())
                .contains("StreamArn");
        assertThat(String.valueOf(p.get("FunctionName"))).contains(aliasOf(FanoutFunction.HANDLER));
        String queue = r.ofType("AWS::SQS::Queue").keySet().iterator().next();
        assertThat(String.valueOf(p.get("DestinationConfig")))
                .contains("OnFailure")
                .contains(queue);
    }

    @Test
    void failedBatchesQueueIsEncryptedAndTlsOnly() {
        var queues = r.ofType("AWS::SQS::Queue");
        assertThat(queues).hasSize(1);
        assertThat(Synth.Result.props(queues.values().iterator().next()).get("SqsManagedSseEnabled"))
                .isEqualTo(true);
        r.template()
                .hasResourceProperties(
                        "AWS::SQS::QueuePolicy",
                        Match.objectLike(Map.of(
                                "PolicyDocument",
                                Match.objectLike(Map.of(
                                        "Statement",
                                        Match.arrayWith(List.of(Match.objectLike(Map.of(
                                                "Effect",
                                                "Deny",
                                                "Condition",
                                                Map.of("Bool", Map.of("aws:SecureTransport", "false")))))))))));
    }

    // ------------------------------------------------------------------ sweeper

    @Test
    void sweeperRunsEveryMinute() {
        var rules = r.ofType("AWS::Events::Rule");
        assertThat(rules).hasSize(1);
        var p = Synth.Result.props(rules.values().iterator().next());
        assertThat(p.get("ScheduleExpression")).isEqualTo("rate(1 minute)");
        assertThat(String.valueOf(p.get("Targets"))).contains(aliasOf(LivenessSweeper.HANDLER));
    }

    // ------------------------------------------------------------------ IAM

    @Test
    void noWildcardActionOrResourceAnywhere() {
        int statements = 0;
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            for (Map<String, Object> st : statements(policy)) {
                statements++;
                for (Object a : Synth.elements(st.get("Action"))) {
                    assertThat(String.valueOf(a)).as("action").doesNotContain("*");
                }
                for (Object res : Synth.elements(st.get("Resource"))) {
                    assertThat(res).as("resource in " + st).isNotEqualTo("*");
                }
            }
        }
        assertThat(statements).isGreaterThan(20);
        // no managed policies (their wildcards would not show in the template)
        assertThat(r.ofType("AWS::IAM::Role").values())
                .allSatisfy(role -> assertThat(Synth.Result.props(role)).doesNotContainKey("ManagedPolicyArns"));
    }

    @Test
    void everyFunctionHasExactlyTheActionsItsHandlerUses() {
        Map<String, Map<String, Set<String>>> expected = new HashMap<>();
        String cTable = "table:Connections", sTable = "table:Sessions", eTable = "table:Events";
        expected.put(route(ConnectHandler.class), Map.of(cTable, ddb("PutItem")));
        // every message on a WebSocket route: caller lookup, revocation check (the rate limit is in memory)
        String[] checks = {"GetItem", "BatchGetItem"};
        expected.put(
                route(DisconnectHandler.class),
                Map.of(cTable, ddb("GetItem", "Query", "DeleteItem"), sTable, ddb("UpdateItem")));
        // ping: the heads of the connection's sessions
        expected.put(
                route(DefaultHandler.class),
                Map.of(cTable, ddb("GetItem", "BatchGetItem", "Query"), sTable, ddb("BatchGetItem")));
        // appends: the transaction (owner rows, parent checks), compaction (changed chunks, surplus ones deleted)
        String[] append = {"GetItem", "UpdateItem", "PutItem", "BatchGetItem", "ConditionCheckItem", "DeleteItem"};
        // direct delivery: the writer's answer and the new events POSTed, subscribers read and re-checked
        // (a lost right removes the subscription, an expired token's connection is DELETEd), a gone
        // connection removed, the session's delivery mark moved (UpdateItem on sessions: in append already)
        String[] direct = {"GetItem", "BatchGetItem", "Query", "DeleteItem", "UpdateItem"};
        expected.put(
                route(AppendHandler.class),
                Map.of(
                        cTable,
                        ddb(direct),
                        sTable,
                        ddb(append),
                        eTable,
                        ddb("PutItem", "Query"),
                        "execute-api:POST",
                        Set.of("execute-api:ManageConnections"),
                        "execute-api:DELETE",
                        Set.of("execute-api:ManageConnections")));
        expected.put(
                route(ControlHandler.class),
                Map.of(
                        cTable,
                        ddb(direct),
                        sTable,
                        ddb(plus(append, "Query")),
                        eTable,
                        ddb("PutItem", "Query"),
                        "execute-api:POST",
                        Set.of("execute-api:ManageConnections"),
                        "execute-api:DELETE",
                        Set.of("execute-api:ManageConnections")));
        expected.put(route(HeartbeatHandler.class), Map.of(cTable, ddb(checks), sTable, ddb("GetItem", "UpdateItem")));
        expected.put(
                route(SubscribeHandler.class),
                Map.of(
                        cTable,
                        ddb("GetItem", "BatchGetItem", "UpdateItem", "Query", "PutItem", "DeleteItem"),
                        sTable,
                        ddb(plus(append, "Query")),
                        eTable,
                        ddb("PutItem", "Query"),
                        "execute-api:POST",
                        Set.of("execute-api:ManageConnections")));
        expected.put(
                route(UnsubscribeHandler.class),
                Map.of(cTable, ddb("GetItem", "BatchGetItem", "UpdateItem", "DeleteItem")));
        expected.put(WebSocketAuthorizer.HANDLER, Map.of());
        // a subscriber whose token expired: its subscription goes (the META count too), its connection is closed
        // and the delivery mark: read (what direct delivery brought already), moved past what it posted
        expected.put(
                FanoutFunction.HANDLER,
                Map.of(
                        cTable,
                        ddb("GetItem", "Query", "BatchGetItem", "DeleteItem", "UpdateItem"),
                        sTable,
                        ddb("GetItem", "UpdateItem"),
                        "execute-api:POST",
                        Set.of("execute-api:ManageConnections"),
                        "execute-api:DELETE",
                        Set.of("execute-api:ManageConnections"),
                        "stream:Events",
                        ddb("DescribeStream", "GetRecords", "GetShardIterator"),
                        "streams:Events",
                        ddb("ListStreams"),
                        "sqs",
                        Set.of("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")));
        // deadlines, and erasing a session whose retention ran out (rows of all three tables, a notice to subscribers)
        Map<String, Set<String>> sweeper = new HashMap<>(Map.of(
                cTable,
                ddb("Query", "BatchWriteItem", "UpdateItem"),
                sTable,
                ddb("GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem", "Query", "BatchWriteItem"),
                eTable,
                ddb("PutItem", "Query", "BatchWriteItem"),
                "execute-api:POST",
                Set.of("execute-api:ManageConnections")));
        // the deadline index only: the owner index (HTTP API listing) is none of the sweeper's business
        sweeper.put("index:Sessions/" + Attrs.DUE_INDEX, ddb("Query"));
        expected.put(LivenessSweeper.HANDLER, sweeper);
        // every HTTP endpoint: checks (revocation, rate limit), append/control, reads, owner listing, erase
        Map<String, Set<String>> http = new HashMap<>(Map.of(
                cTable,
                ddb("GetItem", "BatchGetItem", "UpdateItem", "Query", "BatchWriteItem", "PutItem", "DeleteItem"),
                sTable,
                ddb(plus(append, "Query", "BatchWriteItem")),
                eTable,
                ddb("PutItem", "Query", "BatchGetItem", "BatchWriteItem"),
                "execute-api:POST",
                Set.of("execute-api:ManageConnections"),
                "execute-api:DELETE",
                Set.of("execute-api:ManageConnections")));
        http.put("index:Sessions/" + Attrs.OWNER_INDEX, ddb("Query"));
        expected.put(SessionHttpApi.HANDLER, http);
        expected.put(SessionHttpApi.AUTHORIZER_HANDLER, Map.of());

        assertThat(expected.keySet()).hasSize(FUNCTIONS);
        for (var e : expected.entrySet()) {
            Map<String, Set<String>> actual = grantsOf(e.getKey());
            Map<String, Set<String>> want = new TreeMap<>(e.getValue());
            want.put("logs", Set.of("logs:CreateLogStream", "logs:PutLogEvents"));
            assertThat(actual).as(e.getKey()).isEqualTo(want);
        }
    }

    @Test
    void onlyTheHttpApiMayWriteRevocationsAndEveryConnectionsWriteIsLimitedToItsPartitions() {
        int limited = 0;
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            for (Map<String, Object> st : statements(policy)) {
                boolean onConnections = Synth.elements(st.get("Resource")).stream()
                        .anyMatch(res -> String.valueOf(res)
                                .contains(table(TableLayout.CONNECTIONS).getKey()));
                boolean writes = Synth.elements(st.get("Action")).stream()
                        .anyMatch(a ->
                                JavaFunction.WRITES.contains(String.valueOf(a).substring("dynamodb:".length())));
                if (!onConnections || !writes) continue;
                limited++;
                assertThat(String.valueOf(st.get("Condition")))
                        .as("%s", st)
                        .startsWith("{ForAllValues:StringLike={dynamodb:LeadingKeys=");
            }
        }
        assertThat(limited).isGreaterThanOrEqualTo(6);
        for (Routes.Route route : Routes.ALL) {
            assertThat(String.valueOf(policiesOf(route.lambdaHandler()))).doesNotContain(Permissions.REVOCATION_ROWS);
        }
        assertThat(String.valueOf(policiesOf(FanoutFunction.HANDLER))).doesNotContain(Permissions.REVOCATION_ROWS);
        assertThat(String.valueOf(policiesOf(SessionHttpApi.HANDLER))).contains(Permissions.REVOCATION_ROWS);
    }

    @Test
    void theStageIsThrottledAndTheBackgroundFunctionsHaveReservedConcurrency() {
        var stage = webSocketOnly(r.ofType("AWS::ApiGatewayV2::Stage")).values().stream()
                .map(Synth.Result::props)
                .findFirst()
                .orElseThrow();
        assertThat(String.valueOf(stage.get("DefaultRouteSettings")))
                .contains("ThrottlingRateLimit=" + WebSocketApi.THROTTLE_RATE)
                .contains("ThrottlingBurstLimit=" + WebSocketApi.THROTTLE_BURST);
        // a subscribe can send a whole log: its own, tighter limit
        @SuppressWarnings("unchecked")
        var routeSettings = (Map<String, Map<String, Object>>) stage.get("RouteSettings");
        assertThat(routeSettings.get("subscribe"))
                .isEqualTo(Map.of("ThrottlingRateLimit", 200, "ThrottlingBurstLimit", 400));
        assertThat(routeSettings.get("$connect"))
                .isEqualTo(Map.of("ThrottlingRateLimit", 200, "ThrottlingBurstLimit", 400));
        assertThat(function(FanoutFunction.HANDLER).get("ReservedConcurrentExecutions"))
                .isEqualTo(FanoutFunction.RESERVED_CONCURRENCY);
        assertThat(function(LivenessSweeper.HANDLER).get("ReservedConcurrentExecutions"))
                .isEqualTo(1);
    }

    static List<Object> policiesOf(String handler) {
        String role = String.valueOf(function(handler).get("Role"));
        String roleId = role.replaceAll(".*Fn::GetAtt=\\[([A-Za-z0-9]+), Arn].*", "$1");
        return r.ofType("AWS::IAM::Policy").values().stream()
                .filter(p -> String.valueOf(Synth.Result.props(p).get("Roles")).contains("Ref=" + roleId + "}"))
                .map(p -> (Object) Synth.Result.props(p).get("PolicyDocument"))
                .toList();
    }

    static String[] plus(String[] base, String... more) {
        String[] out = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, out, base.length, more.length);
        return out;
    }

    // ------------------------------------------------------------------ alarms, dashboard, outputs

    @Test
    void alarmsCoverTheQueueTheStreamAndEveryFunction() {
        var alarms = r.ofType("AWS::CloudWatch::Alarm").values().stream()
                .map(Synth.Result::props)
                .toList();
        int functions = FUNCTIONS;
        assertThat(alarms).hasSize(3 + 2 * functions);
        assertThat(alarms).anySatisfy(a -> {
            assertThat(a.get("MetricName")).isEqualTo("ApproximateNumberOfMessagesVisible");
            assertThat(a.get("Threshold")).isEqualTo(0);
            assertThat(a.get("ComparisonOperator")).isEqualTo("GreaterThanThreshold");
        });
        assertThat(alarms).anySatisfy(a -> {
            assertThat(a.get("MetricName")).isEqualTo("IteratorAge");
            assertThat(a.get("Threshold")).isEqualTo(60_000);
        });
        assertThat(alarms).anySatisfy(a -> {
            assertThat(a.get("MetricName")).isEqualTo("FanoutLatencyMs");
            assertThat(a.get("Namespace")).isEqualTo(Observability.NAMESPACE);
            assertThat(a.get("Dimensions")).isEqualTo(List.of(Map.of("Name", "Function", "Value", "Fanout")));
            assertThat(a.get("ExtendedStatistic")).isEqualTo("p99");
        });
        assertThat(alarms.stream().filter(a -> "Errors".equals(a.get("MetricName"))))
                .hasSize(functions);
        assertThat(alarms.stream().filter(a -> "Throttles".equals(a.get("MetricName"))))
                .hasSize(functions);
    }

    @Test
    void dashboardShowsTheHandlersMetrics() {
        var dashboards = r.ofType("AWS::CloudWatch::Dashboard");
        assertThat(dashboards).hasSize(1);
        String body = String.valueOf(
                Synth.Result.props(dashboards.values().iterator().next()).get("DashboardBody"));
        // every metric of the catalogue, for every function in the template whose handler emits it, with
        // exactly what runtime/Metrics writes: namespace, metric name, dimension Function = METRICS_FUNCTION
        List<String> charted = new ArrayList<>();
        for (MetricName m : MetricName.values()) {
            for (Class<?> emitter : m.emitters()) {
                String handler = emitter.getName() + "::handleRequest";
                String dimension = String.valueOf(env(handler).get(Observability.FUNCTION_ENV));
                assertThat(body)
                        .as(m.wire() + " of " + dimension)
                        .contains("[\"" + Observability.NAMESPACE + "\",\"" + m.wire() + "\",\"Function\",\""
                                + dimension + "\"");
                charted.add(m.wire() + "/" + dimension);
            }
        }
        // what the review found missing: HTTP refusals and HTTP fenced appends
        assertThat(charted)
                .contains(
                        "FencedAppends/Append",
                        "FencedAppends/HttpApi",
                        "AuthRefusals/Authorizer",
                        "AuthRefusals/HttpAuthorizer",
                        "AuthRefusals/HttpApi",
                        "FanoutLatencyMs/Fanout");
        assertThat(body).contains(Observability.NAMESPACE).contains("IteratorAge");
    }

    @Test
    void outputsNameTheUrlsAndTables() {
        @SuppressWarnings("unchecked")
        var outputs = (Map<String, Map<String, Object>>) r.json().get("Outputs");
        assertThat(outputs).containsKeys("WebSocketUrl", "ManagementEndpoint", "FailedBatchesQueueUrl", "HttpApiUrl");
        assertThat(outputs).doesNotContainKey("IamHttpApiUrl"); // only with -c iamPrincipals
        for (TableLayout layout : TableLayout.ALL) assertThat(outputs).containsKey(layout.id() + "TableName");
        assertThat(String.valueOf(outputs.get("WebSocketUrl").get("Value")))
                .contains("wss://")
                .contains("/prod");
        assertThat(String.valueOf(outputs.get("ManagementEndpoint").get("Value")))
                .contains("https://")
                .contains("/prod");
    }

    // ------------------------------------------------------------------ helpers

    /** One per route, the fan-out, the sweeper, the $connect authorizer, the HTTP API and its authorizer. */
    static final int FUNCTIONS = Routes.ALL.size() + 5;

    /** Resources of the WebSocket API (construct path WebSocket/… or Routes/…), not of the HTTP API (Http/…). */
    static Map<String, Map<String, Object>> webSocketOnly(Map<String, Map<String, Object>> resources) {
        Map<String, Map<String, Object>> out = new java.util.LinkedHashMap<>();
        resources.forEach((id, res) -> {
            if (!id.startsWith("Http")) out.put(id, res);
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> env(String handler) {
        return (Map<String, Object>) ((Map<String, Object>) function(handler).get("Environment")).get("Variables");
    }

    static Map.Entry<String, Map<String, Object>> table(TableLayout layout) {
        return r.ofType("AWS::DynamoDB::Table").entrySet().stream()
                .filter(e -> e.getKey().startsWith("Tables" + layout.id()))
                .findFirst()
                .orElseThrow();
    }

    static String route(Class<?> handler) {
        return Routes.ALL.stream()
                .filter(x -> x.handlerClass() == handler)
                .findFirst()
                .orElseThrow()
                .lambdaHandler();
    }

    static Set<String> ddb(String... actions) {
        Set<String> s = new TreeSet<>();
        for (String a : actions) s.add("dynamodb:" + a);
        return s;
    }

    static Map.Entry<String, Map<String, Object>> functionEntry(String handler) {
        return functionEntryIn(r, handler);
    }

    static Map.Entry<String, Map<String, Object>> functionEntryIn(Synth.Result r, String handler) {
        var matches = r.ofType("AWS::Lambda::Function").entrySet().stream()
                .filter(e -> handler.equals(Synth.Result.props(e.getValue()).get("Handler")))
                .toList();
        assertThat(matches).as("functions with handler " + handler).hasSize(1);
        return matches.get(0);
    }

    static Map<String, Object> function(String handler) {
        return Synth.Result.props(functionEntry(handler).getValue());
    }

    static Map<String, Object> functionIn(Synth.Result r, String handler) {
        return Synth.Result.props(functionEntryIn(r, handler).getValue());
    }

    /** Logical id of the alias of the function with this handler. */
    static String aliasOf(String handler) {
        return aliasOfIn(r, handler);
    }

    static String aliasOfIn(Synth.Result r, String handler) {
        String fn = functionEntryIn(r, handler).getKey();
        return r.ofType("AWS::Lambda::Alias").entrySet().stream()
                .filter(e -> String.valueOf(Synth.Result.props(e.getValue()).get("FunctionName"))
                        .contains(fn))
                .map(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> statements(Map<String, Object> policy) {
        var doc = (Map<String, Object>) Synth.Result.props(policy).get("PolicyDocument");
        return (List<Map<String, Object>>) doc.get("Statement");
    }

    /** What the role of the function with this handler may do, by resource label. */
    static Map<String, Set<String>> grantsOf(String handler) {
        String role = String.valueOf(function(handler).get("Role"));
        String roleId = role.replaceAll(".*Fn::GetAtt=\\[([A-Za-z0-9]+), Arn].*", "$1");
        Map<String, Set<String>> out = new TreeMap<>();
        for (var policy : r.ofType("AWS::IAM::Policy").values()) {
            if (!String.valueOf(Synth.Result.props(policy).get("Roles")).contains("Ref=" + roleId + "}")) continue;
            for (var st : statements(policy)) {
                assertThat(st.get("Effect")).isEqualTo("Allow");
                for (Object res : Synth.elements(st.get("Resource"))) {
                    String label = label(String.valueOf(res));
                    for (Object a : Synth.elements(st.get("Action"))) {
                        out.computeIfAbsent(label, k -> new TreeSet<>()).add(String.valueOf(a));
                    }
                }
            }
        }
        return out;
    }

    static String label(String resource) {
        if (resource.contains("execute-api")) {
            assertThat(resource).matches(".*/prod/(POST|DELETE)/@connections/\\*.*");
            return resource.contains("/DELETE/") ? "execute-api:DELETE" : "execute-api:POST";
        }
        if (resource.contains("Logs")) return "logs";
        if (resource.contains("FailedBatches")) return "sqs";
        for (TableLayout layout : TableLayout.ALL) {
            String id = table(layout).getKey();
            if (!resource.contains(id)) continue;
            if (resource.contains("StreamArn")) return "stream:" + layout.id();
            if (resource.contains("/stream/*")) return "streams:" + layout.id();
            for (TableLayout.Index i : layout.indexes()) {
                if (resource.contains("/index/" + i.name())) return "index:" + layout.id() + "/" + i.name();
            }
            assertThat(resource)
                    .as("a table resource is the table ARN itself")
                    .matches("\\{Fn::GetAtt=\\[" + id + ", Arn]}");
            return "table:" + layout.id();
        }
        throw new AssertionError("unexpected resource " + resource);
    }
}
