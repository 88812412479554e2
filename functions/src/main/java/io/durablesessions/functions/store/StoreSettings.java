package io.durablesessions.functions.store;

import java.time.Duration;

/**
 * Time limits the store writes into deadlines (docs/protocol.md §6): a run whose agent stops
 * heartbeating fails after {@code livenessTimeout}; a stop the agent never acknowledges becomes
 * {@code run.stopped} after {@code ackTimeout}; a subscriber that drops is announced as left after
 * {@code presenceGrace} unless it reconnects first. Set by the environment through
 * {@code HandlerSettings} (runtime).
 */
public record StoreSettings(Duration livenessTimeout, Duration ackTimeout, Duration presenceGrace) {
    public static final StoreSettings DEFAULTS =
            new StoreSettings(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(5));
}
