package io.durablesessions.local.dynamodb;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Server options.
 *
 * @param host             interface to bind (loopback by default)
 * @param port             0 for an ephemeral port
 * @param streamShards     shards per table stream; an item's partition key always maps to the same shard
 * @param ttlSweepInterval how often expired TTL items are deleted; {@code null} disables the sweeper
 * @param region           region reported in ARNs and stream records
 * @param accountId        account reported in ARNs
 * @param dataDir          where tables and items are journaled and recovered from on restart;
 *                         {@code null} keeps everything in memory only (see {@link Journal})
 */
public record Options(
        String host,
        int port,
        int streamShards,
        Duration ttlSweepInterval,
        String region,
        String accountId,
        Path dataDir) {
    public Options {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(accountId, "accountId");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
        if (streamShards < 1) throw new IllegalArgumentException("streamShards must be >= 1");
        if (ttlSweepInterval != null && (ttlSweepInterval.isNegative() || ttlSweepInterval.isZero())) {
            throw new IllegalArgumentException("ttlSweepInterval must be positive (or null for off)");
        }
    }

    public static Options defaults() {
        return new Options("127.0.0.1", 0, 1, Duration.ofSeconds(1), "local", "000000000000", null);
    }

    public Options withHost(String host) {
        return new Options(host, port, streamShards, ttlSweepInterval, region, accountId, dataDir);
    }

    public Options withPort(int port) {
        return new Options(host, port, streamShards, ttlSweepInterval, region, accountId, dataDir);
    }

    public Options withStreamShards(int shards) {
        return new Options(host, port, shards, ttlSweepInterval, region, accountId, dataDir);
    }

    public Options withTtlSweepInterval(Duration interval) {
        return new Options(host, port, streamShards, interval, region, accountId, dataDir);
    }

    public Options withRegion(String region) {
        return new Options(host, port, streamShards, ttlSweepInterval, region, accountId, dataDir);
    }

    public Options withAccountId(String accountId) {
        return new Options(host, port, streamShards, ttlSweepInterval, region, accountId, dataDir);
    }

    public Options withDataDir(Path dir) {
        return new Options(host, port, streamShards, ttlSweepInterval, region, accountId, dir);
    }
}
