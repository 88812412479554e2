package io.durablesessions.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with full jitter: a random delay in [base/2, min(max, base·2^attempt)]. */
public record Backoff(Duration initial, Duration max) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));

    public Backoff {
        if (initial.isNegative() || initial.isZero()) throw new IllegalArgumentException("initial must be > 0");
        if (max.compareTo(initial) < 0) throw new IllegalArgumentException("max must be >= initial");
    }

    public Duration delay(int attempt) {
        long cap = initial.toMillis() << Math.min(attempt, 20);
        long upper = Math.min(max.toMillis(), Math.max(cap, initial.toMillis()));
        long lower = Math.max(1, initial.toMillis() / 2);
        return Duration.ofMillis(
                lower >= upper ? upper : ThreadLocalRandom.current().nextLong(lower, upper + 1));
    }
}
