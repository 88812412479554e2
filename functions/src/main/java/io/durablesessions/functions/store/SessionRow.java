package io.durablesessions.functions.store;

/**
 * The attribute names of a session's own row ({@code SESSION} in the sessions table,
 * docs/storage.md), used by every store that writes or reads it: the appends ({@link SessionStore}),
 * the HTTP API's catalogue ({@link SessionCatalog}) and compaction ({@link Compactor}).
 */
final class SessionRow {
    /** The seq of the newest event: the append's optimistic lock. */
    static final String HEAD = "head";
    /** Epoch millis of the latest append. */
    static final String UPDATED_AT = "updatedAt";
    /** Epoch millis of creation (the sort key of the owner index). */
    static final String CREATED_AT = Attrs.CREATED_AT;
    /** Who owns the session (the partition key of the owner index). */
    static final String OWNER = Attrs.OWNER;

    static final String TITLE = "title";
    /** The JSON text given at creation. */
    static final String METADATA = "metadata";
    /** Epoch seconds after which the sweeper erases the session (its retention). */
    static final String RETAIN_UNTIL = "retainUntil";
    /** The seq up to which the log is compacted into ITEM#/VIEW rows. */
    static final String COMPACTED_SEQ = "compactedSeq";

    /** The producer that appended last ({@code PRODUCER#writer#id}) and its state ({@link ProducerRow}). */
    static final String HOT_PRODUCER = "hotProducer";

    static final String HOT_EPOCH = "hotEpoch";
    static final String HOT_PSEQ = "hotPseq";
    static final String HOT_RECENT = "hotRecent";

    private SessionRow() {}
}
