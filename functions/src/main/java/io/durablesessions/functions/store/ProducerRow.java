package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.Duplicate;
import io.durablesessions.events.AppendResult.ProducerGap;
import io.durablesessions.events.AppendResult.StaleEpoch;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.Limits;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * The idempotency state of one producer in one session: its epoch, its last producer seq and the
 * session seqs its recent appends got.
 *
 * <p>Where it lives: the producer that appended last is the session's <em>hot</em> producer, kept
 * on the {@code SESSION} row itself ({@link SessionRow#HOT_PRODUCER}), so a single writer's append
 * writes one row fewer (2 WRU). When another producer appends, the hot one's state is spilled to its
 * own {@code PRODUCER#} row in the same transaction. So a producer's state is on the SESSION row
 * while it is hot and on its own row otherwise; both only change in an append's transaction, which
 * is conditioned on the head it read, so a concurrent retry of the same append can never commit
 * twice. Reads must take the SESSION row first and then the producer's row (a spill moves the head).
 */
record ProducerRow(boolean exists, long epoch, long pseq, List<Recent> recent) {

    record Recent(long pseq, long first, long last) {}

    static final ProducerRow NEW = new ProducerRow(false, 0, -1, List.of());

    /** The state in a {@code PRODUCER#} row (or a new producer's when there is none). */
    static ProducerRow of(Map<String, AttributeValue> item) {
        if (item == null) return NEW;
        return new ProducerRow(
                true, Attrs.num(item, EPOCH, 0), Attrs.num(item, PSEQ, -1), decode(Attrs.str(item, RECENT)));
    }

    /** The hot producer's state on the SESSION row; only meaningful when it names that producer. */
    static ProducerRow hot(Map<String, AttributeValue> session) {
        return new ProducerRow(
                true,
                Attrs.num(session, SessionRow.HOT_EPOCH, 0),
                Attrs.num(session, SessionRow.HOT_PSEQ, -1),
                decode(Attrs.str(session, SessionRow.HOT_RECENT)));
    }

    /** The key of the session's hot producer, or null. */
    static String hotKey(Map<String, AttributeValue> session) {
        return session == null ? null : Attrs.str(session, SessionRow.HOT_PRODUCER);
    }

    private static final String EPOCH = "epoch";
    private static final String PSEQ = "pseq";
    private static final String RECENT = "recent";

    /** A refusal or duplicate for this producer position, or null when the append may proceed. */
    AppendResult check(Producer p) {
        if (!exists || p.epoch() > epoch) return p.seq() == 0 ? null : new ProducerGap(0);
        if (p.epoch() < epoch) return new StaleEpoch(epoch);
        if (p.seq() == pseq + 1) return null;
        if (p.seq() > pseq + 1) return new ProducerGap(pseq + 1);
        for (Recent r : recent) {
            if (r.pseq() == p.seq()) return new Duplicate(r.first(), r.last());
        }
        return new Duplicate(null, null);
    }

    /** The state after {@code p}'s append got session seqs {@code first..last}. */
    ProducerRow next(Producer p, long first, long last) {
        List<Recent> next = new ArrayList<>();
        next.add(new Recent(p.seq(), first, last));
        if (exists && p.epoch() == epoch) {
            for (Recent r : recent) {
                if (next.size() >= Limits.PRODUCER_DEDUP_WINDOW) break;
                next.add(r);
            }
        }
        return new ProducerRow(true, p.epoch(), p.seq(), List.copyOf(next));
    }

    /** The SESSION row's hot-producer attributes holding this state for producer {@code key}. */
    Map<String, AttributeValue> asHot(String key) {
        return Map.of(
                SessionRow.HOT_PRODUCER,
                s(key),
                SessionRow.HOT_EPOCH,
                n(epoch),
                SessionRow.HOT_PSEQ,
                n(pseq),
                SessionRow.HOT_RECENT,
                s(encode(recent)));
    }

    /**
     * This (formerly hot) state written to the producer's own row. Unconditional: it rides in the
     * append's transaction, whose head condition already excludes any other writer.
     */
    TransactWriteItem spill(String table, String sessionId, String key) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(key));
        item.put(EPOCH, n(epoch));
        item.put(PSEQ, n(pseq));
        item.put(RECENT, s(encode(recent)));
        return TransactWriteItem.builder()
                .put(b -> b.tableName(table).item(item))
                .build();
    }

    private static List<Recent> decode(String enc) {
        List<Recent> recent = new ArrayList<>();
        if (enc != null && !enc.isEmpty()) {
            for (String r : enc.split(";")) {
                String[] p = r.split(":");
                recent.add(new Recent(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])));
            }
        }
        return recent;
    }

    private static String encode(List<Recent> recent) {
        StringBuilder enc = new StringBuilder();
        for (Recent r : recent) {
            if (!enc.isEmpty()) enc.append(';');
            enc.append(r.pseq()).append(':').append(r.first()).append(':').append(r.last());
        }
        return enc.toString();
    }
}
