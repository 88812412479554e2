package io.durablesessions.infra;

import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.ComparisonOperator;
import software.amazon.awscdk.services.cloudwatch.Dashboard;
import software.amazon.awscdk.services.cloudwatch.GraphWidget;
import software.amazon.awscdk.services.cloudwatch.IMetric;
import software.amazon.awscdk.services.cloudwatch.IWidget;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.cloudwatch.MetricOptions;
import software.amazon.awscdk.services.cloudwatch.TextWidget;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.sns.ITopic;
import software.amazon.awscdk.services.sns.Topic;
import software.constructs.Construct;

/**
 * Alarms and one dashboard.
 * <ul>
 *   <li>on-failure queue has a message: a batch of events could not be delivered (something to look at
 *       every time);</li>
 *   <li>stream iterator age: the fan-out falls behind the log, so live delivery is late;</li>
 *   <li>fan-out latency: p99 of {@code FanoutLatencyMs} (an event's server timestamp to its delivery)
 *       above {@value #FANOUT_LATENCY_ALARM_MS} ms;</li>
 *   <li>Errors and Throttles of every function (route handlers answer refusals with error frames, so
 *       a Lambda error is a crash or a timeout).</li>
 * </ul>
 * The dashboard shows API Gateway traffic, Lambda health, the stream and every metric of the
 * handlers' catalogue ({@link MetricName}, EMF namespace {@value #NAMESPACE}, dimension
 * {@code Function} = the emitting function's short name, which the stack passes to it in
 * {@value #FUNCTION_ENV}), one line per function that emits it.
 */
public final class Observability extends Construct {
    public static final String NAMESPACE = Metrics.NAMESPACE;
    public static final String DIMENSION = Metrics.DIMENSION;
    /** The env var that gives each function its {@link #DIMENSION} value (read by {@code Metrics}). */
    public static final String FUNCTION_ENV = Metrics.FUNCTION_ENV;

    static final int FANOUT_LATENCY_ALARM_MS = 5_000;

    /** One handler metric, with the dimension its emitter writes. */
    public static Metric emf(String name, String function, String statistic) {
        return Metric.Builder.create()
                .namespace(NAMESPACE)
                .metricName(name)
                .dimensionsMap(Map.of(DIMENSION, function))
                .statistic(statistic)
                .period(Duration.minutes(1))
                .build();
    }

    private final List<Alarm> alarms = new ArrayList<>();
    private final Dashboard dashboard;

    public Observability(
            Construct scope,
            String id,
            StackConfig config,
            WebSocketApi api,
            Map<String, JavaFunction> functions,
            FanoutFunction fanout) {
        super(scope, id);
        ITopic topic = config.alarmTopicArn()
                .map(arn -> Topic.fromTopicArn(this, "AlarmTopic", arn))
                .orElse(null);
        Duration period = Duration.minutes(1);

        add(
                Alarm.Builder.create(this, "FailedBatches")
                        .alarmDescription(
                                "Fan-out batches went to the on-failure queue: some subscribers missed live events "
                                        + "(they recover on resubscribe). Inspect the queue's messages for the shard and sequence range.")
                        .metric(fanout.failures()
                                .metricApproximateNumberOfMessagesVisible(MetricOptions.builder()
                                        .period(period)
                                        .statistic("Maximum")
                                        .build()))
                        .threshold(0)
                        .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                        .evaluationPeriods(1)
                        .treatMissingData(TreatMissingData.NOT_BREACHING)
                        .build(),
                topic);

        Metric iteratorAge = fanout.function()
                .function()
                .metric(
                        "IteratorAge",
                        MetricOptions.builder()
                                .period(period)
                                .statistic("Maximum")
                                .build());
        add(
                Alarm.Builder.create(this, "StreamIteratorAge")
                        .alarmDescription("The fan-out is more than " + config.iteratorAgeAlarmMs()
                                + " ms behind the events stream: live delivery is late.")
                        .metric(iteratorAge)
                        .threshold(config.iteratorAgeAlarmMs())
                        .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                        .evaluationPeriods(3)
                        .datapointsToAlarm(2)
                        .treatMissingData(TreatMissingData.NOT_BREACHING)
                        .build(),
                topic);

        add(
                Alarm.Builder.create(this, "FanoutLatency")
                        .alarmDescription(
                                "Live delivery is slow: p99 of FanoutLatencyMs (event written → posted to its "
                                        + "subscribers) above " + FANOUT_LATENCY_ALARM_MS + " ms.")
                        .metric(emf(MetricName.FANOUT_LATENCY_MS.wire(), "Fanout", "p99"))
                        .threshold(FANOUT_LATENCY_ALARM_MS)
                        .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                        .evaluationPeriods(3)
                        .datapointsToAlarm(2)
                        .treatMissingData(TreatMissingData.NOT_BREACHING)
                        .build(),
                topic);

        for (var e : functions.entrySet()) {
            String name = e.getKey();
            var fn = e.getValue().function();
            add(
                    Alarm.Builder.create(this, "Errors" + name)
                            .alarmDescription("Lambda errors (crash or timeout) in " + name)
                            .metric(fn.metricErrors(MetricOptions.builder()
                                    .period(Duration.minutes(5))
                                    .statistic("Sum")
                                    .build()))
                            .threshold(1)
                            .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                            .evaluationPeriods(1)
                            .treatMissingData(TreatMissingData.NOT_BREACHING)
                            .build(),
                    topic);
            add(
                    Alarm.Builder.create(this, "Throttles" + name)
                            .alarmDescription("Lambda throttles in " + name + ": concurrency limit reached")
                            .metric(fn.metricThrottles(MetricOptions.builder()
                                    .period(Duration.minutes(5))
                                    .statistic("Sum")
                                    .build()))
                            .threshold(1)
                            .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                            .evaluationPeriods(1)
                            .treatMissingData(TreatMissingData.NOT_BREACHING)
                            .build(),
                    topic);
        }

        List<IWidget> row1 = List.of(
                graph("WebSocket traffic", List.of(apiMetric(api, "ConnectCount"), apiMetric(api, "MessageCount")), 8),
                graph(
                        "WebSocket errors",
                        List.of(
                                apiMetric(api, "ClientError"),
                                apiMetric(api, "ExecutionError"),
                                apiMetric(api, "IntegrationError")),
                        8),
                graph(
                        "Fan-out stream",
                        List.of(iteratorAge, fanout.failures().metricApproximateNumberOfMessagesVisible()),
                        8));
        List<IMetric> errors = new ArrayList<>();
        List<IMetric> durations = new ArrayList<>();
        for (var e : functions.entrySet()) {
            errors.add(e.getValue()
                    .function()
                    .metricErrors(MetricOptions.builder().label(e.getKey()).build()));
            durations.add(e.getValue()
                    .function()
                    .metricDuration(MetricOptions.builder()
                            .label(e.getKey())
                            .statistic("p99")
                            .build()));
        }
        List<IWidget> row2 = List.of(graph("Lambda errors", errors, 12), graph("Lambda duration p99", durations, 12));
        List<IWidget> row3 = new ArrayList<>();
        for (MetricName m : MetricName.values()) {
            // one line per function that runs an emitter of the metric (the dimension it writes)
            List<IMetric> lines = new ArrayList<>();
            for (var e : emitting(m, functions).entrySet()) {
                lines.add(emf(m.wire(), e.getKey(), m.millis() ? "p99" : "Sum"));
            }
            if (!lines.isEmpty()) row3.add(graph(m.wire(), lines, 8));
        }
        this.dashboard = Dashboard.Builder.create(this, "Dashboard")
                .dashboardName(config.stackName() + "-" + config.stageName())
                .widgets(List.of(
                        List.of(TextWidget.Builder.create()
                                .markdown("# Durable sessions (" + config.stageName()
                                        + ")\nTraffic, health of every function, the fan-out stream, and the handlers' "
                                        + "metrics (namespace `" + NAMESPACE + "`).")
                                .width(24)
                                .height(2)
                                .build()),
                        row1,
                        row2,
                        row3))
                .build();
    }

    /** The functions (by their {@link #DIMENSION} value) whose invocations emit {@code m}. */
    static Map<String, JavaFunction> emitting(MetricName m, Map<String, JavaFunction> functions) {
        Map<String, JavaFunction> out = new LinkedHashMap<>();
        for (var e : functions.entrySet()) {
            if (m.emitters().stream().anyMatch(c -> e.getValue().runs(c))) out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    private static Metric apiMetric(WebSocketApi api, String name) {
        return Metric.Builder.create()
                .namespace("AWS/ApiGateway")
                .metricName(name)
                .dimensionsMap(new LinkedHashMap<>(Map.of("ApiId", api.api().getApiId(), "Stage", api.stageName())))
                .statistic("Sum")
                .period(Duration.minutes(1))
                .build();
    }

    private static GraphWidget graph(String title, List<? extends IMetric> metrics, int width) {
        return GraphWidget.Builder.create()
                .title(title)
                .left(List.copyOf(metrics))
                .width(width)
                .height(6)
                .build();
    }

    private void add(Alarm alarm, ITopic topic) {
        if (topic != null) alarm.addAlarmAction(new SnsAction(topic));
        alarms.add(alarm);
    }

    public List<Alarm> alarms() {
        return alarms;
    }

    public Dashboard dashboard() {
        return dashboard;
    }
}
