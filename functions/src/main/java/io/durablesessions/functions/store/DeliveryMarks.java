package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * What of a session's events is known to have reached its live subscribers: the {@code DELIVERED}
 * row of the sessions table. {@value #UP_TO}: every event up to that seq was posted to every
 * subscriber that was registered when the event was written (a later subscriber's catch-up read has
 * it). {@value #DIRECT}: a number set of seqs above it that direct delivery posted to every such
 * subscriber. Direct delivery adds an append's seqs to the set in one update that waits for nobody
 * (concurrent writers and pipelined appends commit and post in any order); the Streams fan-out skips
 * what the mark covers, posts the rest, and moves {@value #UP_TO} past its batch, taking the seqs
 * below it out of the set. So an event normally travels once.
 *
 * <p>Reading it late or not at all only costs a duplicate, which the client rule drops: the mark
 * never covers what was not delivered.
 *
 * <p>The row is created with the session, empty ({@link #createWith}: the append that creates the
 * SESSION row, and {@code POST /v1/sessions}), and both writes here only update it. A mark that lands
 * after the session was erased (the fan-out waits up to half a second for direct delivery) therefore
 * finds no row and writes nothing: it cannot bring back a row of the erased session. The row carries
 * the session's incarnation ({@value Attrs#INCARNATION}: its {@code createdAt}, which every event of it
 * carries too), and each mark names the incarnation of the events it is about: a mark of an erased
 * session that lands after the session was created again under the same id does not match the new row
 * and writes nothing either. (A session created before these rules has no row, or a row without an
 * incarnation: its events are then posted by both paths, and the client rule drops the duplicates.)
 */
public final class DeliveryMarks {
    static final String UP_TO = "upTo";
    static final String DIRECT = "direct";
    /**
     * At most this many seqs wait in the set (the fan-out folds them into {@value #UP_TO} once 64 wait,
     * so only a stalled fan-out fills it); past it, direct delivery stops marking and the fan-out posts
     * again.
     */
    static final int MAX_DIRECT = 1000;
    /** An append of more events than this is not marked: the fan-out posts it again (a duplicate). */
    static final int MAX_MARKED_PER_APPEND = 100;

    /**
     * The row as read: {@code upTo}, the directly delivered seqs above it, and the incarnation of the
     * session it belongs to (0: none known, no row or a row older than incarnations).
     */
    public record Mark(long upTo, Set<Long> direct, long incarnation) {
        public static final Mark NONE = new Mark(0, Set.of(), 0);

        public Mark {
            direct = Set.copyOf(direct);
        }

        /** Nothing marked delivered (a new session's row, or none). */
        public boolean marksNothing() {
            return upTo == 0 && direct.isEmpty();
        }

        /** Delivered to every subscriber registered when it was written. */
        public boolean covers(long seq) {
            return seq <= upTo || direct.contains(seq);
        }
    }

    private final DynamoDbClient ddb;
    private final String table;

    public DeliveryMarks(DynamoDbClient ddb, TableNames tables) {
        this.ddb = ddb;
        this.table = tables.sessions();
    }

    private static Map<String, AttributeValue> key(String sessionId) {
        return Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.DELIVERED));
    }

    /** The empty row of a new session, for the transaction that creates it (it replaces any row left behind). */
    static TransactWriteItem createWith(String table, String sessionId, long incarnation) {
        return TransactWriteItem.builder()
                .put(p -> p.tableName(table).item(emptyRow(sessionId, incarnation)))
                .build();
    }

    /** The empty row, written on its own (a session created without an append); replaces any row left behind. */
    void create(String sessionId, long incarnation) {
        ddb.putItem(p -> p.tableName(table).item(emptyRow(sessionId, incarnation)));
    }

    private static Map<String, AttributeValue> emptyRow(String sessionId, long incarnation) {
        Map<String, AttributeValue> row = new HashMap<>(key(sessionId));
        row.put(Attrs.INCARNATION, n(incarnation));
        return row;
    }

    /** {@link #read(String, boolean)}, eventually consistent. */
    public Mark read(String sessionId) {
        return read(sessionId, false);
    }

    /** The mark ({@link Mark#NONE}: none); eventually consistent unless {@code consistent}, so possibly a little behind. */
    public Mark read(String sessionId, boolean consistent) {
        var r = ddb.getItem(g -> g.tableName(table).key(key(sessionId)).consistentRead(consistent));
        if (!r.hasItem() || r.item().isEmpty()) return Mark.NONE;
        Set<Long> direct = new HashSet<>();
        AttributeValue set = r.item().get(DIRECT);
        if (set != null && set.hasNs()) for (String v : set.ns()) direct.add(Long.parseLong(v));
        return new Mark(Attrs.num(r.item(), UP_TO, 0), direct, Attrs.num(r.item(), Attrs.INCARNATION, 0));
    }

    /**
     * Direct delivery posted {@code first..last} to every subscriber: those seqs join the set, unless
     * the fan-out is past them already (then it delivered them itself) or the set is full, or the row is
     * of a session created after {@code writtenAt} (the events' server time: their session was erased
     * and created again meanwhile). The append knows its events' time, not the row's createdAt; had the
     * session been created on a clock running a little ahead of this one, the condition fails, which
     * costs a duplicate only.
     */
    public void deliveredDirectly(String sessionId, long first, long last, long writtenAt) {
        if (last < first || last - first + 1 > MAX_MARKED_PER_APPEND) return;
        List<String> seqs = new ArrayList<>();
        for (long seq = first; seq <= last; seq++) seqs.add(Long.toString(seq));
        Update u = new Update(table, key(sessionId));
        String upTo = u.name(UP_TO);
        String direct = u.name(DIRECT);
        u.add(direct, AttributeValue.fromNs(seqs));
        onlyIfCreated(u);
        String inc = u.name(Attrs.INCARNATION);
        u.condition("(attribute_not_exists(" + inc + ") OR " + inc + " <= " + u.value(n(writtenAt)) + ")");
        u.condition("(attribute_not_exists(" + upTo + ") OR " + upTo + " < " + u.value(n(first)) + ")");
        u.condition("(attribute_not_exists(" + direct + ") OR size(" + direct + ") < " + u.value(n(MAX_DIRECT)) + ")");
        apply(u);
    }

    /**
     * The fan-out delivered, in log order, everything up to {@code seq} that {@code seen} (the mark it
     * read) did not cover: {@value #UP_TO} moves there if it is below, and the seqs of {@code seen}'s set
     * up to it leave the set. (A seq added after {@code seen} was read stays until the next pass.) Only
     * on the row of {@code incarnation}, the events' session (0: events older than incarnations, which
     * only a row without one may take).
     */
    public void deliveredThrough(String sessionId, long seq, Mark seen, long incarnation) {
        Update u = new Update(table, key(sessionId));
        String upTo = u.name(UP_TO);
        u.set(upTo, n(seq));
        List<String> done = new ArrayList<>();
        for (long d : seen.direct()) if (d <= seq) done.add(Long.toString(d));
        if (!done.isEmpty()) u.delete(u.name(DIRECT), AttributeValue.fromNs(done));
        onlyIfCreated(u);
        String inc = u.name(Attrs.INCARNATION);
        u.condition(incarnation == 0 ? "attribute_not_exists(" + inc + ")" : inc + " = " + u.value(n(incarnation)));
        u.condition("(attribute_not_exists(" + upTo + ") OR " + upTo + " < " + u.value(n(seq)) + ")");
        apply(u);
    }

    /** The row is the session's, created with it: a mark never creates it (an erased session stays erased). */
    private static void onlyIfCreated(Update u) {
        u.condition("attribute_exists(" + u.name(Attrs.SK) + ")");
    }

    /**
     * False when the condition failed: nothing to record (the fan-out delivers what the mark does not cover),
     * or no row (the session was erased, or is older than the row).
     */
    private boolean apply(Update u) {
        try {
            ddb.updateItem(u.request());
            return true;
        } catch (ConditionalCheckFailedException alreadyThereOrFull) {
            return false;
        }
    }
}
