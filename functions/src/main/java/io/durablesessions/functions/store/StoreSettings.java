package io.durablesessions.functions.store;

import java.time.Duration;
import java.util.Map;

/**
 * Time limits the store writes into deadlines (docs/protocol.md §6): a run whose agent stops
 * heartbeating fails after {@code livenessTimeout}; a stop the agent never acknowledges becomes
 * {@code run.stopped} after {@code ackTimeout}; a subscriber that drops is announced as left after
 * {@code presenceGrace} unless it reconnects first.
 */
public record StoreSettings(Duration livenessTimeout, Duration ackTimeout, Duration presenceGrace) {
    public static final StoreSettings DEFAULTS =
            new StoreSettings(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(5));

    public static StoreSettings fromEnvironment(Map<String, String> env) {
        return new StoreSettings(seconds(env, "LIVENESS_TIMEOUT_SECONDS", DEFAULTS.livenessTimeout()),
                seconds(env, "STOP_ACK_TIMEOUT_SECONDS", DEFAULTS.ackTimeout()),
                seconds(env, "PRESENCE_GRACE_SECONDS", DEFAULTS.presenceGrace()));
    }

    private static Duration seconds(Map<String, String> env, String name, Duration fallback) {
        String v = env.get(name);
        return v == null ? fallback : Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
    }

    /** The due-index shard of a row, stable per key. */
    static String dueShard(String sessionId, String sk) {
        return "due#" + Math.floorMod((sessionId + "/" + sk).hashCode(), Attrs.DUE_SHARDS);
    }
}
