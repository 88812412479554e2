package io.durablesessions.functions.runtime;

import io.durablesessions.functions.store.StoreSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The handlers' settings a deployment may change, each with its environment variable and its
 * default: the one place both sides use. The functions read them ({@link #fromEnvironment}); the CDK
 * constructs write them ({@link #environment()}); the local stack reads the same variables.
 *
 * <p>The defaults are those of {@link Services.Limits#DEFAULTS}, {@link StoreSettings#DEFAULTS} and
 * {@link Services.Features#DEFAULTS}
 * (docs/protocol.md §6 and §9, docs/security.md):
 * <ul>
 *   <li>{@value #RATE_LIMIT_PER_SECOND}: 500 messages per second per connection (and per HTTP caller); 0 turns it off;</li>
 *   <li>{@value #READ_BYTES_PER_MINUTE}: 64 MiB of catch-up and hydrate per subject per minute; 0 off;</li>
 *   <li>{@value #PRESENCE_JOINS_PER_MINUTE}: 30 presence announcements per subject per minute; 0 off;</li>
 *   <li>{@value #LIVENESS_TIMEOUT_SECONDS}: 30 s without a sign of life fails a run;</li>
 *   <li>{@value #STOP_ACK_TIMEOUT_SECONDS}: 10 s after a stop, an unacknowledged run is stopped;</li>
 *   <li>{@value #PRESENCE_GRACE_SECONDS}: 5 s after a disconnect, a member is announced as left;</li>
 *   <li>{@value #DIRECT_DELIVERY}: {@code true}: an append posts its events to the live subscribers itself
 *       ({@link Services.Features});</li>
 *   <li>{@value #REVOCATION_CACHE_SECONDS}: 5 s: how long a container trusts a revocation lookup.</li>
 * </ul>
 * Seconds may be fractional (tests use 0.2 s).
 */
public record HandlerSettings(Services.Limits limits, StoreSettings store, Services.Features features) {
    public static final String RATE_LIMIT_PER_SECOND = "RATE_LIMIT_PER_SECOND";
    public static final String READ_BYTES_PER_MINUTE = "READ_BYTES_PER_MINUTE";
    public static final String PRESENCE_JOINS_PER_MINUTE = "PRESENCE_JOINS_PER_MINUTE";
    public static final String LIVENESS_TIMEOUT_SECONDS = "LIVENESS_TIMEOUT_SECONDS";
    public static final String STOP_ACK_TIMEOUT_SECONDS = "STOP_ACK_TIMEOUT_SECONDS";
    public static final String PRESENCE_GRACE_SECONDS = "PRESENCE_GRACE_SECONDS";
    public static final String DIRECT_DELIVERY = "DIRECT_DELIVERY";
    public static final String REVOCATION_CACHE_SECONDS = "REVOCATION_CACHE_SECONDS";

    public static final HandlerSettings DEFAULTS = builder().build();

    public HandlerSettings {
        if (limits.messagesPerSecond() < 0 || limits.readBytesPerMinute() < 0 || limits.presenceJoinsPerMinute() < 0) {
            throw new IllegalArgumentException("rate limits must be >= 0 (0: off): " + limits);
        }
        if (features.revocationCache().isNegative()) {
            throw new IllegalArgumentException("the revocation cache must be >= 0 s: " + features);
        }
        if (store.livenessTimeout().compareTo(Duration.ofMillis(100)) < 0
                || store.ackTimeout().compareTo(Duration.ofMillis(100)) < 0
                || store.presenceGrace().isNegative()) {
            throw new IllegalArgumentException("the liveness and stop acknowledgement timeouts must be at least 0.1 s, "
                    + "the presence grace >= 0: " + store);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder()
                .messagesPerSecond(limits.messagesPerSecond())
                .readBytesPerMinute(limits.readBytesPerMinute())
                .presenceJoinsPerMinute(limits.presenceJoinsPerMinute())
                .livenessTimeout(store.livenessTimeout())
                .stopAckTimeout(store.ackTimeout())
                .presenceGrace(store.presenceGrace())
                .directDelivery(features.directDelivery())
                .revocationCache(features.revocationCache());
    }

    /** The settings in {@code env}; a variable that is not set keeps its default, a malformed one fails. */
    public static HandlerSettings fromEnvironment(Map<String, String> env) {
        Builder b = builder();
        Long n;
        if ((n = integer(env, RATE_LIMIT_PER_SECOND)) != null) b.messagesPerSecond(Math.toIntExact(n));
        if ((n = integer(env, READ_BYTES_PER_MINUTE)) != null) b.readBytesPerMinute(n);
        if ((n = integer(env, PRESENCE_JOINS_PER_MINUTE)) != null) b.presenceJoinsPerMinute(Math.toIntExact(n));
        Duration d;
        if ((d = seconds(env, LIVENESS_TIMEOUT_SECONDS)) != null) b.livenessTimeout(d);
        if ((d = seconds(env, STOP_ACK_TIMEOUT_SECONDS)) != null) b.stopAckTimeout(d);
        if ((d = seconds(env, PRESENCE_GRACE_SECONDS)) != null) b.presenceGrace(d);
        if ((d = seconds(env, REVOCATION_CACHE_SECONDS)) != null) b.revocationCache(d);
        String direct = env.get(DIRECT_DELIVERY);
        if (direct != null && !direct.isBlank()) {
            if (!direct.trim().equals("true") && !direct.trim().equals("false")) {
                throw new IllegalArgumentException(DIRECT_DELIVERY + " must be true or false: '" + direct + "'");
            }
            b.directDelivery(Boolean.parseBoolean(direct.trim()));
        }
        return b.build();
    }

    /** The variables a function needs to run with these settings (what the CDK constructs set). */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(RATE_LIMIT_PER_SECOND, Integer.toString(limits.messagesPerSecond()));
        env.put(READ_BYTES_PER_MINUTE, Long.toString(limits.readBytesPerMinute()));
        env.put(PRESENCE_JOINS_PER_MINUTE, Integer.toString(limits.presenceJoinsPerMinute()));
        env.put(LIVENESS_TIMEOUT_SECONDS, seconds(store.livenessTimeout()));
        env.put(STOP_ACK_TIMEOUT_SECONDS, seconds(store.ackTimeout()));
        env.put(PRESENCE_GRACE_SECONDS, seconds(store.presenceGrace()));
        env.put(DIRECT_DELIVERY, Boolean.toString(features.directDelivery()));
        env.put(REVOCATION_CACHE_SECONDS, seconds(features.revocationCache()));
        return env;
    }

    private static Long integer(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return null;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number: '" + v + "'", e);
        }
    }

    private static Duration seconds(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return null;
        try {
            return Duration.ofMillis(Math.round(Double.parseDouble(v.trim()) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number of seconds: '" + v + "'", e);
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }

    /** Starts from the defaults. */
    public static final class Builder {
        private int messagesPerSecond = Services.Limits.DEFAULTS.messagesPerSecond();
        private long readBytesPerMinute = Services.Limits.DEFAULTS.readBytesPerMinute();
        private int presenceJoinsPerMinute = Services.Limits.DEFAULTS.presenceJoinsPerMinute();
        private Duration livenessTimeout = StoreSettings.DEFAULTS.livenessTimeout();
        private Duration stopAckTimeout = StoreSettings.DEFAULTS.ackTimeout();
        private Duration presenceGrace = StoreSettings.DEFAULTS.presenceGrace();
        private boolean directDelivery = Services.Features.DEFAULTS.directDelivery();
        private Duration revocationCache = Services.Features.DEFAULTS.revocationCache();

        private Builder() {}

        public Builder messagesPerSecond(int perSecond) {
            this.messagesPerSecond = perSecond;
            return this;
        }

        public Builder readBytesPerMinute(long bytes) {
            this.readBytesPerMinute = bytes;
            return this;
        }

        public Builder presenceJoinsPerMinute(int joins) {
            this.presenceJoinsPerMinute = joins;
            return this;
        }

        public Builder livenessTimeout(Duration d) {
            this.livenessTimeout = d;
            return this;
        }

        public Builder stopAckTimeout(Duration d) {
            this.stopAckTimeout = d;
            return this;
        }

        public Builder presenceGrace(Duration d) {
            this.presenceGrace = d;
            return this;
        }

        /** Direct delivery from the append path (default on). */
        public Builder directDelivery(boolean on) {
            this.directDelivery = on;
            return this;
        }

        /** How long a container trusts a revocation lookup (default 5 s; 0: every message reads it). */
        public Builder revocationCache(Duration d) {
            this.revocationCache = d;
            return this;
        }

        public HandlerSettings build() {
            return new HandlerSettings(
                    new Services.Limits(messagesPerSecond, readBytesPerMinute, presenceJoinsPerMinute),
                    new StoreSettings(livenessTimeout, stopAckTimeout, presenceGrace),
                    new Services.Features(directDelivery, revocationCache));
        }
    }
}
