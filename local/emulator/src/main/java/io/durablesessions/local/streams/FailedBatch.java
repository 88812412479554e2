package io.durablesessions.local.streams;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent.DynamodbStreamRecord;
import java.util.List;

/**
 * What an event source mapping hands its on-failure destination when it gives up on records (the
 * fields of AWS's {@code DDBStreamBatchInfo}, plus the records themselves, as an S3 destination gets).
 *
 * @param retryAttempts how often the records were retried before being discarded
 */
public record FailedBatch(
        String streamArn,
        String shardId,
        String startSequenceNumber,
        String endSequenceNumber,
        int batchSize,
        Reason reason,
        int retryAttempts,
        List<DynamodbStreamRecord> records) {

    public enum Reason {
        /** maximumRetryAttempts used up (for a bisected batch: the half that kept failing). */
        RETRY_ATTEMPTS_EXHAUSTED,
        /** the oldest record was older than maximumRecordAge before it could be (re)delivered. */
        RECORD_AGE_EXCEEDED
    }

    public FailedBatch {
        records = List.copyOf(records);
    }
}
