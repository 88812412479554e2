package io.durablesessions.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The knobs of the local stack the client tests turn: the store's liveness, stop-ack and presence
 * timeouts with the sweeper's interval, and the gateway's maximum connection age. Null keeps the
 * stack's default.
 */
public record StackSettings(
        Duration liveness,
        Duration stopAckTimeout,
        Duration presenceGrace,
        Duration sweepInterval,
        Duration maxConnectionAge) {
    public static StackSettings defaults() {
        return new StackSettings(null, null, null, null, null);
    }

    /** Shorter store timeouts, e.g. so a run without heartbeats fails within a test. */
    public StackSettings withStore(Duration liveness, Duration stopAckTimeout, Duration presenceGrace, Duration sweep) {
        return new StackSettings(liveness, stopAckTimeout, presenceGrace, sweep, maxConnectionAge);
    }

    /** The gateway closes every connection after this long (API Gateway: 2 hours). */
    public StackSettings withMaxConnectionAge(Duration age) {
        return new StackSettings(liveness, stopAckTimeout, presenceGrace, sweepInterval, age);
    }

    boolean hasStore() {
        return liveness != null;
    }

    /** As command-line arguments of {@link StackProcessMain}. */
    List<String> toArgs() {
        List<String> args = new ArrayList<>();
        if (hasStore()) {
            args.add("--store");
            args.add(liveness.toMillis() + "," + stopAckTimeout.toMillis() + "," + presenceGrace.toMillis() + ","
                    + sweepInterval.toMillis());
        }
        if (maxConnectionAge != null) {
            args.add("--max-connection-ms");
            args.add(Long.toString(maxConnectionAge.toMillis()));
        }
        return args;
    }

    static StackSettings fromArgs(String[] args) {
        StackSettings s = defaults();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--store" -> {
                    String[] ms = args[i + 1].split(",");
                    s = s.withStore(ms(ms[0]), ms(ms[1]), ms(ms[2]), ms(ms[3]));
                }
                case "--max-connection-ms" -> s = s.withMaxConnectionAge(ms(args[i + 1]));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        return s;
    }

    private static Duration ms(String v) {
        return Duration.ofMillis(Long.parseLong(v.trim()));
    }
}
