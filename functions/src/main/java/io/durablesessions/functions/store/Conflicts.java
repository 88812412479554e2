package io.durablesessions.functions.store;

import java.util.List;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

/**
 * DynamoDB's transaction conflicts: a write that met an in-flight transaction on one of its items
 * was refused and changed nothing, so it may be sent again. Single-item writes are retried by the
 * client (runtime/Clients); the session log's commit loop re-reads and retries its own
 * transactions; the other transactions go through {@link #transactWrite}.
 */
public final class Conflicts {
    static final int MAX_ATTEMPTS = 10;

    private Conflicts() {}

    /** A conflict with a transaction, not a failed condition: worth trying again (CONTENTION to a client). */
    public static boolean isConflict(Throwable e) {
        if (e instanceof TransactionConflictException) return true;
        return e instanceof TransactionCanceledException t && conflicted(t.cancellationReasons());
    }

    static boolean conflicted(List<CancellationReason> reasons) {
        return reasons != null && reasons.stream().anyMatch(r -> "TransactionConflict".equals(r.code()));
    }

    /**
     * A transaction whose conditions do not depend on anything read before it: sent again while a
     * conflict cancels it (backing off); any other cancellation, or conflicts past the last
     * attempt, is thrown.
     */
    static void transactWrite(DynamoDbClient ddb, List<TransactWriteItem> tx) {
        for (int attempt = 1; ; attempt++) {
            try {
                ddb.transactWriteItems(r -> r.transactItems(tx));
                return;
            } catch (TransactionCanceledException e) {
                if (!conflicted(e.cancellationReasons()) || attempt >= MAX_ATTEMPTS) throw e;
                BatchReads.backoff(attempt);
            }
        }
    }
}
