package io.durablesessions.client;

import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventType;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * What the agent does with the answer to one append: a pure function of the outcome and the
 * attempt so far, so every retry rule is in one place. The same producer seq is sent again after a
 * lost answer (the first time at once, later paced by the backoff from the attempt's start) and
 * after a refusal whose {@link ErrorCode#recovery()} is {@code RETRY} (after the backoff, or the
 * service's {@code retryAfterMs} when longer); fences and fatal refusals settle the batch.
 */
final class AppendPolicy {
    /** A stop acknowledgement that overtook the service's recording of the stop is sent again this often at most. */
    static final int STOP_RECORDING_ATTEMPTS = 6;

    /** What was sent, as far as the rules care. */
    record Batch(List<EventType> types, Set<String> messageIds, boolean allBypassFence) {
        static Batch of(List<Pending> batch) {
            Set<String> messages = new LinkedHashSet<>();
            for (Pending p : batch) if (p.messageId != null) messages.add(p.messageId);
            return new Batch(
                    batch.stream().map(p -> p.type).toList(),
                    messages,
                    batch.stream().allMatch(p -> p.bypassFence));
        }

        boolean onlyStopAcknowledgements() {
            return types.stream().allMatch(t -> t == EventType.RUN_STOP_ACKNOWLEDGED);
        }

        EventType last() {
            return types.get(types.size() - 1);
        }
    }

    /**
     * The attempt so far.
     *
     * @param retries        re-sends of this producer seq so far
     * @param resentAfterLoss an earlier attempt of this producer seq got no answer (it may be stored)
     * @param elapsedMs      how long this attempt took
     */
    record Attempt(int retries, boolean resentAfterLoss, long elapsedMs) {
        static final Attempt FIRST = new Attempt(0, false, 0);
    }

    sealed interface Decision
            permits Stored, Resend, FenceMessages, FenceRun, StoredEarlier, ProducerFenced, Dropped, Failed {}

    /** Acked: the batch is stored at these seqs (a duplicate ack of an earlier attempt may name them or not). */
    record Stored(long firstSeq, long lastSeq, boolean duplicate) implements Decision {}

    /** Send the same producer seq again after {@code delayMs}; {@code lost}: nobody knows whether this attempt was stored. */
    record Resend(long delayMs, String reason, boolean lost) implements Decision {}

    /** These replies are fenced (interrupted): nothing was written; send the rest again with the same producer seq. */
    record FenceMessages(Set<String> messageIds) implements Decision {}

    /** The run is fenced ({@code state}): nothing was written; drop the batch and the rest of the run. */
    record FenceRun(String state) implements Decision {}

    /** The run ended by our own earlier, unanswered attempt: the batch is stored, only its ack was lost. */
    record StoredEarlier(String state) implements Decision {}

    /** A newer epoch of this producer took over: nothing more can be written. */
    record ProducerFenced(DurableSessionException error) implements Decision {}

    /** A stop acknowledgement the service's own {@code run.stopped} overtook: nothing to write any more. */
    record Dropped(String code) implements Decision {}

    /** Refused for good: the callers get the error. */
    record Failed(DurableSessionException error) implements Decision {}

    private final IntFunction<Duration> backoff;

    /** @param backoff the pause before re-send number {@code n} (0-based) */
    AppendPolicy(IntFunction<Duration> backoff) {
        this.backoff = backoff;
    }

    Decision decide(AgentTransport.Outcome outcome, Batch batch, Attempt attempt) {
        if (outcome instanceof AgentTransport.Acked a) return new Stored(a.firstSeq(), a.lastSeq(), a.duplicate());
        if (outcome instanceof AgentTransport.Lost lost) {
            // the first re-send goes at once; later ones are paced from the attempt's start, so a refused
            // connection does not spin while a timeout that already waited goes on
            long delay = attempt.retries() == 0
                    ? 0
                    : backoff.apply(attempt.retries() - 1).toMillis() - attempt.elapsedMs();
            return new Resend(Math.max(0, delay), "lost: " + lost.why(), true);
        }
        AgentTransport.Refused r = (AgentTransport.Refused) outcome;
        ErrorCode code = ErrorCode.fromWire(r.code());
        if (code != null && code.retryable()) {
            return new Resend(
                    Math.max(r.retryAfterMs(), backoff.apply(attempt.retries()).toMillis()), r.code(), false);
        }
        if (code == null) return new Failed(r.exception());
        String state = r.details().path("state").asText("");
        switch (code) {
            case MESSAGE_FENCED: {
                String m = r.details().path("messageId").asText(null);
                return new FenceMessages(m != null ? Set.of(m) : batch.messageIds());
            }
            case RUN_FENCED:
                if (attempt.resentAfterLoss()
                        && (state.equals("completed") && batch.last() == EventType.RUN_COMPLETED
                                || state.equals("failed") && batch.last() == EventType.RUN_FAILED)) {
                    return new StoredEarlier(state);
                }
                return new FenceRun(state);
            case STALE_EPOCH:
                return new ProducerFenced(r.exception());
            case INVALID_TRANSITION:
                if (state.equals("running")
                        && batch.onlyStopAcknowledgements()
                        && attempt.retries() < STOP_RECORDING_ATTEMPTS) {
                    // we learned of the stop while the service had claimed it but not yet recorded it; our
                    // acknowledgement overtook it: again shortly, nothing was written
                    return new Resend(backoff.apply(attempt.retries()).toMillis(), "stop being recorded", false);
                }
                if (batch.allBypassFence()) return new Dropped(r.code());
                return new Failed(r.exception());
            default:
                return new Failed(r.exception());
        }
    }
}
