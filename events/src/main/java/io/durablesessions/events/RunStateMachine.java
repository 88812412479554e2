package io.durablesessions.events;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Which event may follow which run state, and where it leads. The store turns
 * {@link #allowedFrom(EventType)} into the DynamoDB condition on the run row, so the rule is
 * enforced by the database, not by a read before the write.
 */
public final class RunStateMachine {
    private RunStateMachine() {}

    /** States in which the event is accepted; empty means "the run must not exist yet". */
    public static Set<RunState> allowedFrom(EventType type) {
        return switch (type) {
            case RUN_STARTED -> EnumSet.noneOf(RunState.class);
            case RUN_STOP_ACKNOWLEDGED, RUN_STOPPED -> EnumSet.of(RunState.STOP_REQUESTED);
            case RUN_FAILED -> EnumSet.of(RunState.RUNNING, RunState.STOP_REQUESTED);
            // every other event of a run, including completion, needs a running run: that is the fence
            default -> EnumSet.of(RunState.RUNNING);
        };
    }

    /** The state after {@code type} is applied in {@code current} (null: no run yet), if allowed. */
    public static Optional<RunState> next(RunState current, EventType type) {
        Set<RunState> from = allowedFrom(type);
        boolean ok = current == null ? from.isEmpty() : from.contains(current);
        if (!ok) return Optional.empty();
        return Optional.of(
                switch (type) {
                    case RUN_STARTED -> RunState.RUNNING;
                    case RUN_COMPLETED -> RunState.COMPLETED;
                    case RUN_FAILED -> RunState.FAILED;
                    case RUN_STOP_REQUESTED -> RunState.STOP_REQUESTED;
                    // the acknowledgement is a fact, not the end: the service records run.stopped with it (§6)
                    case RUN_STOP_ACKNOWLEDGED -> RunState.STOP_REQUESTED;
                    case RUN_STOPPED -> RunState.STOPPED;
                    default -> current;
                });
    }
}
