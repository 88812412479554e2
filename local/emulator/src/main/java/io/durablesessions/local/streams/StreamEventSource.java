package io.durablesessions.local.streams;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.durablesessions.functions.runtime.BufferedBodyHttpClient;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.ToLongBiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamDescription;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/**
 * A Lambda event source mapping on a DynamoDB stream: polls every shard and invokes a stream handler
 * the way AWS does (one batch in flight per shard, checkpoints, partial batch responses, bisection,
 * retries, record age, on-failure destination), so the local stack runs the real fan-out handler.
 *
 * <pre>{@code
 * try (var esm = StreamEventSource.create(localDynamoDb, Config.builder("events").build(), handler).start()) { ... }
 * }</pre>
 *
 * <p>{@link #stop()} / {@link #start()} emulate an outage: checkpoints survive, so a restart resumes
 * after the last checkpointed record and re-delivers what was delivered but not yet checkpointed.
 */
public final class StreamEventSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamEventSource.class);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    public enum StartingPosition {
        TRIM_HORIZON,
        LATEST
    }

    /**
     * Mapping settings, named after CreateEventSourceMapping's. ParallelizationFactor is always 1.
     *
     * @param maximumRetryAttempts    -1 = retry until the record expires
     * @param maximumRecordAge        {@code null} or negative = infinite
     * @param filterInsertsOnly       like the filter {@code {"eventName":["INSERT"]}}: other records are skipped
     * @param shardDiscoveryInterval  how often DescribeStream is repeated to pick up new shards
     * @param invokeOverhead          time the Lambda service adds to every invocation before the handler runs
     *                                (not a mapping setting: lets the local stack show AWS-like timing)
     */
    public record Config(
            String tableName,
            String functionName,
            int batchSize,
            Duration maximumBatchingWindow,
            Duration pollInterval,
            StartingPosition startingPosition,
            boolean reportBatchItemFailures,
            boolean bisectBatchOnFunctionError,
            int maximumRetryAttempts,
            Duration maximumRecordAge,
            boolean filterInsertsOnly,
            Consumer<FailedBatch> onFailure,
            Duration shardDiscoveryInterval,
            Duration invokeOverhead) {
        public Config {
            Objects.requireNonNull(tableName, "tableName");
            Objects.requireNonNull(functionName, "functionName");
            Objects.requireNonNull(startingPosition, "startingPosition");
            Objects.requireNonNull(onFailure, "onFailure");
            if (batchSize < 1 || batchSize > 10_000) throw new IllegalArgumentException("batchSize must be 1..10000");
            if (maximumRetryAttempts < -1) throw new IllegalArgumentException("maximumRetryAttempts must be >= -1");
            requirePositive(pollInterval, "pollInterval");
            requirePositive(shardDiscoveryInterval, "shardDiscoveryInterval");
            if (maximumBatchingWindow == null || maximumBatchingWindow.isNegative())
                throw new IllegalArgumentException("maximumBatchingWindow must be >= 0");
            if (invokeOverhead == null || invokeOverhead.isNegative())
                throw new IllegalArgumentException("invokeOverhead must be >= 0");
        }

        public static Builder builder(String tableName) {
            return new Builder(tableName);
        }

        public Builder toBuilder() {
            return new Builder(this);
        }

        boolean recordAgeLimited() {
            return maximumRecordAge != null && !maximumRecordAge.isNegative();
        }

        private static void requirePositive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero())
                throw new IllegalArgumentException(name + " must be positive");
        }
    }

    /** Builds a {@link Config}; starts from the defaults documented per setter. */
    public static final class Builder {
        private String tableName;
        private String functionName = "stream-handler";
        private int batchSize = 100;
        private Duration maximumBatchingWindow = Duration.ZERO;
        private Duration pollInterval = Duration.ofMillis(250);
        private StartingPosition startingPosition = StartingPosition.LATEST;
        private boolean reportBatchItemFailures = true;
        private boolean bisectBatchOnFunctionError = true;
        private int maximumRetryAttempts = 10;
        private Duration maximumRecordAge = Duration.ofHours(1);
        private boolean filterInsertsOnly = true;
        private Consumer<FailedBatch> onFailure = failed -> LOG.warn("discarding {}", failed);
        private Duration shardDiscoveryInterval = Duration.ofSeconds(5);
        private Duration invokeOverhead = Duration.ZERO;

        private Builder(String tableName) {
            this.tableName = tableName;
        }

        private Builder(Config c) {
            this(c.tableName());
            functionName = c.functionName();
            batchSize = c.batchSize();
            maximumBatchingWindow = c.maximumBatchingWindow();
            pollInterval = c.pollInterval();
            startingPosition = c.startingPosition();
            reportBatchItemFailures = c.reportBatchItemFailures();
            bisectBatchOnFunctionError = c.bisectBatchOnFunctionError();
            maximumRetryAttempts = c.maximumRetryAttempts();
            maximumRecordAge = c.maximumRecordAge();
            filterInsertsOnly = c.filterInsertsOnly();
            onFailure = c.onFailure();
            shardDiscoveryInterval = c.shardDiscoveryInterval();
            invokeOverhead = c.invokeOverhead();
        }

        /** Default "stream-handler"; shows up in the invocation Context. */
        public Builder functionName(String v) {
            functionName = v;
            return this;
        }
        /** Default 100, at most 10000. */
        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }
        /** Default 0: invoke as soon as records are there. */
        public Builder maximumBatchingWindow(Duration v) {
            maximumBatchingWindow = v;
            return this;
        }
        /** Default 250 ms (AWS polls a shard about 4 times a second). */
        public Builder pollInterval(Duration v) {
            pollInterval = v;
            return this;
        }
        /** Default LATEST. Only for shards present at the first start; later shards are read from TRIM_HORIZON. */
        public Builder startingPosition(StartingPosition v) {
            startingPosition = v;
            return this;
        }
        /** Default true (FunctionResponseTypes = ReportBatchItemFailures). */
        public Builder reportBatchItemFailures(boolean v) {
            reportBatchItemFailures = v;
            return this;
        }
        /** Default true. */
        public Builder bisectBatchOnFunctionError(boolean v) {
            bisectBatchOnFunctionError = v;
            return this;
        }
        /** Default 10; -1 = infinite. */
        public Builder maximumRetryAttempts(int v) {
            maximumRetryAttempts = v;
            return this;
        }
        /** Default 1 h; {@code null} or negative = infinite. */
        public Builder maximumRecordAge(Duration v) {
            maximumRecordAge = v;
            return this;
        }
        /** Default true. */
        public Builder filterInsertsOnly(boolean v) {
            filterInsertsOnly = v;
            return this;
        }
        /** Default: log a warning. */
        public Builder onFailure(Consumer<FailedBatch> v) {
            onFailure = v;
            return this;
        }
        /** Default 5 s. */
        public Builder shardDiscoveryInterval(Duration v) {
            shardDiscoveryInterval = v;
            return this;
        }
        /** Default 0; AWS documents no figure for it (see EmbeddedStack.Timing). */
        public Builder invokeOverhead(Duration v) {
            invokeOverhead = v;
            return this;
        }

        public Config build() {
            return new Config(
                    tableName,
                    functionName,
                    batchSize,
                    maximumBatchingWindow,
                    pollInterval,
                    startingPosition,
                    reportBatchItemFailures,
                    bisectBatchOnFunctionError,
                    maximumRetryAttempts,
                    maximumRecordAge,
                    filterInsertsOnly,
                    onFailure,
                    shardDiscoveryInterval,
                    invokeOverhead);
        }
    }

    /**
     * Counters since creation.
     *
     * @param recordsDelivered records passed to the handler, re-deliveries included
     * @param batchesFailed    invocations that threw or reported item failures
     * @param retries          failed invocations that were followed by another attempt (bisected halves included)
     * @param polls            looks at a shard, over all shards: GetRecords calls, and for a LocalDynamoDb's
     *                         stream also the looks that skipped the call because the shard had not changed
     */
    public record Counters(
            long invocations,
            long recordsDelivered,
            long batchesFailed,
            long recordsSentToOnFailure,
            long retries,
            long polls) {}

    // Per-shard state that must survive stop()/start(), like an ESM's checkpoint store.
    static final class ShardState {
        final String shardId;
        final String parentShardId;
        final StartingPosition initialPosition;
        volatile String checkpoint; // sequence number of the last record done with; null = none yet
        volatile String
                latestIterator; // LATEST resolved at discovery, so a restart before any checkpoint doesn't skip records
        volatile boolean finished; // closed shard read to its end

        ShardState(String shardId, String parentShardId, StartingPosition initialPosition) {
            this.shardId = shardId;
            this.parentShardId = parentShardId;
            this.initialPosition = initialPosition;
        }
    }

    final Config config;
    final DynamoDbStreamsClient streams;
    final RequestHandler<DynamodbEvent, StreamsEventResponse> handler;
    /** For a {@link LocalDynamoDb}'s stream, its {@link LocalDynamoDb#shardChanges}; else null (always read). */
    final ToLongBiFunction<String, String> shardChanges;

    private final AutoCloseable ownedClient;
    final Map<String, ShardState> shards = new ConcurrentHashMap<>();
    private final Map<String, Thread> pollers = new ConcurrentHashMap<>();
    private final Object discoveryLock = new Object();
    volatile String streamArn;
    private volatile boolean running;
    private Thread supervisor;
    private volatile long pausedUntilNanos = System.nanoTime();
    private volatile Duration invocationDelay = Duration.ZERO;

    final AtomicLong invocations = new AtomicLong();
    final AtomicLong recordsDelivered = new AtomicLong();
    final AtomicLong batchesFailed = new AtomicLong();
    final AtomicLong recordsSentToOnFailure = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLong polls = new AtomicLong();
    /**
     * With {@link #shardChanges}: read a shard at least this often even when it says it has not changed, in
     * case it did in a way the count does not tell (iterators expire after 15 minutes). Tests set it longer.
     */
    volatile Duration longestSkip = Duration.ofSeconds(5);

    private StreamEventSource(
            DynamoDbStreamsClient streams,
            AutoCloseable ownedClient,
            ToLongBiFunction<String, String> shardChanges,
            Config config,
            RequestHandler<DynamodbEvent, StreamsEventResponse> handler) {
        this.streams = Objects.requireNonNull(streams, "streams");
        this.ownedClient = ownedClient;
        this.shardChanges = shardChanges;
        this.config = Objects.requireNonNull(config, "config");
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** A stopped mapping reading through {@code streams}, which the caller keeps owning. */
    public static StreamEventSource create(
            DynamoDbStreamsClient streams, Config config, RequestHandler<DynamodbEvent, StreamsEventResponse> handler) {
        return new StreamEventSource(streams, null, null, config, handler);
    }

    /**
     * A stopped mapping on a {@link LocalDynamoDb}'s stream, with its own Streams client (closed by {@link #close()}).
     * It polls at the same cadence, but a poll of a shard that gained nothing since the last read sends no
     * GetRecords (the database says so in process): an idle local stack stays nearly free.
     */
    public static StreamEventSource create(
            LocalDynamoDb db, Config config, RequestHandler<DynamodbEvent, StreamsEventResponse> handler) {
        DynamoDbStreamsClient client = DynamoDbStreamsClient.builder()
                .endpointOverride(db.endpoint())
                .region(Region.of(db.options().region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(BufferedBodyHttpClient.create())
                .build();
        return new StreamEventSource(client, client, db::shardChanges, config, handler);
    }

    /**
     * Starts (or restarts) polling. The first start finds the stream and resolves the starting position
     * of the shards present now, so LATEST means "after what was written before start()". If the table
     * or its stream does not exist yet, discovery keeps retrying in the background.
     */
    public synchronized StreamEventSource start() {
        if (running) return this;
        running = true;
        try {
            discover();
        } catch (RuntimeException e) {
            LOG.info("stream of table {} not available yet ({}); will retry", config.tableName(), e.toString());
        }
        supervisor = Thread.ofVirtual()
                .name("esm-" + config.tableName() + "-discovery")
                .start(this::discoverLoop);
        return this;
    }

    /** Kills the pollers, like disabling the mapping; in-flight batches are not checkpointed. Waits for them to end. */
    public synchronized void stop() {
        if (!running) return;
        running = false;
        join(List.of(supervisor)); // no poller is started after this
        join(new ArrayList<>(pollers.values()));
        pollers.clear();
    }

    public boolean isRunning() {
        return running;
    }

    /** Pollers stop invoking until {@code duration} from now (reading and checkpoints wait too). */
    public void pause(Duration duration) {
        pausedUntilNanos = System.nanoTime() + duration.toNanos();
    }

    /** Delay before every invocation (on top of the config's invokeOverhead), e.g. to emulate a slow or cold fan-out function. */
    public void setInvocationDelay(Duration delay) {
        invocationDelay = Objects.requireNonNull(delay);
    }

    public Counters counters() {
        return new Counters(
                invocations.get(),
                recordsDelivered.get(),
                batchesFailed.get(),
                recordsSentToOnFailure.get(),
                retries.get(),
                polls.get());
    }

    public Config config() {
        return config;
    }

    /** Stream ARN the mapping is attached to, or null before the stream was found. */
    public String streamArn() {
        return streamArn;
    }

    /** Last checkpointed sequence number per shard (shards without a checkpoint are left out). */
    public Map<String, String> checkpoints() {
        Map<String, String> out = new TreeMap<>();
        shards.values().forEach(s -> {
            if (s.checkpoint != null) out.put(s.shardId, s.checkpoint);
        });
        return out;
    }

    @Override
    public void close() {
        stop();
        if (ownedClient != null) {
            try {
                ownedClient.close();
            } catch (Exception e) {
                LOG.debug("closing streams client failed", e);
            }
        }
    }

    // ---------------------------------------------------------------- pollers' view

    boolean running() {
        return running && !Thread.currentThread().isInterrupted();
    }

    /** Sleeps while paused; false when the mapping is stopping. */
    boolean awaitNotPaused() {
        long left;
        while ((left = pausedUntilNanos - System.nanoTime()) > 0) {
            if (!sleep(Duration.ofNanos(Math.min(left, config.pollInterval().toNanos())))) return false;
        }
        return running();
    }

    Duration invocationDelay() {
        return invocationDelay;
    }

    boolean parentUnfinished(ShardState shard) {
        ShardState parent = shard.parentShardId == null ? null : shards.get(shard.parentShardId);
        return parent != null && !parent.finished;
    }

    static boolean sleep(Duration d) {
        try {
            Thread.sleep(d);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ---------------------------------------------------------------- shard discovery

    private void discoverLoop() {
        while (running() && sleep(config.shardDiscoveryInterval())) {
            try {
                discover();
            } catch (RuntimeException e) {
                if (running()) LOG.debug("shard discovery for table {} failed: {}", config.tableName(), e.toString());
            }
        }
    }

    /** Finds the stream once, then registers new shards and gives every unfinished shard a poller. */
    private void discover() {
        synchronized (discoveryLock) {
            if (streamArn == null) {
                var found = streams.listStreams(r -> r.tableName(config.tableName()))
                        .streams();
                if (found.isEmpty()) throw new IllegalStateException("table " + config.tableName() + " has no stream");
                streamArn = found.getLast().streamArn(); // the newest stream of the table
                LOG.info(
                        "event source mapping {} -> {} attached to {}",
                        config.tableName(),
                        config.functionName(),
                        streamArn);
            }
            boolean firstDiscovery = shards.isEmpty();
            for (Shard shard : describeShards()) {
                if (shards.containsKey(shard.shardId())) continue;
                // Shards that appear later are children of shards being read: AWS reads those from their start.
                var position = firstDiscovery ? config.startingPosition() : StartingPosition.TRIM_HORIZON;
                ShardState state = new ShardState(shard.shardId(), shard.parentShardId(), position);
                if (position == StartingPosition.LATEST) {
                    state.latestIterator = streams.getShardIterator(r -> r.streamArn(streamArn)
                                    .shardId(shard.shardId())
                                    .shardIteratorType(ShardIteratorType.LATEST))
                            .shardIterator();
                }
                shards.put(shard.shardId(), state);
                LOG.debug("discovered {} (start at {})", shard.shardId(), position);
            }
            for (ShardState state : shards.values()) {
                if (!running) return;
                Thread t = pollers.get(state.shardId);
                if (!state.finished && (t == null || !t.isAlive())) {
                    pollers.put(
                            state.shardId,
                            Thread.ofVirtual()
                                    .name("esm-" + config.tableName() + "-" + state.shardId)
                                    .start(new ShardPoller(this, state)));
                }
            }
        }
    }

    private List<Shard> describeShards() {
        List<Shard> out = new ArrayList<>();
        String last = null;
        do {
            String from = last;
            StreamDescription d = streams.describeStream(
                            r -> r.streamArn(streamArn).exclusiveStartShardId(from))
                    .streamDescription();
            out.addAll(d.shards());
            last = d.lastEvaluatedShardId();
        } while (last != null);
        return out;
    }

    private static void join(List<Thread> threads) {
        threads.forEach(t -> {
            if (t != null) t.interrupt();
        });
        for (Thread t : threads) {
            if (t == null) continue;
            try {
                if (!t.join(JOIN_TIMEOUT)) LOG.warn("{} did not stop within {}", t.getName(), JOIN_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
