package io.durablesessions.functions.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-key token bucket: never refuses traffic at the rate, however unevenly it arrives; refuses only above it. */
class RateLimiterTest {
    static final long SECOND = 1_000_000_000L;

    @Test
    void unevenTrafficAtNinetyPercentOfTheRateIsNeverRefused() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(100, now::get);
        Random random = new Random(7);
        // 90 requests a second for a minute as a busy network delivers them: each up to 100 ms late, and
        // every few seconds a half-second stall after which everything held back arrives at once
        List<Long> arrivals = new ArrayList<>();
        for (int i = 0; i < 90 * 60; i++) {
            long sent = i * SECOND / 90;
            long arrives = sent + (long) (random.nextDouble() * 0.1 * SECOND);
            long inSecond = arrives % (7 * SECOND);
            if (inSecond < SECOND / 2) arrives += SECOND / 2 - inSecond; // the stall ends: a burst
            arrivals.add(arrives);
        }
        arrivals.sort(null);
        int refused = 0;
        for (long t : arrivals) {
            now.set(t);
            if (!limiter.tryAcquire("conn-1")) refused++;
        }
        assertThat(refused).isZero();
    }

    @Test
    void atOneAndAHalfTimesTheRateOnlyWhatIsAboveTheRateIsRefused() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(100, now::get);
        int admitted = 0;
        int sent = 0;
        for (int i = 0; i < 1500; i++) {
            now.set(i * SECOND / 150);
            sent++;
            if (limiter.tryAcquire("conn-1")) admitted++;
        }
        // 10 s at the rate plus one second's burst, and not one fewer
        assertThat(sent).isEqualTo(1500);
        assertThat(admitted).isBetween(100 * 10, 100 * 10 + 100);
        assertThat(limiter.retryAfterMillis("conn-1")).isBetween(1L, 10L);
    }

    @Test
    void eightConcurrentSendersShareOneBucketExactly() throws Exception {
        AtomicLong now = new AtomicLong(5 * SECOND);
        RateLimiter limiter = new RateLimiter(500, now::get);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Integer>> admitted = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            admitted.add(pool.submit(() -> {
                int ok = 0;
                for (int i = 0; i < 200; i++) if (limiter.tryAcquire("conn-1")) ok++;
                return ok;
            }));
        }
        int total = 0;
        for (Future<Integer> f : admitted) total += f.get();
        pool.shutdown();
        // the clock stood still: exactly one full bucket, whatever the interleaving
        assertThat(total).isEqualTo(500);
        assertThat(limiter.tryAcquire("conn-2")).as("keys are independent").isTrue();
    }

    @Test
    void aBacklogRunLateIsJudgedByWhenItArrivedNotWhenItRuns() {
        AtomicLong now = new AtomicLong(100 * SECOND);
        RateLimiter limiter = new RateLimiter(100, now::get);
        // 3 s of messages at 90 % of the rate reached API Gateway; a stalled container runs them all
        // now, 8 at a time in any order (invocations of one connection overlap)
        List<Long> arrivedAtMillis = new ArrayList<>();
        for (int i = 0; i < 270; i++) arrivedAtMillis.add(97_000L + i * 1000L / 90);
        Random random = new Random(3);
        for (int from = 0; from < arrivedAtMillis.size(); from += 8) {
            java.util.Collections.shuffle(
                    arrivedAtMillis.subList(from, Math.min(from + 8, arrivedAtMillis.size())), random);
        }
        int refused = 0;
        for (long at : arrivedAtMillis) if (!limiter.tryAcquire("conn-1", at)) refused++;
        assertThat(refused).isZero();
        // judged by when they ran, the same backlog is a burst of 270 against a bucket of 100
        RateLimiter byRunTime = new RateLimiter(100, now::get);
        int refusedByRunTime = 0;
        for (int i = 0; i < 270; i++) if (!byRunTime.tryAcquire("conn-1")) refusedByRunTime++;
        assertThat(refusedByRunTime).isEqualTo(170);
    }

    @Test
    void zeroMeansNoLimit() {
        RateLimiter limiter = new RateLimiter(0);
        for (int i = 0; i < 10_000; i++) assertThat(limiter.tryAcquire("k")).isTrue();
    }
}
