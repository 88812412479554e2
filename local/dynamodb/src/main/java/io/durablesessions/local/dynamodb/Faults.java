package io.durablesessions.local.dynamodb;

import java.time.Duration;
import java.util.Random;

/** Fault injection for chaos tests: throttled writes and added latency. */
public final class Faults {
    private double throttleProbability;
    private Random random = new Random(0);
    private volatile Duration latency = Duration.ZERO;

    Faults() {}

    /**
     * Makes that fraction of write operations (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
     * TransactWriteItems) fail with ProvisionedThroughputExceededException before changing anything.
     */
    public synchronized Faults throttleWrites(double probability, long seed) {
        if (probability < 0 || probability > 1) throw new IllegalArgumentException("probability must be in [0, 1]");
        this.throttleProbability = probability;
        this.random = new Random(seed);
        return this;
    }

    /** Adds this delay to every request. */
    public Faults latency(Duration latency) {
        this.latency = latency == null ? Duration.ZERO : latency;
        return this;
    }

    public synchronized Faults clear() {
        throttleProbability = 0;
        latency = Duration.ZERO;
        return this;
    }

    synchronized boolean throttleNextWrite() {
        return throttleProbability > 0 && random.nextDouble() < throttleProbability;
    }

    Duration latency() {
        return latency;
    }
}
