package io.durablesessions.client;

import io.durablesessions.events.EventInput;
import java.util.List;

/**
 * One append as it ended, for metrics, tracing and tests ({@link DurableAgent.Builder#onAppend}): the
 * producer seq, the events it carried, how often it was sent again and why, and what the service
 * said in the end. Reported once per append that was answered for good (stored or refused); an append
 * whose interrupted replies were taken out is reported refused ({@code MESSAGE_FENCED}), and the rest
 * again under the same producer seq.
 *
 * @param producerSeq    the producer seq it was sent with
 * @param events         its events, in order
 * @param retries        why each re-send happened: an error code ({@code CONTENTION}, …) or {@code lost: …}
 * @param firstSentNanos {@link System#nanoTime()} when the first attempt was sent
 * @param answeredNanos  {@link System#nanoTime()} when the final answer came
 * @param stored         true when acked (new or duplicate)
 * @param duplicate      acked as a duplicate of an earlier attempt
 * @param firstSeq       the first seq it was stored at (0 when not stored, or a duplicate ack without seqs)
 * @param lastSeq        the last seq it was stored at (0 likewise)
 * @param refusal        the code it was refused with, or null when stored
 */
public record AppendRecord(
        long producerSeq,
        List<EventInput> events,
        List<String> retries,
        long firstSentNanos,
        long answeredNanos,
        boolean stored,
        boolean duplicate,
        long firstSeq,
        long lastSeq,
        String refusal) {
    public AppendRecord {
        events = List.copyOf(events);
        retries = List.copyOf(retries);
    }
}
