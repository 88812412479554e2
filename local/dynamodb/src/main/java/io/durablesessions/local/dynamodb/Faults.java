package io.durablesessions.local.dynamodb;

import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fault injection for chaos and contract tests: throttled writes, added latency, and the
 * transaction conflicts real DynamoDB raises while a transaction is in flight.
 */
public final class Faults {
    private double throttleProbability;
    private Random random = new Random(0);
    private volatile Duration latency = Duration.ZERO;
    private double conflictProbability;
    private long conflictHoldNanos;
    private Random conflictRandom = new Random(0);
    private final AtomicLong conflictExceptions = new AtomicLong();
    private final AtomicLong conflictCancellations = new AtomicLong();

    Faults() {}

    /**
     * Makes that fraction of write operations (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
     * TransactWriteItems) fail with ProvisionedThroughputExceededException before changing anything.
     */
    public synchronized Faults throttleWrites(double probability, long seed) {
        checkProbability(probability);
        this.throttleProbability = probability;
        this.random = new Random(seed);
        return this;
    }

    /** Adds this delay to every request. */
    public Faults latency(Duration latency) {
        this.latency = latency == null ? Duration.ZERO : latency;
        return this;
    }

    /**
     * Transaction conflicts as DynamoDB produces them. Every item a TransactWriteItems writes or
     * checks counts as held by that transaction for {@code hold} after it (its commit still in
     * flight, as it can be on DynamoDB while this server applies transactions instantly). While an
     * item is held, each request touching it conflicts with {@code probability}:
     * <ul>
     *   <li>PutItem, UpdateItem, DeleteItem fail with {@code TransactionConflictException} and change nothing;</li>
     *   <li>TransactWriteItems and TransactGetItems are cancelled ({@code TransactionCanceledException})
     *       with the reason {@code TransactionConflict} for that item ({@code None}, or
     *       {@code ConditionalCheckFailed} where its condition fails, for the others).</li>
     * </ul>
     * Items no transaction touched never conflict, and reads other than TransactGetItems never do.
     * BatchWriteItem is left alone (DynamoDB's documentation names no conflict for it).
     */
    public synchronized Faults transactionConflicts(double probability, Duration hold, long seed) {
        checkProbability(probability);
        if (hold == null || hold.isNegative()) throw new IllegalArgumentException("hold must be >= 0");
        this.conflictProbability = probability;
        this.conflictHoldNanos = hold.toNanos();
        this.conflictRandom = new Random(seed);
        return this;
    }

    public synchronized Faults clear() {
        throttleProbability = 0;
        conflictProbability = 0;
        latency = Duration.ZERO;
        return this;
    }

    /** Single-item writes refused with TransactionConflictException so far. */
    public long transactionConflictExceptions() {
        return conflictExceptions.get();
    }

    /** Transactions cancelled with at least one TransactionConflict reason so far. */
    public long transactionConflictCancellations() {
        return conflictCancellations.get();
    }

    synchronized boolean throttleNextWrite() {
        return throttleProbability > 0 && random.nextDouble() < throttleProbability;
    }

    Duration latency() {
        return latency;
    }

    /** How long a transaction holds its items; 0 when conflicts are off. */
    synchronized long conflictHoldNanos() {
        return conflictProbability > 0 ? conflictHoldNanos : 0;
    }

    /** Whether this request on a held item conflicts. */
    synchronized boolean conflictOnHeldItem() {
        return conflictProbability > 0 && conflictRandom.nextDouble() < conflictProbability;
    }

    void countConflictException() {
        conflictExceptions.incrementAndGet();
    }

    void countConflictCancellation() {
        conflictCancellations.incrementAndGet();
    }

    private static void checkProbability(double p) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("probability must be in [0, 1]");
    }
}
