package io.durablesessions.cli;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The pacing of {@code ds replay}: each event waits for the time that passed between it and the
 * one before in the log ({@code ts}), divided by the speed and capped at the longest pause. When
 * printing falls behind (a slow page), it goes on from now instead of bursting to catch up.
 */
final class Pacer {
    private final double speed;
    private final Duration maxGap;
    private long previousTs = -1;
    private long deadlineNanos;

    Pacer(double speed, Duration maxGap) {
        if (!(speed > 0) || Double.isInfinite(speed))
            throw new IllegalArgumentException("speed must be a positive number");
        this.speed = speed;
        this.maxGap = maxGap;
    }

    /** The pause before an event at {@code ts} that follows one at {@code previousTs} (epoch milliseconds). */
    static Duration pause(long previousTs, long ts, double speed, Duration maxGap) {
        long gapMillis = Math.max(0, ts - previousTs);
        long nanos = (long) (gapMillis * 1_000_000L / speed);
        return Duration.ofNanos(Math.min(nanos, maxGap.toNanos()));
    }

    /** Waits until the event at {@code ts} is due; the first event is due at once. */
    void awaitTurn(long ts) throws InterruptedException {
        long now = System.nanoTime();
        if (previousTs < 0) {
            deadlineNanos = now;
        } else {
            deadlineNanos = Math.max(
                    now, deadlineNanos + pause(previousTs, ts, speed, maxGap).toNanos());
            while (true) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) break;
                LockSupport.parkNanos(left);
                if (Thread.interrupted()) throw new InterruptedException();
            }
        }
        previousTs = ts;
    }
}
