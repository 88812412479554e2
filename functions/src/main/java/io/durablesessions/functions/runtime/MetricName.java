package io.durablesessions.functions.runtime;

import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.functions.auth.HttpAuthorizer;
import io.durablesessions.functions.control.ControlHandler;
import io.durablesessions.functions.fanout.FanoutHandler;
import io.durablesessions.functions.http.HttpApiHandler;
import io.durablesessions.functions.publish.AppendHandler;
import java.util.List;

/**
 * Every metric the handlers emit ({@link Metrics}), with the Lambda entry points that emit it. The
 * CDK dashboard charts each one for each function that runs one of its emitters, so a metric
 * added here is charted without touching the dashboard.
 */
public enum MetricName {
    /** Events posted to connections, summed over connections, per fan-out invocation. */
    DELIVERED_EVENTS("DeliveredEvents", false, List.of(FanoutHandler.class)),
    /** Now minus the server timestamp of each session batch's newest event, after its posts. */
    FANOUT_LATENCY_MS("FanoutLatencyMs", true, List.of(FanoutHandler.class)),
    /** Connections found gone (410) while posting; their rows are removed. */
    GONE_410("Gone410", false, List.of(FanoutHandler.class)),
    /** Events the Streams fan-out did not post because direct delivery had reached everyone. */
    FANOUT_SKIPPED_EVENTS("FanoutSkippedEvents", false, List.of(FanoutHandler.class)),
    /** Events posted by direct delivery (from the append path), summed over connections. */
    DIRECT_DELIVERED_EVENTS(
            "DirectDeliveredEvents", false, List.of(AppendHandler.class, ControlHandler.class, HttpApiHandler.class)),
    /** Appends whose direct delivery did not reach every subscriber (the fan-out delivers them). */
    DIRECT_INCOMPLETE(
            "DirectIncomplete", false, List.of(AppendHandler.class, ControlHandler.class, HttpApiHandler.class)),
    /** Appends refused with RUN_FENCED or MESSAGE_FENCED (a writer still writing after a stop or interrupt). */
    FENCED_APPENDS("FencedAppends", false, List.of(AppendHandler.class, HttpApiHandler.class)),
    /** Tokens refused: at {@code $connect}, by the HTTP authorizer, or by the HTTP API itself. */
    AUTH_REFUSALS("AuthRefusals", false, List.of(ConnectAuthorizer.class, HttpAuthorizer.class, HttpApiHandler.class));

    private final String wire;
    private final boolean millis;
    private final List<Class<?>> emitters;

    MetricName(String wire, boolean millis, List<Class<?>> emitters) {
        this.wire = wire;
        this.millis = millis;
        this.emitters = emitters;
    }

    /** The CloudWatch metric name. */
    public String wire() {
        return wire;
    }

    /** Milliseconds (charted as p99), else a count (charted as a sum). */
    public boolean millis() {
        return millis;
    }

    /** The Lambda handler classes whose invocations emit it. */
    public List<Class<?>> emitters() {
        return emitters;
    }
}
