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
 * session seqs its recent appends got. The write is conditioned on exactly what was read, so a
 * concurrent retry of the same append can never commit twice.
 */
record ProducerRow(boolean exists, long epoch, long pseq, List<Recent> recent) {

    record Recent(long pseq, long first, long last) {}

    static ProducerRow of(Map<String, AttributeValue> item) {
        if (item == null) return new ProducerRow(false, 0, -1, List.of());
        List<Recent> recent = new ArrayList<>();
        String enc = Attrs.str(item, "recent");
        if (enc != null && !enc.isEmpty()) {
            for (String r : enc.split(";")) {
                String[] p = r.split(":");
                recent.add(new Recent(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])));
            }
        }
        return new ProducerRow(true, Attrs.num(item, "epoch", 0), Attrs.num(item, "pseq", -1), recent);
    }

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

    TransactWriteItem put(String table, String sessionId, Producer p, long first, long last) {
        List<Recent> next = new ArrayList<>();
        next.add(new Recent(p.seq(), first, last));
        if (exists && p.epoch() == epoch) {
            for (Recent r : recent) {
                if (next.size() >= Limits.PRODUCER_DEDUP_WINDOW) break;
                next.add(r);
            }
        }
        StringBuilder enc = new StringBuilder();
        for (Recent r : next) {
            if (!enc.isEmpty()) enc.append(';');
            enc.append(r.pseq()).append(':').append(r.first()).append(':').append(r.last());
        }
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(SessionStore.PRODUCER_PREFIX + p.id()));
        item.put("epoch", n(p.epoch()));
        item.put("pseq", n(p.seq()));
        item.put("recent", s(enc.toString()));
        return TransactWriteItem.builder().put(b -> {
            b.tableName(table).item(item);
            if (exists) {
                b.conditionExpression("epoch = :epoch AND pseq = :pseq")
                        .expressionAttributeValues(Map.of(":epoch", n(epoch), ":pseq", n(pseq)));
            } else {
                b.conditionExpression("attribute_not_exists(sk)");
            }
        }).build();
    }
}
