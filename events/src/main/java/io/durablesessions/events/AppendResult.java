package io.durablesessions.events;

import java.util.List;

/**
 * The outcome of an append, decided by DynamoDB's conditional transaction. Each refusal maps to
 * {@link Refusal} (a wire error code) in {@link Refusal#of(AppendResult)}.
 */
public sealed interface AppendResult {
    record Appended(long firstSeq, long lastSeq, List<Event> events) implements AppendResult {
        public Appended {
            events = List.copyOf(events);
        }
    }

    /** Accepted without writing an event (a heartbeat kept the run alive). */
    record Noted(String runId) implements AppendResult {}

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

    /**
     * An event not allowed in the life of the message or tool call it names ({@code field} =
     * {@code messageId} or {@code toolCallId}): not started, started twice, ended, or of another run.
     */
    record EntityTransition(String field, String id, EventType type, String why) implements AppendResult {}

    /**
     * The run, message or tool call belongs to another writer ({@code field} = {@code runId},
     * {@code messageId} or {@code toolCallId}); only its owner may write to it, keep it alive or
     * acknowledge its control.
     */
    record NotOwner(String field, String id) implements AppendResult {}

    /**
     * The append would write more rows than one DynamoDB transaction commits ({@code limit}): its
     * events plus the runs, messages and tool calls it starts or touches. Split it.
     */
    record TooManyRows(int rows, int limit) implements AppendResult {}

    /** The session has no log (nor a SESSION row) and this write may not create it. */
    record NoSession(String sessionId) implements AppendResult {}

    /** A service-side precondition written alongside the event did not hold; nothing was written. */
    record PreconditionFailed() implements AppendResult {}

    /** Too many concurrent writers; nothing was written; retry with backoff. */
    record Contention(int attempts) implements AppendResult {}
}
