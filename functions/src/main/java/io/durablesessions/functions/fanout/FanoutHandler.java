package io.durablesessions.functions.fanout;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import io.durablesessions.events.Frames;
import io.durablesessions.events.Limits;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.Metrics;
import io.durablesessions.functions.runtime.Sender;
import io.durablesessions.functions.store.ConnectionStore;
import io.durablesessions.functions.subscribe.Subscriptions;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.Attrs;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.logging.Logger;

/**
 * The events table's stream → every subscriber of each session. Per batch: group records by
 * session (keeping seq order), Query the session's subscribers once, pack its events into as few
 * frames as the message limit allows, and send to all connections concurrently. A 410 removes
 * only that connection. Any other failure is reported as a batch item failure at the first record
 * that did not reach everyone, so the event source retries from there (subscribers may then see
 * some events twice and drop them by seq) and a session's order is never broken.
 */
public final class FanoutHandler implements RequestHandler<DynamodbEvent, StreamsEventResponse> {
    private static final Logger LOG = Logger.getLogger(FanoutHandler.class.getName());
    private static final int MAX_CONCURRENT_POSTS = 256;

    private final Services services;
    private final Presence presence;

    public FanoutHandler() {
        this(Services.fromEnvironment());
    }

    public FanoutHandler(Services services) {
        this.services = services;
        this.presence = new Presence(services);
    }

    /** One stream record of an inserted event. */
    record Rec(String sequenceNumber, long seq, String json, boolean control) {}

    @Override
    public StreamsEventResponse handleRequest(DynamodbEvent event, Context context) {
        Map<String, List<Rec>> bySession = new LinkedHashMap<>();
        for (DynamodbEvent.DynamodbStreamRecord r : event.getRecords()) {
            if (!"INSERT".equals(r.getEventName()) || r.getDynamodb() == null) continue;
            Map<String, AttributeValue> image = r.getDynamodb().getNewImage();
            AttributeValue sid = image == null ? null : image.get(Attrs.SESSION_ID);
            AttributeValue seq = image == null ? null : image.get(Attrs.SEQ);
            AttributeValue json = image == null ? null : image.get(Attrs.EVENT_JSON);
            if (sid == null || seq == null || json == null) {
                LOG.warning("skipping a stream record that is not an event: " + r.getDynamodb().getSequenceNumber());
                continue; // a poison record must never block the shard
            }
            bySession.computeIfAbsent(sid.getS(), k -> new ArrayList<>())
                    .add(new Rec(r.getDynamodb().getSequenceNumber(), Long.parseLong(seq.getN()), json.getS(),
                            Subscriptions.isControl(json.getS())));
        }
        List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>();
        Tally tally = new Tally();
        Semaphore posts = new Semaphore(MAX_CONCURRENT_POSTS);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> results = new ArrayList<>();
            for (var e : bySession.entrySet()) {
                List<Rec> recs = e.getValue();
                recs.sort(Comparator.comparingLong(Rec::seq));
                results.add(pool.submit(() -> deliver(e.getKey(), recs, pool, posts, tally)));
            }
            for (Future<String> f : results) {
                String failedAt = get(f);
                if (failedAt != null) failures.add(new StreamsEventResponse.BatchItemFailure(failedAt));
            }
        }
        tally.metrics.count("DeliveredEvents", tally.delivered.sum()).count("Gone410", tally.gone.sum()).flush();
        return new StreamsEventResponse(failures);
    }

    /** Returns the stream sequence number of the first record not delivered to everyone, or null. */
    private String deliver(String sessionId, List<Rec> recs, ExecutorService pool, Semaphore posts, Tally tally) {
        List<ConnectionStore.Subscriber> subscribers;
        try {
            subscribers = services.connections().subscribers(sessionId);
        } catch (RuntimeException e) {
            LOG.warning("subscriber query failed: " + e);
            return recs.get(0).sequenceNumber();
        }
        subscribers = entitled(sessionId, subscribers);
        if (subscribers.isEmpty()) return null;
        List<Integer> all = new ArrayList<>();
        List<Integer> control = new ArrayList<>();
        for (int i = 0; i < recs.size(); i++) {
            all.add(i);
            if (recs.get(i).control()) control.add(i);
        }
        List<Outgoing> everything = pack(sessionId, recs, all);
        List<Outgoing> controlOnly = pack(sessionId, recs, control);
        List<Future<Integer>> perConnection = new ArrayList<>();
        for (ConnectionStore.Subscriber sub : subscribers) {
            List<Outgoing> frames = sub.controlOnly() ? controlOnly : everything;
            if (frames.isEmpty()) continue;
            perConnection.add(pool.submit(() -> sendAll(sub.connectionId(), frames, posts, tally)));
        }
        int firstFailed = Integer.MAX_VALUE;
        for (Future<Integer> f : perConnection) firstFailed = Math.min(firstFailed, get(f));
        // end-to-end latency of the session's newest event: its server timestamp to now, after the posts
        tally.metrics.millis("FanoutLatencyMs",
                services.clock().millis() - Json.parseObject(recs.get(recs.size() - 1).json()).path("ts").asLong());
        return firstFailed == Integer.MAX_VALUE ? null : recs.get(firstFailed).sequenceNumber();
    }

    /**
     * Only subscribers whose grant still covers the session and whose token is not revoked get
     * its events; the others lose the subscription (a revocation takes effect at the next fan-out).
     */
    private List<ConnectionStore.Subscriber> entitled(String sessionId, List<ConnectionStore.Subscriber> subscribers) {
        Set<Principal> revoked = services.revocations().revokedAmong(
                subscribers.stream().map(ConnectionStore.Subscriber::identity).distinct().toList());
        List<ConnectionStore.Subscriber> ok = new ArrayList<>(subscribers.size());
        for (ConnectionStore.Subscriber sub : subscribers) {
            if (sub.identity().can(Capability.READ, sessionId) && !revoked.contains(sub.identity())) {
                ok.add(sub);
            } else {
                services.connections().unsubscribe(sub.connectionId(), sessionId);
            }
        }
        return ok;
    }

    /** A frame to send and the index (in the batch's records of its session) of its first event. */
    record Outgoing(String frame, int firstRecord, int events) {}

    /** What one invocation delivered, for its metrics (sessions are delivered concurrently). */
    static final class Tally {
        final java.util.concurrent.atomic.LongAdder delivered = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder gone = new java.util.concurrent.atomic.LongAdder();
        final Metrics.Batch metrics = Metrics.batch(); // FanoutLatencyMs: one value per session
    }

    private static List<Outgoing> pack(String sessionId, List<Rec> recs, List<Integer> indexes) {
        List<String> jsons = indexes.stream().map(i -> recs.get(i).json()).toList();
        return Frames.packEvents(sessionId, jsons, Limits.MAX_MESSAGE_BYTES).stream()
                .map(p -> new Outgoing(p.frame(), indexes.get(p.firstIndex()), p.count())).toList();
    }

    /** Sends the frames in order; returns the index of the first record not delivered, or MAX_VALUE. */
    private int sendAll(String connectionId, List<Outgoing> frames, Semaphore posts, Tally tally) {
        for (Outgoing frame : frames) {
            Sender.Outcome outcome;
            posts.acquireUninterruptibly();
            try {
                outcome = services.sender().post(connectionId, frame.frame());
            } finally {
                posts.release();
            }
            if (outcome == Sender.Outcome.SENT) tally.delivered.add(frame.events());
            if (outcome == Sender.Outcome.GONE) {
                tally.gone.increment();
                presence.connectionGone(connectionId); // only the connection that is gone
                return Integer.MAX_VALUE;
            }
            if (outcome == Sender.Outcome.FAILED) return frame.firstRecord();
        }
        return Integer.MAX_VALUE;
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
