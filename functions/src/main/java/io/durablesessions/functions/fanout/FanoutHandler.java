package io.durablesessions.functions.fanout;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.ConnectionStore;
import io.durablesessions.functions.store.DeliveryMarks;
import io.durablesessions.functions.subscribe.Subscriptions;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * The events table's stream → every subscriber of each session: the guarantee behind direct
 * delivery ({@link DirectDelivery}). Per batch: group records by session (keeping seq order), drop
 * the events of an erased session whose id was taken again (their incarnation is not the session's
 * now) and what direct delivery already brought to everyone ({@link DeliveryMarks}), Query the session's
 * subscribers once, and post the rest ({@link Delivery}). A 410 removes only that connection. Any
 * other failure is reported as a batch item failure at the first record that did not reach
 * everyone, so the event source retries from there (subscribers may then see some events twice and
 * drop them by seq) and a session's order is never broken.
 */
public final class FanoutHandler implements RequestHandler<DynamodbEvent, StreamsEventResponse> {
    private static final Logger LOG = Logger.getLogger(FanoutHandler.class.getName());

    private final Services services;
    private final Delivery delivery;
    private final DeliveryMarks marks;

    public FanoutHandler() {
        this(Services.fromEnvironment());
    }

    public FanoutHandler(Services services) {
        this.services = services;
        this.delivery = new Delivery(services);
        this.marks = new DeliveryMarks(services.dynamo(), services.tables());
    }

    /** One stream record of an inserted event, and its session's incarnation (0: written before there were any). */
    record Rec(String sequenceNumber, Delivery.Item item, long incarnation) {}

    @Override
    public StreamsEventResponse handleRequest(DynamodbEvent event, Context context) {
        Span span = services.tracing().consumer("fanout");
        try (Scope ignored = span.makeCurrent()) {
            StreamsEventResponse response = fanOut(event);
            span.setAttribute(Tracing.OUTCOME, response.getBatchItemFailures().isEmpty() ? "ok" : "retry");
            return response;
        } finally {
            span.end();
        }
    }

    private StreamsEventResponse fanOut(DynamodbEvent event) {
        Map<String, List<Rec>> bySession = new LinkedHashMap<>();
        for (DynamodbEvent.DynamodbStreamRecord r : event.getRecords()) {
            if (!"INSERT".equals(r.getEventName()) || r.getDynamodb() == null) continue;
            Map<String, AttributeValue> image = r.getDynamodb().getNewImage();
            AttributeValue sid = image == null ? null : image.get(Attrs.SESSION_ID);
            AttributeValue seq = image == null ? null : image.get(Attrs.SEQ);
            AttributeValue json = image == null ? null : image.get(Attrs.EVENT_JSON);
            if (sid == null || seq == null || json == null) {
                LOG.warning("skipping a stream record that is not an event: "
                        + r.getDynamodb().getSequenceNumber());
                continue; // a poison record must never block the shard
            }
            AttributeValue inc = image.get(Attrs.INCARNATION);
            bySession
                    .computeIfAbsent(sid.getS(), k -> new ArrayList<>())
                    .add(new Rec(
                            r.getDynamodb().getSequenceNumber(),
                            new Delivery.Item(
                                    Long.parseLong(seq.getN()), json.getS(), Subscriptions.isControl(json.getS())),
                            inc == null || inc.getN() == null ? 0 : Long.parseLong(inc.getN())));
        }
        Span.current().setAttribute(Tracing.SESSIONS, (long) bySession.size()).setAttribute(Tracing.EVENTS, (long)
                bySession.values().stream().mapToInt(List::size).sum());
        List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>();
        Tally tally = new Tally();
        // each session's deliver span is a child of this invocation's, on whichever thread it runs
        try (ExecutorService pool =
                io.opentelemetry.context.Context.taskWrapping(Executors.newVirtualThreadPerTaskExecutor())) {
            List<Future<String>> results = new ArrayList<>();
            for (var e : bySession.entrySet()) {
                List<Rec> recs = e.getValue();
                recs.sort(Comparator.comparingLong(r -> r.item().seq()));
                results.add(pool.submit(() -> deliver(e.getKey(), recs, tally)));
            }
            for (Future<String> f : results) {
                String failedAt = get(f);
                if (failedAt != null) failures.add(new StreamsEventResponse.BatchItemFailure(failedAt));
            }
        }
        tally.metrics
                .count(MetricName.DELIVERED_EVENTS, tally.delivered.sum())
                .count(MetricName.GONE_410, tally.gone.sum())
                .count(MetricName.FANOUT_SKIPPED_EVENTS, tally.skipped.sum())
                .flush();
        return new StreamsEventResponse(failures);
    }

    /**
     * Returns the stream sequence number of the first record not delivered to everyone, or null. Its
     * span links the trace context each event was appended with: the fan-out continues the writer's trace.
     */
    private String deliver(String sessionId, List<Rec> all, Tally tally) {
        Set<String> traceparents = new LinkedHashSet<>();
        for (Rec r : all) {
            String tp = Tracing.traceparentOf(r.item().json());
            if (tp != null) traceparents.add(tp);
        }
        Span span = services.tracing().delivery(sessionId, traceparents);
        span.setAttribute(Tracing.FIRST_SEQ, all.get(0).item().seq())
                .setAttribute(Tracing.LAST_SEQ, all.get(all.size() - 1).item().seq());
        try (Scope ignored = span.makeCurrent()) {
            String failedAt = deliverTraced(sessionId, all, tally, span);
            span.setAttribute(Tracing.OUTCOME, failedAt == null ? "ok" : "retry");
            return failedAt;
        } finally {
            span.end();
        }
    }

    private String deliverTraced(String sessionId, List<Rec> batch, Tally tally, Span span) {
        List<Rec> all = batch;
        List<Rec> recs = batch;
        List<ConnectionStore.Subscriber> subscribers;
        DeliveryMarks.Mark mark;
        try {
            // what direct delivery brought to everyone already is not posted again
            DeliveryMarks.Mark read = marks.read(sessionId);
            if (batch.stream().anyMatch(r -> r.incarnation() != read.incarnation())) {
                mark = marks.read(sessionId, true); // a session created again, or a read a little behind
            } else {
                mark = read;
            }
            // events of an erased session whose id was taken again are not the new session's: not posted
            all = ofIncarnation(batch, mark);
            tally.skipped.add(batch.size() - all.size());
            if (all.isEmpty()) return null;
            recs = uncovered(all, mark);
            if (!recs.isEmpty()) {
                subscribers = services.connections().subscribers(sessionId);
                if (!Delivery.anyoneDue(recs.stream().map(Rec::item).toList(), subscribers)) {
                    // nobody is due these events (no subscriber, or agents listening for control only):
                    // nothing to post, to wait for or to mark; a later reader's catch-up has them
                    tally.skipped.add(all.size() - recs.size());
                    return null;
                }
                if (services.features().directDelivery() && subscribers.size() <= DirectDelivery.MAX_SUBSCRIBERS) {
                    long incarnation = mark.incarnation();
                    mark = awaitDirect(sessionId, mark, recs);
                    if (mark.incarnation() != incarnation) {
                        // erased (and maybe created again) while we waited: these events are gone with it
                        tally.skipped.add(all.size());
                        return null;
                    }
                    recs = uncovered(all, mark);
                }
            } else {
                subscribers = List.of();
            }
            tally.skipped.add(all.size() - recs.size());
            if (recs.isEmpty()) {
                // all delivered directly: the mark's set is compacted now and then, not on every batch
                if (mark.direct().size() >= COMPACT_MARK_AT) moveMark(sessionId, all, mark);
                return null;
            }
            span.setAttribute(Tracing.SUBSCRIBERS, (long) subscribers.size());
        } catch (RuntimeException e) {
            LOG.warning("reading the subscribers of " + sessionId + " failed: " + e);
            return recs.get(0).sequenceNumber();
        }
        Delivery.Outcome o =
                delivery.deliver(sessionId, recs.stream().map(Rec::item).toList(), subscribers);
        span.setAttribute(Tracing.DELIVERED, o.delivered());
        tally.delivered.add(o.delivered());
        tally.gone.add(o.gone());
        // end-to-end latency of the session's newest event: its server timestamp to now, after the posts
        tally.metrics.millis(
                MetricName.FANOUT_LATENCY_MS,
                services.clock().millis()
                        - Json.parseObject(recs.get(recs.size() - 1).item().json())
                                .path("ts")
                                .asLong());
        if (!o.complete()) return recs.get(o.firstFailed()).sequenceNumber();
        moveMark(sessionId, all, mark);
        return null;
    }

    /** Seqs in the mark's set at which the fan-out moves the mark although it posted nothing itself. */
    public static final int COMPACT_MARK_AT = 64;

    /** Every record of {@code all} reached every subscriber (by this fan-out or directly): the mark moves past them. */
    private void moveMark(String sessionId, List<Rec> all, DeliveryMarks.Mark seen) {
        try {
            marks.deliveredThrough(sessionId, all.get(all.size() - 1).item().seq(), seen, seen.incarnation());
        } catch (RuntimeException e) {
            LOG.warning("moving the delivery mark of " + sessionId + " failed (costs duplicates only): " + e);
        }
    }

    /**
     * How long after an event was written the fan-out gives direct delivery to report it delivered
     * (move the mark) before posting it itself. On AWS the stream's own delay (a shard is polled
     * about every 250 ms) usually covers it; with a fast poller (the local stack) it keeps the
     * fan-out from posting, a second time, what the append is posting right now. A direct post that
     * failed costs this much extra delay on its way through the fan-out.
     */
    static final Duration DIRECT_GRACE = Duration.ofMillis(500);

    /** The mark once it covers {@code recs}, or when the newest of them is {@link #DIRECT_GRACE} old. */
    private DeliveryMarks.Mark awaitDirect(String sessionId, DeliveryMarks.Mark seen, List<Rec> recs) {
        long writtenAt = Json.parseObject(recs.get(recs.size() - 1).item().json())
                .path("ts")
                .asLong();
        DeliveryMarks.Mark mark = seen;
        for (int polls = 0;
                !uncovered(recs, mark).isEmpty() && services.clock().millis() - writtenAt < DIRECT_GRACE.toMillis();
                polls++) {
            try {
                Thread.sleep(Math.min(20, 2L << Math.min(polls, 4)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return mark;
            }
            mark = marks.read(sessionId);
        }
        return mark;
    }

    /**
     * The records of the session {@code mark}'s row belongs to. A row without an incarnation (none, or
     * older than incarnations) keeps every record, as before; events without one are older than any
     * row that has one.
     */
    static List<Rec> ofIncarnation(List<Rec> recs, DeliveryMarks.Mark mark) {
        if (mark.incarnation() == 0) return recs;
        return recs.stream().filter(r -> r.incarnation() == mark.incarnation()).toList();
    }

    private static List<Rec> uncovered(List<Rec> recs, DeliveryMarks.Mark mark) {
        return recs.stream().filter(r -> !mark.covers(r.item().seq())).toList();
    }

    /** What one invocation delivered, for its metrics (sessions are delivered concurrently). */
    static final class Tally {
        final LongAdder delivered = new LongAdder();
        final LongAdder gone = new LongAdder();
        final LongAdder skipped = new LongAdder();
        final Metrics.Batch metrics = Metrics.batch(); // FanoutLatencyMs: one value per session
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
