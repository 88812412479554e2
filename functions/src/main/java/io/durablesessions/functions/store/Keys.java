package io.durablesessions.functions.store;

/**
 * Every sort-key and partition-key shape of the tables (docs/storage.md), in one place: the
 * writers and the readers of a row use these, never a literal of their own.
 */
public final class Keys {
    private Keys() {}

    // ---- sessions table (partition: sessionId)
    /** The session itself: head seq, compaction watermark, owner, retention. */
    public static final String SESSION = "SESSION";

    public static final String RUN = "RUN#";
    public static final String PRODUCER = "PRODUCER#";
    /** Who wrote a message first (its owner): written by its message.start. */
    public static final String MESSAGE = "MSG#";
    /** Who called a tool first (its owner): written by its tool.call. */
    public static final String TOOL = "TOOL#";
    /** Compacted items (assembled messages, tool calls, custom events) for bounded hydration. */
    public static final String ITEM = "ITEM#";
    /** Compacted runs, agents and presence. */
    public static final String VIEW = "VIEW";

    public static final String PRESENCE = "PRESENCE#";
    /** How far the session's events reached its live subscribers ({@link DeliveryMarks}). */
    public static final String DELIVERED = "DELIVERED";

    public static String run(String runId) {
        return RUN + runId;
    }

    /** A producer is scoped by its writer: two writers may use the same producer id without meeting. */
    public static String producer(String writer, String producerId) {
        return PRODUCER + writer + "#" + producerId;
    }

    public static String presence(String memberId) {
        return PRESENCE + memberId;
    }

    // ---- connections table (partition: pk)
    public static final String CONN = "CONN#";
    public static final String SUB = "SUB#";
    public static final String META = "META";
    public static final String REVOKED = "REVOKED";
    public static final String REVOKED_JTI = "REVOKED#JTI#";
    public static final String REVOKED_SUBJECT = "REVOKED#SUB#";
    /** Per-subject budgets (presence announcements, catch-up bytes): {@code SUBJECT#<sub>}. */
    public static final String SUBJECT = "SUBJECT#";

    public static String conn(String connectionId) {
        return CONN + connectionId;
    }

    public static String sub(String sessionId) {
        return SUB + sessionId;
    }

    // ---- the sparse due index
    public static final int DUE_SHARDS = 8;
    public static final String DUE_SHARD_PREFIX = "due#";

    public static String dueShard(int shard) {
        return DUE_SHARD_PREFIX + shard;
    }

    /** The due-index shard of a row, stable per key, so deadlines spread over a few partitions. */
    public static String dueShard(String sessionId, String sk) {
        return dueShard(Math.floorMod((sessionId + "/" + sk).hashCode(), DUE_SHARDS));
    }
}
