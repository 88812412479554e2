package io.durablesessions.client;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The producer seqs of the appends in flight (at most {@code maxInFlight}) and what became of each.
 * The service stores a producer's appends in seq order, holding one whose predecessors are still
 * travelling; so when one is settled without being stored (its run was fenced, say), the ones after
 * it cannot be stored either. Then nothing new is numbered until every seq in flight is answered,
 * and the ones refused behind it go again, in their order, under the seqs from the unstored one on
 * (from 0 when the service no longer knows the producer).
 *
 * <p>Not thread-safe: {@link DurableAgent} calls it holding its lock. {@code B} is a batch of events.
 */
final class ProducerPipeline<B> {
    /** What became of one producer seq. */
    enum Settled {
        /** Stored (or stored earlier: a duplicate). */
        STORED,
        /** Answered for good without being stored (fenced, dropped, failed, closed): the callers know. */
        NOT_STORED,
        /** Refused because an earlier seq was not stored: to be sent again under another seq. */
        RENUMBER,
        /**
         * Refused because the service holds nothing of this producer any more (the session was erased, and with
         * it the producer's state): to be sent again, the producer's seqs starting over at 0.
         */
        FORGOTTEN
    }

    private static final class Slot<B> {
        final B batch;
        Settled settled; // null while on its way

        Slot(B batch) {
            this.batch = batch;
        }
    }

    private final int maxInFlight;
    private final TreeMap<Long, Slot<B>> slots = new TreeMap<>();
    private final ArrayDeque<B> renumbered = new ArrayDeque<>();
    private long nextSeq;
    private long brokenAt = -1;
    private boolean forgotten;
    private long storedThrough = -1;

    ProducerPipeline(int maxInFlight) {
        if (maxInFlight < 1) throw new IllegalArgumentException("maxInFlight must be at least 1");
        this.maxInFlight = maxInFlight;
    }

    /** A new seq may be opened: no unstored seq waits for the rest to be answered, and there is room. */
    boolean hasRoom() {
        return brokenAt < 0 && slots.size() < maxInFlight;
    }

    /** The oldest batch to go again under a new seq, or null: it goes before anything new. */
    B takeRenumbered() {
        return renumbered.poll();
    }

    boolean hasRenumbered() {
        return !renumbered.isEmpty();
    }

    /** Nothing in flight and nothing waiting to go again. */
    boolean isIdle() {
        return slots.isEmpty() && renumbered.isEmpty();
    }

    /** Numbers {@code batch}: the seq it is sent under until settled. */
    long open(B batch) {
        long seq = nextSeq++;
        slots.put(seq, new Slot<>(batch));
        return seq;
    }

    /** The service answered {@code seq} for good (or it was given up). */
    void settle(long seq, Settled settled) {
        Slot<B> slot = slots.get(seq);
        if (slot != null) slot.settled = settled;
        if (settled == Settled.FORGOTTEN) forgotten = true;
        if (settled != Settled.STORED && (brokenAt < 0 || seq < brokenAt)) brokenAt = seq;
        // the bottom of the pipeline is stored: those seqs are done with
        while (!slots.isEmpty() && slots.firstEntry().getValue().settled == Settled.STORED)
            storedThrough = slots.pollFirstEntry().getKey();
        if (brokenAt >= 0 && slots.values().stream().allMatch(x -> x.settled != null)) {
            // all answered: the seqs from brokenAt on are free again, and what was refused behind the
            // unstored one goes again under them, in its order
            List<B> again = new ArrayList<>();
            for (Slot<B> x : slots.values())
                if (x.settled == Settled.RENUMBER || x.settled == Settled.FORGOTTEN) again.add(x.batch);
            for (int i = again.size() - 1; i >= 0; i--) renumbered.addFirst(again.get(i));
            nextSeq = forgotten ? 0 : brokenAt;
            storedThrough = nextSeq - 1;
            forgotten = false;
            slots.clear();
            brokenAt = -1;
        }
    }

    /** A seq below {@code seq} was settled unstored: the service cannot store {@code seq}. */
    boolean brokenBelow(long seq) {
        return brokenAt >= 0 && brokenAt < seq;
    }

    /** A seq below {@code seq} is still on its way. */
    boolean earlierInFlight(long seq) {
        for (Map.Entry<Long, Slot<B>> e : slots.headMap(seq).entrySet()) if (e.getValue().settled == null) return true;
        return false;
    }

    /** Every seq up to this one was acked as stored (-1: none yet, in this numbering). */
    long storedThrough() {
        return storedThrough;
    }
}
