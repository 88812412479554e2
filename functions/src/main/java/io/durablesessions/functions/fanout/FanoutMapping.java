package io.durablesessions.functions.fanout;

import java.time.Duration;

/**
 * The event source mapping of the fan-out on the events table's stream: one definition for the
 * CDK stack and the local stack's emulated mapping.
 */
public final class FanoutMapping {
    /** Small batches keep latency low; a batch holds several sessions' events. */
    public static final int BATCH_SIZE = 100;
    /** No batching window: deliver as soon as the poller sees records (~4 polls/s per shard in AWS). */
    public static final Duration MAX_BATCHING_WINDOW = Duration.ZERO;
    /** One concurrent batch per shard keeps each session's events in order. */
    public static final int PARALLELIZATION_FACTOR = 1;

    public static final boolean BISECT_ON_ERROR = true;
    public static final boolean REPORT_BATCH_ITEM_FAILURES = true;
    /** Bounded retries: a poison record goes to the on-failure queue instead of blocking a shard for 24 h. */
    public static final int MAX_RETRY_ATTEMPTS = 5;

    public static final Duration MAX_RECORD_AGE = Duration.ofMinutes(15);
    /** Deletions (session erase, TTL) never invoke the fan-out. */
    public static final String INSERT_ONLY_FILTER = "{\"eventName\":[\"INSERT\"]}";

    private FanoutMapping() {}
}
