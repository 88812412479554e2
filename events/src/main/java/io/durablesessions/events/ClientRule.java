package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The client rule of docs/protocol.md §7, without I/O: keep {@code last}, drop seq ≤ last, apply
 * last + 1, hold later events until the gap closes. The SDKs feed it every delivered event and
 * apply what {@link #drain()} returns; the browser client implements the same rule and is checked
 * against fixtures generated from this class ({@code fixtures/}). Not thread-safe.
 */
public final class ClientRule {
    private long last;
    private final TreeMap<Long, ObjectNode> buffer = new TreeMap<>();
    private long duplicates;
    private long highestSeen;
    private long outOfOrder;

    public ClientRule(long last) {
        this.last = last;
        this.highestSeen = last;
    }

    /** The highest seq applied. */
    public long last() {
        return last;
    }

    /** Moves {@code last} forward (a snapshot up to {@code headSeq} was applied); never back. */
    public void advanceTo(long headSeq) {
        last = Math.max(last, headSeq);
    }

    /** Holds a delivered event; false (and counted) if it is a duplicate of one applied or held. */
    public boolean hold(ObjectNode event) {
        long seq = event.get("seq").asLong();
        if (seq < highestSeen) outOfOrder++;
        highestSeen = Math.max(highestSeen, seq);
        if (seq <= last || buffer.containsKey(seq)) {
            duplicates++;
            return false;
        }
        buffer.put(seq, event);
        return true;
    }

    /** The held events that are now next in order, removed and with {@code last} advanced past them. */
    public List<ObjectNode> drain() {
        List<ObjectNode> ready = new ArrayList<>();
        drain(ready::add);
        return ready;
    }

    /**
     * Hands the held events that are now next in order to {@code apply}, one at a time; {@code last}
     * is the event's seq while {@code apply} runs.
     */
    public void drain(Consumer<ObjectNode> apply) {
        Map.Entry<Long, ObjectNode> first;
        while ((first = buffer.firstEntry()) != null && first.getKey() <= last + 1) {
            buffer.pollFirstEntry();
            if (first.getKey() <= last) {
                duplicates++; // held before a snapshot covered it
                continue;
            }
            last = first.getKey();
            apply.accept(first.getValue());
        }
    }

    /** {@link #hold} then {@link #drain}: what to apply now. */
    public List<ObjectNode> offer(ObjectNode event) {
        hold(event);
        return drain();
    }

    /** True while events wait behind a gap. */
    public boolean hasGap() {
        return !buffer.isEmpty();
    }

    /** Seqs held behind a gap, ascending. */
    public List<Long> held() {
        return List.copyOf(buffer.keySet());
    }

    /** Forgets what is held (a hydrate starts over from its snapshot). */
    public void clearHeld() {
        buffer.clear();
    }

    public long duplicates() {
        return duplicates;
    }

    /** Events delivered after a later one had been (a resume's catch-up overlapping live delivery, a retry): a diagnostic. */
    public long outOfOrder() {
        return outOfOrder;
    }
}
