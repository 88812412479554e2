package io.durablesessions.client;

import io.durablesessions.events.JsonBytes;
import io.durablesessions.events.Limits;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The events waiting for the producer, in call order, and how they are cut into appends: one run's
 * consecutive events, at most {@link Limits#MAX_EVENTS_PER_APPEND} and {@link #APPEND_BUDGET} bytes;
 * consecutive deltas of one reply (text, or reasoning) merged into one event up to the delta size;
 * the events of one {@code appendAll} never split. Not thread-safe: the agent's lock guards it.
 */
final class ProducerQueue {
    /** Events of one append frame, in encoded bytes: well under the 128 KB message limit. */
    static final int APPEND_BUDGET = 100 * 1024;

    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final int maxDeltaBytes;

    ProducerQueue(int maxDeltaBytes) {
        this.maxDeltaBytes = maxDeltaBytes;
    }

    void add(Pending p) {
        queue.add(p);
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** The last event queued, or null. */
    Pending last() {
        return queue.peekLast();
    }

    /** The next append's events (removed from the queue); empty when nothing waits. */
    List<Pending> takeBatch() {
        List<Pending> batch = new ArrayList<>();
        if (queue.isEmpty()) return batch;
        String runId = queue.peek().runId;
        int bytes = 0;
        while (!queue.isEmpty()) {
            Pending next = queue.peek();
            if (!Objects.equals(next.runId, runId)) break;
            if (next.group != null) {
                List<Pending> group = group(next.group);
                int size = group.stream().mapToInt(Pending::size).sum();
                if (!batch.isEmpty()
                        && (batch.size() + group.size() > Limits.MAX_EVENTS_PER_APPEND || bytes + size > APPEND_BUDGET))
                    break;
                for (int i = 0; i < group.size(); i++) batch.add(queue.poll());
                bytes += size;
                continue;
            }
            int size = next.size();
            Pending prev = batch.isEmpty() ? null : batch.get(batch.size() - 1);
            if (prev != null && mergeable(prev, next)) {
                queue.poll();
                prev.data.put(
                        "text",
                        prev.data.path("text").asText() + next.data.path("text").asText());
                next.follow(prev);
                bytes += size;
                continue;
            }
            if (!batch.isEmpty() && (batch.size() >= Limits.MAX_EVENTS_PER_APPEND || bytes + size > APPEND_BUDGET))
                break;
            batch.add(queue.poll());
            bytes += size;
        }
        return batch;
    }

    private boolean mergeable(Pending prev, Pending next) {
        return prev.group == null
                && prev.isDelta()
                && next.type == prev.type
                && prev.messageId.equals(next.messageId)
                && JsonBytes.of(prev.data.path("text").asText())
                                + JsonBytes.of(next.data.path("text").asText())
                        <= maxDeltaBytes;
    }

    /** The queued events of a group, from the head of the queue (a group is queued as one run of events). */
    private List<Pending> group(Object group) {
        List<Pending> members = new ArrayList<>();
        for (Pending p : queue) {
            if (p.group != group) break;
            members.add(p);
        }
        return members;
    }

    /** Drops the queued events of a fenced run (its stop acknowledgement stays); their callers get false. */
    void dropRun(String runId) {
        queue.removeIf(p -> {
            if (runId.equals(p.runId) && !p.bypassFence) {
                p.done.complete(false);
                return true;
            }
            return false;
        });
    }

    /** Everything still queued, removed (the agent closes). */
    List<Pending> clear() {
        List<Pending> all = new ArrayList<>(queue);
        queue.clear();
        return all;
    }
}
