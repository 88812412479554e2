package io.durablesessions.functions.runtime;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Token buckets in this container's memory, one per key (a connection, an HTTP caller): at most
 * {@code perSecond} requests per second on average, and bursts of up to one second's worth, so
 * traffic at the documented rate is never refused even when it arrives unevenly (a pause, then a
 * burst). No DynamoDB write per message; exact under concurrency (each bucket is locked while it is
 * taken from). In AWS a key's traffic may be spread over several warm containers of a route, each
 * with its own bucket; API Gateway's stage and route throttling bounds the total
 * (docs/security.md).
 *
 * <p>Time is when the request reached API Gateway ({@code requestTimeEpoch}) where the caller
 * passes it, so a container that was slow to run the invocations (a cold start, a busy host)
 * does not see a queue of messages sent at the rate as one burst above it.
 */
public final class RateLimiter {
    /** Buckets idle this long are full again and are dropped (a new one is identical). */
    private static final long IDLE_NANOS = 10_000_000_000L;

    private static final int SWEEP_EVERY = 4096;

    private final int perSecond;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private int calls;

    public RateLimiter(int perSecond) {
        this(perSecond, () -> System.currentTimeMillis() * 1_000_000L);
    }

    /** {@code nanoTime}: epoch nanoseconds (the scale of {@link #tryAcquire(String, long)}'s millis). */
    RateLimiter(int perSecond, LongSupplier nanoTime) {
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
    }

    /** The limit: requests per second per key; 0 or less means none. */
    public int perSecond() {
        return perSecond;
    }

    /** Takes one request's token for {@code key}, arriving now; false when the key is over its rate. */
    public boolean tryAcquire(String key) {
        return take(key, nanoTime.getAsLong());
    }

    /**
     * Takes the token of a request that arrived at {@code arrivedAtMillis} (epoch ms; 0 or less:
     * now); requests may be taken out of arrival order.
     */
    public boolean tryAcquire(String key, long arrivedAtMillis) {
        return take(key, arrivedAtMillis > 0 ? arrivedAtMillis * 1_000_000L : nanoTime.getAsLong());
    }

    private boolean take(String key, long at) {
        if (perSecond <= 0) return true;
        if (++calls % SWEEP_EVERY == 0) {
            long now = nanoTime.getAsLong();
            buckets.values().removeIf(b -> b.idleSince(now) > IDLE_NANOS);
        }
        return buckets.computeIfAbsent(key, k -> new Bucket(perSecond, at)).take(at);
    }

    /** How long until {@code key} has a token again (a refused caller's {@code retryAfterMs}). */
    public long retryAfterMillis(String key) {
        Bucket b = buckets.get(key);
        return b == null ? 0 : b.waitMillis(nanoTime.getAsLong());
    }

    private static final class Bucket {
        private final int capacity;
        private final double perNano;
        private double tokens;
        private long updated;

        Bucket(int perSecond, long now) {
            this.capacity = perSecond;
            this.perNano = perSecond / 1e9;
            this.tokens = perSecond;
            this.updated = now;
        }

        synchronized boolean take(long now) {
            refill(now);
            if (tokens < 1) return false;
            tokens -= 1;
            return true;
        }

        synchronized long waitMillis(long now) {
            refill(now);
            return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / perNano / 1e6);
        }

        synchronized long idleSince(long now) {
            return now - updated;
        }

        private void refill(long now) {
            if (now > updated) {
                tokens = Math.min(capacity, tokens + (now - updated) * perNano);
                updated = now;
            }
        }
    }
}
