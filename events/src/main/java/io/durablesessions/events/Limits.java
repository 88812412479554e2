package io.durablesessions.events;

/** Protocol limits (docs/protocol.md §9). One place, used by validation, stores and SDKs. */
public final class Limits {
    /** API Gateway WebSocket message limit. */
    public static final int MAX_MESSAGE_BYTES = 128 * 1024;
    /** API Gateway WebSocket frame limit. */
    public static final int MAX_FRAME_BYTES = 32 * 1024;
    /** A stored event must fit one delivered message with room for the frame envelope. */
    public static final int MAX_EVENT_BYTES = 96 * 1024;
    public static final int MAX_EVENTS_PER_APPEND = 64;
    public static final int MAX_ID_LENGTH = 128;
    public static final int MAX_DATA_DEPTH = 32;
    /** JavaScript's Number.MAX_SAFE_INTEGER: every seq and counter must survive a browser. */
    public static final long MAX_SAFE_INTEGER = 9_007_199_254_740_991L;
    /** How many appends of a producer keep their seqs for duplicate acks. */
    public static final int PRODUCER_DEDUP_WINDOW = 16;

    private Limits() {}
}
