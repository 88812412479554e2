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
    /**
     * Appends one producer may have in flight at once (pipelining): the service waits briefly for an
     * append's predecessors rather than refuse it. At most the dedup window, so a retry of any of
     * them is still recognised.
     */
    public static final int MAX_PRODUCER_IN_FLIGHT = 16;
    /** One append is one DynamoDB transaction: at most this many items (events and the rows they touch). */
    public static final int MAX_ROWS_PER_APPEND = 100;
    /** JSON nesting of a whole frame before the parser gives up ({@link ErrorCode#MALFORMED_JSON}). */
    public static final int MAX_FRAME_DEPTH = 1000;
    /** A tool's or a custom event's {@code name}. */
    public static final int MAX_NAME_LENGTH = 256;
    /** A {@code run.failed} {@code reason}. */
    public static final int MAX_REASON_LENGTH = 1024;
    /** A steer instruction. */
    public static final int MAX_STEER_TEXT = 16 * 1024;
    /** A display label others see ({@code label}, {@code surface}, an agent's label). */
    public static final int MAX_LABEL_LENGTH = 64;
    /** Sessions one connection may subscribe to at once. */
    public static final int MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
    /** Events sent by one catch-up before {@code subscribed} says {@code complete: false}. */
    public static final int MAX_CATCH_UP_EVENTS = 20_000;
    /** A W3C {@code traceparent} ({@link TraceParent}): version-traceid-parentid-flags. */
    public static final int TRACEPARENT_LENGTH = 55;
    /** The HTTP API's snapshot answer (Lambda answers at most 6 MB). */
    public static final int MAX_HTTP_SNAPSHOT_BYTES = 5 * 1024 * 1024;

    private Limits() {}
}
