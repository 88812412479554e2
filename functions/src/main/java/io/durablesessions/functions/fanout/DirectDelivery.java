package io.durablesessions.functions.fanout;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.Event;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.ConnectionStore.Subscriber;
import io.durablesessions.functions.store.DeliveryMarks;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Direct delivery: right after an append (or a control) commits, the handler that wrote it posts
 * the new events to the session's live subscribers itself, instead of waiting for DynamoDB Streams
 * to be polled and the fan-out to run. The Streams fan-out stays the guarantee: it delivers whatever
 * this missed (a failed post, a crash between commit and post), and skips what this delivered to
 * everyone ({@link DeliveryMarks}). The subscribers are read after the commit (a consistent Query):
 * one that registers later has the events in its own catch-up read.
 *
 * <p>Off with {@code DIRECT_DELIVERY=false}. Sessions with more than {@value #MAX_SUBSCRIBERS}
 * subscribers are left to the fan-out: the direct path posts every append to every subscriber, one
 * post each, while the fan-out packs several appends into each post (with 100 readers, direct posts
 * kept up with 3.35 of 20 appends/s in `./scripts/bench --only=peer` when the writer's ack still
 * waited for them; docs/architecture.md, Delivery).
 */
public final class DirectDelivery {
    private static final Logger LOG = Logger.getLogger(DirectDelivery.class.getName());
    public static final int MAX_SUBSCRIBERS = 32;

    private final Services services;
    private final Delivery delivery;
    private final DeliveryMarks marks;

    public DirectDelivery(Services services) {
        this.services = services;
        this.delivery = new Delivery(services);
        this.marks = new DeliveryMarks(services.dynamo(), services.tables());
    }

    public boolean enabled() {
        return services.features().directDelivery();
    }

    /** Posts what {@code result} appended, if it appended anything; never throws (the append stands). */
    public void deliver(String sessionId, AppendResult result) {
        if (!enabled()
                || !(result instanceof AppendResult.Appended appended)
                || appended.events().isEmpty()) return;
        // a child of the append's span, which already continues the writer's trace: no links needed
        Span span = services.tracing().delivery(sessionId, List.of());
        span.setAttribute(Tracing.FIRST_SEQ, appended.firstSeq()).setAttribute(Tracing.LAST_SEQ, appended.lastSeq());
        try (Scope ignored = span.makeCurrent()) {
            deliver(sessionId, appended, span);
        } finally {
            span.end();
        }
    }

    private void deliver(String sessionId, AppendResult.Appended appended, Span span) {
        try {
            List<Subscriber> subscribers = services.connections().subscribers(sessionId);
            span.setAttribute(Tracing.SUBSCRIBERS, (long) subscribers.size());
            if (subscribers.size() > MAX_SUBSCRIBERS) {
                span.setAttribute(Tracing.OUTCOME, "left to the fan-out");
                return;
            }
            List<Delivery.Item> items = new ArrayList<>(appended.events().size());
            for (Event e : appended.events())
                items.add(new Delivery.Item(e.seq(), e.toJson(), e.type().isControl()));
            if (!Delivery.anyoneDue(items, subscribers)) {
                // nobody to post to (no subscriber, or agents listening for control events only), and
                // no mark to write: the fan-out finds the same (or a reader that registered since, which
                // its catch-up serves too) and moves the mark once per batch, without waiting
                span.setAttribute(Tracing.OUTCOME, "nobody due");
                return;
            }
            Delivery.Outcome o = delivery.deliver(sessionId, items, subscribers);
            span.setAttribute(Tracing.DELIVERED, o.delivered())
                    .setAttribute(Tracing.OUTCOME, o.complete() ? "ok" : "incomplete");
            Metrics.Batch m = Metrics.batch().count(MetricName.DIRECT_DELIVERED_EVENTS, o.delivered());
            if (!o.complete()) m.count(MetricName.DIRECT_INCOMPLETE, 1);
            m.flush();
            if (o.complete())
                marks.deliveredDirectly(
                        sessionId,
                        appended.firstSeq(),
                        appended.lastSeq(),
                        appended.events().get(0).ts());
        } catch (RuntimeException e) {
            // committed is committed: the fan-out delivers it
            span.setAttribute(Tracing.OUTCOME, "failed");
            span.recordException(e);
            LOG.warning("direct delivery of " + sessionId + " " + appended.firstSeq() + ".." + appended.lastSeq()
                    + " left to the fan-out: " + e);
        }
    }
}
