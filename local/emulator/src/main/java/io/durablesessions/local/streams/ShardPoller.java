package io.durablesessions.local.streams;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.durablesessions.local.lambda.LocalLambdaContext;
import io.durablesessions.local.streams.FailedBatch.Reason;
import io.durablesessions.local.streams.StreamEventSource.ShardState;
import io.durablesessions.local.streams.StreamEventSource.StartingPosition;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.model.ExpiredIteratorException;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException;

/**
 * Reads one shard and invokes the handler with one batch at a time, so a shard's records (and thus a
 * partition key's) are delivered in order. Runs on its own virtual thread until the mapping stops or
 * the shard is closed and drained.
 *
 * <p>{@code buffer} holds the records read after the checkpoint and not yet done with; the iterator
 * points just past it. Retrying a batch therefore never re-reads the stream, and a restart re-reads
 * from the checkpoint.
 */
final class ShardPoller implements Runnable {
    /** The fan-out function's timeout (infra FanoutFunction.TIMEOUT). */
    private static final Duration FUNCTION_TIMEOUT = Duration.ofSeconds(60);

    private static final Logger LOG = LoggerFactory.getLogger(ShardPoller.class);
    private static final Duration MIN_BACKOFF = Duration.ofMillis(10);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);
    private static final int MAX_RECORDS_PER_READ = 1000; // GetRecords' limit

    private final StreamEventSource esm;
    private final StreamEventSource.Config config;
    private final ShardState shard;
    private final Deque<Record> buffer = new ArrayDeque<>();
    /** Sizes of bisected halves still to be tried, next first; empty = normal batches. */
    private final Deque<Integer> halves = new ArrayDeque<>();

    private String iterator;
    private boolean shardClosed;
    private long bufferedSinceNanos;
    private boolean readFromTrimHorizon; // the checkpoint fell off the stream's 24 h retention
    private String retriedSequenceNumber; // first record of the batch being retried
    private int retryAttempts;
    private Duration backoff = MIN_BACKOFF;
    /** The shard's change count taken before the last GetRecords on the current iterator; -1 = none. */
    private long changesAtLastRead = -1;

    private long lastReadNanos;

    ShardPoller(StreamEventSource esm, ShardState shard) {
        this.esm = esm;
        this.config = esm.config;
        this.shard = shard;
    }

    @Override
    public void run() {
        LOG.debug("polling {} from checkpoint {}", shard.shardId, shard.checkpoint);
        while (esm.awaitNotPaused()) {
            try {
                if (esm.parentUnfinished(shard)) { // AWS finishes a parent shard before its children
                    if (!StreamEventSource.sleep(config.pollInterval())) return;
                    continue;
                }
                int read = buffer.size() < config.batchSize() && !shardClosed ? read() : 0;
                if (shardClosed && buffer.isEmpty()) {
                    shard.finished = true;
                    LOG.info("{} closed and fully processed", shard.shardId);
                    return;
                }
                if (!batchReady()) {
                    // Nothing new (or the batching window is still open): wait rather than spin.
                    if (read == 0 && !StreamEventSource.sleep(config.pollInterval())) return;
                    continue;
                }
                if (!processNextBatch()) return;
            } catch (ExpiredIteratorException e) {
                if (shard.checkpoint == null) shard.latestIterator = null; // re-resolve LATEST
                restartFromCheckpoint();
            } catch (TrimmedDataAccessException e) {
                LOG.warn(
                        "{}: checkpoint {} is past the stream's retention; continuing at TRIM_HORIZON",
                        shard.shardId,
                        shard.checkpoint);
                readFromTrimHorizon = true;
                restartFromCheckpoint();
            } catch (ResourceNotFoundException e) {
                LOG.warn("{}: stream or shard is gone, poller ends: {}", shard.shardId, e.getMessage());
                return;
            } catch (RuntimeException e) {
                if (!esm.running()) return; // interrupted mid-request by stop()
                LOG.warn(
                        "{}: polling failed, continuing from the checkpoint: {}",
                        shard.shardId,
                        e.toString(),
                        e instanceof SdkException ? null : e);
                restartFromCheckpoint();
                if (!backOff()) return;
            }
        }
    }

    // ---------------------------------------------------------------- reading

    private int read() {
        if (iterator == null) {
            iterator = openIterator();
            changesAtLastRead = -1;
        }
        esm.polls.incrementAndGet();
        long changes = esm.shardChanges == null ? -1 : esm.shardChanges.applyAsLong(esm.streamArn, shard.shardId);
        // taken before the read: a record written meanwhile moves the count again, so it is read next time
        if (changes >= 0
                && changes == changesAtLastRead
                && System.nanoTime() - lastReadNanos < esm.longestSkip.toNanos()) {
            return 0; // nothing new since the last read on this iterator
        }
        GetRecordsResponse response =
                esm.streams.getRecords(r -> r.shardIterator(iterator).limit(MAX_RECORDS_PER_READ));
        // a full page may have left records behind: only a shorter one read everything the count stood for
        changesAtLastRead = response.records().size() < MAX_RECORDS_PER_READ ? changes : -1;
        lastReadNanos = System.nanoTime();
        if (buffer.isEmpty()) bufferedSinceNanos = System.nanoTime();
        buffer.addAll(response.records());
        iterator = response.nextShardIterator();
        shardClosed = iterator == null;
        return response.records().size();
    }

    private String openIterator() {
        String checkpoint = shard.checkpoint;
        if (checkpoint != null && !readFromTrimHorizon) {
            return esm.streams
                    .getShardIterator(r -> r.streamArn(esm.streamArn)
                            .shardId(shard.shardId)
                            .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER)
                            .sequenceNumber(checkpoint))
                    .shardIterator();
        }
        if (checkpoint == null && shard.initialPosition == StartingPosition.LATEST && shard.latestIterator != null) {
            return shard.latestIterator;
        }
        readFromTrimHorizon = false;
        ShardIteratorType type = shard.initialPosition == StartingPosition.LATEST && checkpoint == null
                ? ShardIteratorType.LATEST
                : ShardIteratorType.TRIM_HORIZON;
        return esm.streams
                .getShardIterator(
                        r -> r.streamArn(esm.streamArn).shardId(shard.shardId).shardIteratorType(type))
                .shardIterator();
    }

    private void restartFromCheckpoint() {
        buffer.clear();
        halves.clear();
        iterator = null;
        shardClosed = false;
    }

    private boolean batchReady() {
        if (buffer.isEmpty()) return false;
        if (!halves.isEmpty() || shardClosed || config.maximumBatchingWindow().isZero()) return true;
        return matchingInBuffer() >= config.batchSize()
                || System.nanoTime() - bufferedSinceNanos
                        >= config.maximumBatchingWindow().toNanos();
    }

    private long matchingInBuffer() {
        return buffer.stream().filter(this::matches).count();
    }

    private boolean matches(Record r) {
        return !config.filterInsertsOnly() || "INSERT".equals(r.eventNameAsString());
    }

    // ---------------------------------------------------------------- invoking

    /** Delivers (or discards) the batch at the head of the buffer; false when the mapping is stopping. */
    private boolean processNextBatch() {
        if (!esm.awaitNotPaused()) return false; // a pause may have begun while we were reading
        discardExpiredRecords();
        while (!buffer.isEmpty() && !matches(buffer.peekFirst())) checkpointThrough(buffer.peekFirst()); // filtered out
        if (buffer.isEmpty()) return true;

        List<Record> batch = nextBatch(halves.isEmpty() ? config.batchSize() : halves.peekFirst());
        Outcome outcome = invoke(batch);
        if (!esm.running()) return false; // stopped mid-invocation: leave it un-checkpointed, it is re-delivered
        switch (outcome) {
            case Outcome.Success s -> {
                checkpointThrough(batch.getLast());
                halves.pollFirst();
                backoff = MIN_BACKOFF;
            }
            case Outcome.ItemFailure f -> {
                esm.batchesFailed.incrementAndGet();
                halves.clear(); // AWS resumes at the failed record with a normal batch
                if (f.index() > 0) checkpointThrough(batch.get(f.index() - 1));
                return retryOrDiscard(
                        batch.subList(f.index(), batch.size()),
                        "item " + batch.get(f.index()).dynamodb().sequenceNumber() + " failed");
            }
            case Outcome.Error e -> {
                esm.batchesFailed.incrementAndGet();
                if (config.bisectBatchOnFunctionError() && batch.size() > 1) {
                    // Splitting doesn't use up the retry quota (AWS): it isolates a poison record.
                    int left = batch.size() / 2;
                    halves.pollFirst();
                    halves.addFirst(batch.size() - left);
                    halves.addFirst(left);
                    esm.retries.incrementAndGet();
                    LOG.debug("{}: batch of {} failed ({}), bisecting", shard.shardId, batch.size(), e.reason());
                    return true;
                }
                return retryOrDiscard(batch, e.reason());
            }
        }
        return true;
    }

    /** The next {@code size} records the handler should see, from the head of the buffer, in order. */
    private List<Record> nextBatch(int size) {
        List<Record> batch = new ArrayList<>(Math.min(size, buffer.size()));
        for (Record r : buffer) {
            if (batch.size() == size) break;
            if (matches(r)) batch.add(r);
        }
        return batch;
    }

    private sealed interface Outcome {
        record Success() implements Outcome {}
        /** Lowest failed record's index in the batch. */
        record ItemFailure(int index) implements Outcome {}

        record Error(String reason) implements Outcome {}
    }

    private Outcome invoke(List<Record> batch) {
        Duration delay = config.invokeOverhead().plus(esm.invocationDelay());
        if (!delay.isZero() && !StreamEventSource.sleep(delay)) return new Outcome.Error("stopped");
        DynamodbEvent event = StreamRecords.toEvent(batch, esm.streamArn);
        esm.invocations.incrementAndGet();
        esm.recordsDelivered.addAndGet(batch.size());
        StreamsEventResponse response;
        try {
            response = esm.handler.handleRequest(
                    event, LocalLambdaContext.forInvocation(config.functionName(), FUNCTION_TIMEOUT));
        } catch (RuntimeException | Error e) {
            if (esm.running()) LOG.debug("{}: handler threw on a batch of {}", shard.shardId, batch.size(), e);
            return new Outcome.Error("handler threw " + e);
        }
        if (!config.reportBatchItemFailures()
                || response == null
                || response.getBatchItemFailures() == null
                || response.getBatchItemFailures().isEmpty()) {
            return new Outcome.Success();
        }
        int lowest = Integer.MAX_VALUE;
        for (var failure : response.getBatchItemFailures()) {
            int index = indexOf(batch, failure == null ? null : failure.getItemIdentifier());
            // AWS treats an identifier that is missing or not in the batch as a failure of the whole batch.
            if (index < 0)
                return new Outcome.Error(
                        "invalid itemIdentifier " + (failure == null ? null : failure.getItemIdentifier()));
            lowest = Math.min(lowest, index);
        }
        return new Outcome.ItemFailure(lowest);
    }

    private static int indexOf(List<Record> batch, String sequenceNumber) {
        if (sequenceNumber == null || sequenceNumber.isEmpty()) return -1;
        for (int i = 0; i < batch.size(); i++) {
            if (sequenceNumber.equals(batch.get(i).dynamodb().sequenceNumber())) return i;
        }
        return -1;
    }

    // ---------------------------------------------------------------- failures

    /** Counts a retry of {@code failed} (which starts at the buffer head); past the quota it goes to onFailure. */
    private boolean retryOrDiscard(List<Record> failed, String reason) {
        String first = failed.getFirst().dynamodb().sequenceNumber();
        retryAttempts = first.equals(retriedSequenceNumber) ? retryAttempts + 1 : 1;
        retriedSequenceNumber = first;
        int max = config.maximumRetryAttempts();
        if (max >= 0 && retryAttempts > max) {
            LOG.info(
                    "{}: giving up on {} record(s) from {} after {} retries ({})",
                    shard.shardId,
                    failed.size(),
                    first,
                    max,
                    reason);
            discard(failed, Reason.RETRY_ATTEMPTS_EXHAUSTED, max);
            halves.pollFirst();
            return true;
        }
        esm.retries.incrementAndGet();
        LOG.debug("{}: {}; retry {} from {}", shard.shardId, reason, retryAttempts, first);
        return backOff();
    }

    /** Records at the head that are older than maximumRecordAge go to onFailure without another attempt. */
    private void discardExpiredRecords() {
        if (!config.recordAgeLimited()) return;
        Instant oldest = Instant.now().minus(config.maximumRecordAge());
        List<Record> expired = new ArrayList<>();
        for (Record r : buffer) {
            Instant created = r.dynamodb().approximateCreationDateTime();
            if (created == null || !created.isBefore(oldest)) break;
            expired.add(r);
        }
        if (expired.isEmpty()) return;
        List<Record> delivered = expired.stream().filter(this::matches).toList();
        boolean wasRetrying = retriedSequenceNumber != null
                && expired.stream().anyMatch(r -> r.dynamodb().sequenceNumber().equals(retriedSequenceNumber));
        if (delivered.isEmpty()) {
            checkpointThrough(expired.getLast());
        } else {
            LOG.info(
                    "{}: {} record(s) exceeded maximumRecordAge {}",
                    shard.shardId,
                    delivered.size(),
                    config.maximumRecordAge());
            discard(delivered, Reason.RECORD_AGE_EXCEEDED, wasRetrying ? retryAttempts : 0);
            checkpointThrough(expired.getLast()); // filtered-out records after the last discarded one
        }
        halves.clear();
    }

    private void discard(List<Record> records, Reason reason, int attempts) {
        FailedBatch failed = new FailedBatch(
                esm.streamArn,
                shard.shardId,
                records.getFirst().dynamodb().sequenceNumber(),
                records.getLast().dynamodb().sequenceNumber(),
                records.size(),
                reason,
                attempts,
                records.stream()
                        .map(r -> StreamRecords.toLambda(r, esm.streamArn))
                        .toList());
        checkpointThrough(records.getLast());
        esm.recordsSentToOnFailure.addAndGet(records.size());
        try {
            config.onFailure().accept(failed);
        } catch (RuntimeException e) {
            LOG.warn("{}: onFailure destination threw; records are dropped anyway", shard.shardId, e);
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /** Done with everything up to and including {@code last}: drop it from the buffer and checkpoint it. */
    private void checkpointThrough(Record last) {
        String seq = last.dynamodb().sequenceNumber();
        BigInteger through = new BigInteger(seq);
        while (!buffer.isEmpty()
                && new BigInteger(buffer.peekFirst().dynamodb().sequenceNumber()).compareTo(through) <= 0) {
            buffer.pollFirst();
        }
        shard.checkpoint = seq;
        retriedSequenceNumber = null; // progress: whatever fails next starts a fresh retry count
        retryAttempts = 0;
        if (buffer.isEmpty()) bufferedSinceNanos = System.nanoTime();
    }

    private boolean backOff() {
        Duration wait = backoff;
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        return StreamEventSource.sleep(wait);
    }
}
