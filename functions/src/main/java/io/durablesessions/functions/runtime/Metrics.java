package io.durablesessions.functions.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;
import software.amazon.cloudwatchlogs.emf.environment.Environment;
import software.amazon.cloudwatchlogs.emf.environment.LambdaEnvironment;
import software.amazon.cloudwatchlogs.emf.logger.MetricsLogger;
import software.amazon.cloudwatchlogs.emf.model.DimensionSet;
import software.amazon.cloudwatchlogs.emf.model.MetricsContext;
import software.amazon.cloudwatchlogs.emf.model.Unit;
import software.amazon.cloudwatchlogs.emf.sinks.ISink;

/**
 * CloudWatch metrics in embedded metric format (aws-embedded-metrics): namespace {@value #NAMESPACE},
 * one dimension {@value #DIMENSION} = env {@code METRICS_FUNCTION} (set by the CDK stack to the
 * function's short name: {@code Append}, {@code Fanout}, {@code Authorizer}, …).
 *
 * <p>The environment is chosen here, never probed: in Lambda the library's Lambda environment
 * writes one JSON line per flush to stdout, which CloudWatch Logs turns into metrics; anywhere else
 * (local stack, tests) the same lines go to java.util.logging at FINE. So no CloudWatch agent, no
 * instance-metadata call, no network. A metric never fails the request that emits it.
 */
public final class Metrics {
    public static final String NAMESPACE = "DurableSessions";
    public static final String DIMENSION = "Function";
    /** The function's name as charted (the CDK sets it to the construct's name; else Lambda's own name). */
    public static final String FUNCTION_ENV = "METRICS_FUNCTION";

    private static final Logger LOG = Logger.getLogger(Metrics.class.getName());
    private static final String FUNCTION =
            firstSet(System.getenv(FUNCTION_ENV), System.getenv("AWS_LAMBDA_FUNCTION_NAME"), "local");
    private static final Environment ENVIRONMENT =
            System.getenv("AWS_LAMBDA_FUNCTION_NAME") != null ? new LambdaEnvironment() : new LocalLog();

    private Metrics() {}

    /** One value, flushed now: {@code Metrics.count(MetricName.AUTH_REFUSALS, 1)}. */
    public static void count(MetricName name, double value) {
        batch().count(name, value).flush();
    }

    public static Batch batch() {
        return new Batch();
    }

    /** Values gathered during one invocation (from any thread) and flushed as one EMF record. */
    public static final class Batch {
        private record Value(String name, double value, Unit unit) {}

        private final List<Value> values = new ArrayList<>();

        public synchronized Batch count(MetricName name, double value) {
            values.add(new Value(name.wire(), value, Unit.COUNT));
            return this;
        }

        public synchronized Batch millis(MetricName name, double value) {
            values.add(new Value(name.wire(), value, Unit.MILLISECONDS));
            return this;
        }

        public synchronized void flush() {
            if (values.isEmpty()) return;
            try {
                MetricsLogger m = new MetricsLogger(ENVIRONMENT); // timestamped now, not at snapshot time
                m.setNamespace(NAMESPACE);
                m.setDimensions(DimensionSet.of(DIMENSION, FUNCTION));
                for (Value v : values) m.putMetric(v.name(), v.value(), v.unit());
                m.flush();
            } catch (Exception e) {
                LOG.warning("metrics not emitted: " + e);
            } finally {
                values.clear();
            }
        }
    }

    private static String firstSet(String... candidates) {
        for (String c : candidates) if (c != null && !c.isBlank()) return c;
        return null;
    }

    /** Outside Lambda: the EMF lines go to java.util.logging (FINE), nowhere else. */
    private static final class LocalLog implements Environment, ISink {
        public boolean probe() {
            return true;
        }

        public String getName() {
            return FUNCTION;
        }

        public String getType() {
            return "Local";
        }

        public String getLogGroupName() {
            return FUNCTION + "-metrics";
        }

        public void configureContext(MetricsContext context) {}

        public ISink getSink() {
            return this;
        }

        public void accept(MetricsContext context) {
            try {
                // serialized even when FINE is off, so local runs exercise exactly what Lambda prints
                for (String line : context.serialize()) LOG.log(Level.FINE, line);
            } catch (Exception e) {
                LOG.fine("metrics not serialized: " + e);
            }
        }

        public CompletableFuture<Void> shutdown() {
            return CompletableFuture.completedFuture(null);
        }
    }
}
