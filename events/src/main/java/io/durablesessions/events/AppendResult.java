package io.durablesessions.events;

import java.util.List;

/**
 * The outcome of an append, decided by DynamoDB's conditional transaction. Each refusal maps to
 * one wire error code in {@link Frames#appendOutcome}.
 */
public sealed interface AppendResult {
    record Appended(long firstSeq, long lastSeq, List<Event> events) implements AppendResult {
        public Appended {
            events = List.copyOf(events);
        }
    }

    /** A retried producer append: nothing written; the original seqs when still remembered. */
    record Duplicate(Long firstSeq, Long lastSeq) implements AppendResult {}

    record ProducerGap(long expectedSeq) implements AppendResult {}

    record StaleEpoch(long currentEpoch) implements AppendResult {}

    record RunNotFound(String runId) implements AppendResult {}

    record RunExists(String runId) implements AppendResult {}

    /** The run is stopped, completed or failed; {@code stoppedAtSeq} is its last accepted seq. */
    record RunFenced(String runId, RunState state, Long stoppedAtSeq) implements AppendResult {}

    /** The reply was interrupted: no more events for that message ({@code interruptedAtSeq}). */
    record MessageFenced(String runId, String messageId, Long interruptedAtSeq) implements AppendResult {}

    record InvalidTransition(String runId, RunState state, EventType type) implements AppendResult {}

    /** Only the run's own agent may keep it alive or acknowledge its control. */
    record NotRunAgent(String runId) implements AppendResult {}

    /** A service-side precondition written alongside the event did not hold; nothing was written. */
    record PreconditionFailed() implements AppendResult {}

    /** Too many concurrent writers; nothing was written; retry with backoff. */
    record Contention(int attempts) implements AppendResult {}
}
