package io.durablesessions.functions.store;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The SESSION row of each session as this store last committed it (the head, the hot producer), so
 * that the next append of the session in this process skips the strongly consistent read of the head.
 * Read and written only by the holder of the session's turn ({@link SessionTurns}); a map of at most
 * {@link #MAX_SESSIONS} rows, the least recently used going first.
 *
 * <p>Only an optimisation, like the turns: the append's head condition still decides. A row another
 * process has moved on since fails the condition, and the append retries from the row DynamoDB returns
 * with the failure. What the store decides without a write (a duplicate, a gap, a fenced producer) it
 * never decides from a row kept here: it reads the head again first.
 */
final class KnownHeads {
    static final int MAX_SESSIONS = 4096;

    /** What an append reads of the row (title and metadata are not kept: a few hundred bytes a session). */
    private static final List<String> KEPT = List.of(
            SessionRow.CREATED_AT,
            SessionRow.HOT_PRODUCER,
            SessionRow.HOT_EPOCH,
            SessionRow.HOT_PSEQ,
            SessionRow.HOT_RECENT);

    private final Map<String, Map<String, AttributeValue>> rows = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<String, AttributeValue>> eldest) {
            return size() > MAX_SESSIONS;
        }
    };

    /** The row as last committed here, or null. */
    synchronized Map<String, AttributeValue> get(String sessionId) {
        return rows.get(sessionId);
    }

    /**
     * The row after this store's update committed: {@code before} (null: the update created it) with
     * what the head update sets (the head, {@code updatedAt}, {@code createdAt} if absent, the hot producer).
     */
    synchronized void committed(
            String sessionId,
            Map<String, AttributeValue> before,
            long head,
            long now,
            Map<String, AttributeValue> hotProducer) {
        Map<String, AttributeValue> row = new HashMap<>();
        if (before != null) {
            for (String kept : KEPT) {
                AttributeValue v = before.get(kept);
                if (v != null) row.put(kept, v);
            }
        }
        row.put(Attrs.SESSION_ID, AttributeValue.fromS(sessionId));
        row.put(Attrs.SK, AttributeValue.fromS(Keys.SESSION));
        row.put(SessionRow.HEAD, AttributeValue.fromN(Long.toString(head)));
        row.put(SessionRow.UPDATED_AT, AttributeValue.fromN(Long.toString(now)));
        row.putIfAbsent(SessionRow.CREATED_AT, AttributeValue.fromN(Long.toString(now)));
        row.putAll(hotProducer);
        rows.put(sessionId, Map.copyOf(row));
    }

    /** What happened to the row is not known (a lost race, a failed or timed-out write): read it next time. */
    synchronized void forget(String sessionId) {
        rows.remove(sessionId);
    }
}
