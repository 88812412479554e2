package io.durablesessions.functions.store;

import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** Attribute names and value helpers shared by the stores. */
public final class Attrs {
    public static final String SESSION_ID = "sessionId";
    public static final String SEQ = "seq";
    public static final String SK = "sk";
    public static final String PK = "pk";
    public static final String EXPIRES_AT = "expiresAt";
    /** The event's exact JSON text (events table); short, because every byte is billed per write. */
    public static final String EVENT_JSON = "e";

    public static final String DUE_INDEX = "due";
    /** {@code due#0} … {@code due#7} ({@link Keys#dueShard}): spreads deadlines over a few index partitions. */
    public static final String DUE_SHARD = "dueShard";
    /** Epoch millis at which the sweeper acts on the row. */
    public static final String DUE_AT = "dueAt";
    /** SESSION row: who owns the session (set by the HTTP API's create); the partition of {@link #OWNER_INDEX}. */
    public static final String OWNER = "owner";
    /** SESSION row: epoch millis of creation; the sort key of {@link #OWNER_INDEX}. */
    public static final String CREATED_AT = "createdAt";
    /**
     * On an event and on the DELIVERED row: the {@link #CREATED_AT} of the session they belong to, which
     * tells an erased session's events from those of a session created again under the same id.
     */
    public static final String INCARNATION = "inc";
    /** Sparse index of the sessions table: only SESSION rows created with an owner carry {@link #OWNER}. */
    public static final String OWNER_INDEX = "byOwner";
    /** RUN row: the seqs of the run's control events (stop, interrupt, steer, stopped), a number set. */
    public static final String CONTROL_SEQS = "controlSeqs";
    /** RUN row: the highest control seq the run's agent acknowledged over the HTTP API. */
    public static final String CONTROL_ACK_SEQ = "controlAckSeq";

    private Attrs() {}

    public static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    public static AttributeValue n(long v) {
        return AttributeValue.fromN(Long.toString(v));
    }

    public static String str(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item == null ? null : item.get(name);
        return v == null ? null : v.s();
    }

    public static Long num(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item == null ? null : item.get(name);
        return v == null || v.n() == null ? null : Long.parseLong(v.n());
    }

    public static long num(Map<String, AttributeValue> item, String name, long fallback) {
        Long v = num(item, name);
        return v == null ? fallback : v;
    }
}
