package io.durablesessions.local.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.ObjLongConsumer;

/**
 * The client rule of docs/protocol.md §7, thread-safe: keep {@code last}, drop seq ≤ last, apply
 * last+1, hold the rest in a buffer and report how long the oldest gap has been open so the owner
 * can re-subscribe with {@code afterSeq = last}.
 */
public final class ClientRule {
    private long last;
    private final TreeMap<Long, JsonNode> buffered = new TreeMap<>();
    private final List<String> applied;
    private long gapOpenSinceNanos = -1;
    private long duplicatesDropped;
    private long outOfOrderReceived;
    private long received;
    private long highestSeen;
    private final ObjLongConsumer<JsonNode> onApply;

    /**
     * @param keepApplied keep the applied events' JSON (for comparing with the stored log)
     * @param onApply called (under the lock) with each applied event and the time it was received
     */
    public ClientRule(long startAfter, boolean keepApplied, ObjLongConsumer<JsonNode> onApply) {
        this.last = startAfter;
        this.highestSeen = startAfter;
        this.applied = keepApplied ? new ArrayList<>() : null;
        this.onApply = onApply;
    }

    /** Offers every event of an {@code events} frame. */
    public synchronized void offerFrame(JsonNode frame, long receivedNanos) {
        for (JsonNode e : frame.path("events")) offer(e, receivedNanos);
    }

    public synchronized void offer(JsonNode event, long receivedNanos) {
        received++;
        long seq = event.get("seq").asLong();
        if (seq < highestSeen) outOfOrderReceived++;
        highestSeen = Math.max(highestSeen, seq);
        if (seq <= last || buffered.containsKey(seq)) {
            duplicatesDropped++;
            return;
        }
        buffered.put(seq, event);
        while (!buffered.isEmpty() && buffered.firstKey() == last + 1) {
            JsonNode e = buffered.pollFirstEntry().getValue();
            last++;
            if (applied != null) applied.add(Json.write(e));
            if (onApply != null) onApply.accept(e, receivedNanos);
        }
        if (buffered.isEmpty()) gapOpenSinceNanos = -1;
        else if (gapOpenSinceNanos < 0) gapOpenSinceNanos = System.nanoTime();
    }

    /** A snapshot (hydrate) moves {@code last} to its headSeq; buffered events above it are kept. */
    public synchronized void jumpTo(long headSeq) {
        if (headSeq <= last) return;
        last = headSeq;
        buffered.headMap(headSeq, true).clear();
        while (!buffered.isEmpty() && buffered.firstKey() == last + 1) {
            JsonNode e = buffered.pollFirstEntry().getValue();
            last++;
            if (applied != null) applied.add(Json.write(e));
            if (onApply != null) onApply.accept(e, System.nanoTime());
        }
        if (buffered.isEmpty()) gapOpenSinceNanos = -1;
    }

    public synchronized long last() {
        return last;
    }

    /** How long the oldest gap has been open, in ms; 0 when there is none. */
    public synchronized long gapOpenMillis() {
        return gapOpenSinceNanos < 0 ? 0 : (System.nanoTime() - gapOpenSinceNanos) / 1_000_000;
    }

    /** Restarts the gap clock (after a re-subscribe, give the catch-up time to arrive). */
    public synchronized void restartGapClock() {
        if (gapOpenSinceNanos >= 0) gapOpenSinceNanos = System.nanoTime();
    }

    public synchronized int bufferedCount() {
        return buffered.size();
    }

    public synchronized List<String> applied() {
        return applied == null ? List.of() : List.copyOf(applied);
    }

    public synchronized long duplicatesDropped() {
        return duplicatesDropped;
    }

    public synchronized long outOfOrderReceived() {
        return outOfOrderReceived;
    }

    public synchronized long received() {
        return received;
    }
}
