package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.RunState;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * A run's row ({@code RUN#<runId>} in the sessions table, docs/storage.md): its attribute names,
 * read back by {@link #of}; written by {@link RunWrite} (appends), the stop claim and the heartbeat
 * in {@link SessionStore}, the control acknowledgement in {@link SessionCatalog}.
 */
public record RunRow(
        String runId,
        String agentId,
        String parentRunId,
        RunState state,
        long startedSeq,
        long lastSeq,
        Long stoppedAtSeq,
        String currentMessageId,
        Map<String, String> open,
        long heartbeatAt,
        String stopPending,
        long stopPendingAt) {
    static final String RUN_ID = "runId";
    /** The writer that started the run: the only one that may write into it. */
    static final String AGENT_ID = "agentId";

    static final String PARENT_RUN_ID = "parentRunId";
    /** {@link RunState#wire()}. */
    static final String STATE = "state";

    static final String STARTED_SEQ = "startedSeq";
    /** The seq of the run's latest accepted event. */
    static final String LAST_SEQ = "lastSeq";

    static final String STOPPED_AT_SEQ = "stoppedAtSeq";
    /** The reply in progress (its latest message.start without message.end), for an interrupt that names none. */
    static final String CURRENT_MESSAGE_ID = "currentMessageId";
    /** The run's open messages and tool calls: {@code m#id}/{@code t#id} → input | open | fenced (see {@link RunWrite}). */
    static final String OPEN = "open";
    /** Epoch millis of the agent's latest sign of life. */
    static final String HEARTBEAT_AT = "heartbeatAt";
    /** A cancel recording its stop: its claim id, and when it claimed. */
    static final String STOP_PENDING = "stopPending";

    static final String STOP_PENDING_AT = "stopPendingAt";

    /** The run is running and no stop is being recorded: nothing else lets a run's own writes in. */
    static final Expression RUNNING = new Expression(
            "#state = :running AND attribute_not_exists(#stopPending)",
            Map.of("#state", STATE, "#stopPending", STOP_PENDING),
            Map.of(":running", s(RunState.RUNNING.wire())));

    public RunRow {
        open = Map.copyOf(open);
    }

    static RunRow of(Map<String, AttributeValue> r) {
        AttributeValue o = r.get(OPEN);
        Map<String, String> open = new HashMap<>();
        if (o != null && o.hasM()) o.m().forEach((k, v) -> open.put(k, v.s()));
        return new RunRow(
                Attrs.str(r, RUN_ID),
                Attrs.str(r, AGENT_ID),
                Attrs.str(r, PARENT_RUN_ID),
                RunState.fromWire(Attrs.str(r, STATE)),
                Attrs.num(r, STARTED_SEQ, 0),
                Attrs.num(r, LAST_SEQ, 0),
                Attrs.num(r, STOPPED_AT_SEQ),
                Attrs.str(r, CURRENT_MESSAGE_ID),
                open,
                Attrs.num(r, HEARTBEAT_AT, 0),
                Attrs.str(r, STOP_PENDING),
                Attrs.num(r, STOP_PENDING_AT, 0));
    }

    /** A cancel has claimed the run and is recording its stop: to its agent it is already stop_requested. */
    boolean stopBeingRecorded() {
        return state == RunState.RUNNING && stopPending != null;
    }
}
