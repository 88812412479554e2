package io.durablesessions.functions.runtime;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.Json;
import io.durablesessions.events.Refusal;
import io.durablesessions.events.TraceParent;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.Collection;

/**
 * The handlers' spans (docs/observability.md), through the OpenTelemetry API: without an SDK (the
 * local stack, a deployment without tracing) every call is a no-op; with the ADOT Lambda layer
 * (CDK {@code tracing}) the layer's SDK records them and exports to X-Ray. The layer also instruments
 * every AWS SDK client, so each DynamoDB and {@code @connections} call gets its own client span, a
 * child of whichever of these spans is current.
 *
 * <ul>
 *   <li>a handler span per invocation ({@link #handler}): {@code ws <route>}, {@code http <route>},
 *       {@code ws $connect}, {@code fanout}, {@code sweep}, with {@link #ROUTE}, {@link #SESSION},
 *       {@link #FIRST_SEQ}/{@link #LAST_SEQ} and {@link #OUTCOME};</li>
 *   <li>an append that carries a {@code traceparent} continues the writer's trace: its handler span
 *       is a child of that remote span, and links the invocation's own span (the layer's) when
 *       there is one;</li>
 *   <li>{@code deliver} spans ({@link #delivery}) around posting a session's events, from the append
 *       (direct delivery) and from the fan-out, linked to the stored traceparents of what they post.</li>
 * </ul>
 */
public final class Tracing {
    /** The instrumentation scope of every span here. */
    public static final String SCOPE = "io.durablesessions.functions";

    public static final AttributeKey<String> ROUTE = AttributeKey.stringKey("ds.route");
    public static final AttributeKey<String> SESSION = AttributeKey.stringKey("ds.session_id");
    public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("ds.request_id");
    /** {@code ok}, {@code duplicate}, or the protocol's error code (docs/protocol.md §5). */
    public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("ds.outcome");

    public static final AttributeKey<Long> FIRST_SEQ = AttributeKey.longKey("ds.first_seq");
    public static final AttributeKey<Long> LAST_SEQ = AttributeKey.longKey("ds.last_seq");
    public static final AttributeKey<Long> EVENTS = AttributeKey.longKey("ds.events");
    public static final AttributeKey<Long> SUBSCRIBERS = AttributeKey.longKey("ds.subscribers");
    public static final AttributeKey<Long> DELIVERED = AttributeKey.longKey("ds.delivered");
    public static final AttributeKey<Long> SESSIONS = AttributeKey.longKey("ds.sessions");
    public static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

    /** Links per span at most: a fan-out batch of many appends links the first of them. */
    static final int MAX_LINKS = 32;

    /** No spans at all (tests that do not look at them). */
    public static final Tracing OFF = new Tracing(OpenTelemetry.noop());

    private final Tracer tracer;

    public Tracing(OpenTelemetry otel) {
        this.tracer = otel.getTracer(SCOPE);
    }

    /**
     * The process's OpenTelemetry: in Lambda the ADOT layer's SDK, installed before the handler is
     * built; elsewhere the API's no-op, unless an agent or the host installed one.
     */
    public static Tracing global() {
        return new Tracing(GlobalOpenTelemetry.get());
    }

    /**
     * Starts a handler's span ({@link SpanKind#SERVER}). With a {@code traceparent} it is a child of
     * the writer's span and links the current one (the invocation's); without, a child of the current
     * context.
     *
     * @param started when the invocation began (the span may start after the frame was parsed), or null for now
     */
    public Span handler(String name, String route, TraceParent traceparent, Instant started) {
        SpanBuilder b = tracer.spanBuilder(name).setSpanKind(SpanKind.SERVER).setAttribute(ROUTE, route);
        if (started != null) b.setStartTimestamp(started);
        if (traceparent != null) {
            SpanContext ambient = Span.current().getSpanContext();
            b.setParent(Context.current().with(Span.wrap(remote(traceparent))));
            if (ambient.isValid()) b.addLink(ambient);
        }
        return b.startSpan();
    }

    /** A handler's span for a batch of records (the fan-out's stream batch), child of the current context. */
    public Span consumer(String name) {
        return tracer.spanBuilder(name)
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(ROUTE, name)
                .startSpan();
    }

    /** A span inside a handler, child of the current one. */
    public Span internal(String name) {
        return tracer.spanBuilder(name).startSpan();
    }

    /**
     * A span around posting one session's events to its subscribers, child of the current span and
     * linked to the trace context each posted event was appended with (at most {@value #MAX_LINKS}).
     */
    public Span delivery(String sessionId, Collection<String> traceparents) {
        SpanBuilder b =
                tracer.spanBuilder("deliver").setSpanKind(SpanKind.PRODUCER).setAttribute(SESSION, sessionId);
        int links = 0;
        for (String tp : traceparents) {
            TraceParent parsed = TraceParent.parseOrNull(tp);
            if (parsed == null) continue;
            b.addLink(remote(parsed));
            if (++links == MAX_LINKS) break;
        }
        return b.startSpan();
    }

    /** The writer's span as a remote parent. */
    public static SpanContext remote(TraceParent tp) {
        return SpanContext.createFromRemoteParent(
                tp.traceId(), tp.parentId(), TraceFlags.fromHex(tp.flags(), 0), TraceState.getDefault());
    }

    /**
     * The traceparent of a stored event's JSON, or null. The envelope puts it before {@code data}, and
     * most events have none: a plain search rules them out before any parsing.
     */
    public static String traceparentOf(String eventJson) {
        if (eventJson.indexOf("\"traceparent\"") < 0) return null;
        return Json.topLevelText(eventJson, "traceparent");
    }

    /** Records what an append, control or heartbeat came to on the current span. */
    public static void outcome(String sessionId, AppendResult result) {
        Span span = Span.current();
        if (!span.isRecording()) return;
        span.setAttribute(SESSION, sessionId);
        Refusal refusal = Refusal.of(result);
        if (refusal != null) {
            span.setAttribute(OUTCOME, refusal.code().name());
        } else if (result instanceof AppendResult.Appended a) {
            span.setAttribute(OUTCOME, "ok")
                    .setAttribute(FIRST_SEQ, a.firstSeq())
                    .setAttribute(LAST_SEQ, a.lastSeq())
                    .setAttribute(EVENTS, (long) a.events().size());
        } else if (result instanceof AppendResult.Duplicate d) {
            span.setAttribute(OUTCOME, "duplicate");
            if (d.firstSeq() != null) span.setAttribute(FIRST_SEQ, d.firstSeq()).setAttribute(LAST_SEQ, d.lastSeq());
        } else {
            span.setAttribute(OUTCOME, "ok");
        }
    }
}
