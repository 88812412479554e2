package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * How far a session's events are known to have reached its live subscribers ({@code DELIVERED} row
 * of the sessions table, attribute {@value #UP_TO}): every event up to that seq was posted to every
 * subscriber that was registered when the event was written (a later subscriber's catch-up read has
 * it). Direct delivery moves it after an append reached everyone; the Streams fan-out skips what is
 * below it and moves it past what it delivered itself, so an event normally travels once.
 *
 * <p>Reading it late or not at all only costs a duplicate, which the client rule drops: the mark
 * is never ahead of what was delivered.
 */
public final class DeliveryMarks {
    static final String UP_TO = "upTo";

    private final DynamoDbClient ddb;
    private final String table;

    public DeliveryMarks(DynamoDbClient ddb, TableNames tables) {
        this.ddb = ddb;
        this.table = tables.sessions();
    }

    private Map<String, AttributeValue> key(String sessionId) {
        return Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.DELIVERED));
    }

    /** The mark (0: none); an eventually consistent read, so possibly a little behind. */
    public long deliveredThrough(String sessionId) {
        var r = ddb.getItem(g -> g.tableName(table).key(key(sessionId)));
        return r.hasItem() ? Attrs.num(r.item(), UP_TO, 0) : 0;
    }

    /**
     * Direct delivery posted {@code first..last} to every subscriber: the mark moves to {@code last}
     * if everything before {@code first} was delivered already (else the fan-out delivers this
     * append too, and moves the mark past it).
     */
    public void deliveredDirectly(String sessionId, long first, long last) {
        for (int attempt = 1; ; attempt++) {
            Update u = new Update(table, key(sessionId));
            String upTo = u.name(UP_TO);
            u.set(upTo, n(last));
            u.condition(
                    first == 1
                            ? "(attribute_not_exists(" + upTo + ") OR " + upTo + " < " + u.value(n(last)) + ")"
                            : upTo + " BETWEEN " + u.value(n(first - 1)) + " AND " + u.value(n(last - 1)));
            if (apply(u) || attempt == PREDECESSOR_TRIES) return;
            // a pipelined predecessor may still be posting: give it a moment to move the mark first
            if (deliveredThrough(sessionId) >= first - 1 || !pause(attempt)) return;
        }
    }

    /** Tries of a direct mark whose predecessor's mark is not there yet. */
    static final int PREDECESSOR_TRIES = 3;

    /** The fan-out delivered, in log order, everything up to {@code seq}: the mark moves there if it is below. */
    public void deliveredThrough(String sessionId, long seq) {
        Update u = new Update(table, key(sessionId));
        String upTo = u.name(UP_TO);
        u.set(upTo, n(seq));
        u.condition("(attribute_not_exists(" + upTo + ") OR " + upTo + " < " + u.value(n(seq)) + ")");
        apply(u);
    }

    /** False when the condition failed: nothing to move (the fan-out delivers what the mark does not cover). */
    private boolean apply(Update u) {
        try {
            ddb.updateItem(u.request());
            return true;
        } catch (ConditionalCheckFailedException alreadyThereOrAGap) {
            return false;
        }
    }

    private static boolean pause(int attempt) {
        try {
            Thread.sleep(5L * attempt);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
