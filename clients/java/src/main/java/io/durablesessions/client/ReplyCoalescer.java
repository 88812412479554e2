package io.durablesessions.client;

import io.durablesessions.events.EventType;
import io.durablesessions.events.JsonBytes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The streamed text of the replies, held for the coalescing window: a reply sends its text at most
 * once per {@code window}, as delta events of at most {@code maxDeltaBytes} each (JSON-escaped
 * UTF-8, cut between code points). Text that comes after a quiet {@code window} (the first text of
 * a reply, or the first after a tool call) goes at once, so a reply starts on screen without waiting
 * for a window; text that comes sooner waits until {@code window} after the reply's last send. So text
 * never waits longer than {@code window}, and a steady stream costs one append per window plus one.
 * A reply's text and reasoning keep the order they were written in: a change of kind sends what was
 * held first. A window of zero, or a held text of {@code maxDeltaBytes}, sends at once.
 *
 * <p>A reply's {@code message.start} is held too, and goes with the reply's first text (the leading
 * edge, at once), with whatever else is appended first, or a window after the reply started, whichever
 * comes first: a reply's start and its first words are one append, not two.
 *
 * <p>Not thread-safe: the agent's lock guards it. The end of a window comes through {@link Timer}:
 * the agent calls {@link #windowEnded} under its lock when the timer fires.
 */
final class ReplyCoalescer {

    /** Where the held events go, in order: a reply's {@code message.start} (with no text), then its deltas (one event each). */
    interface Sink {
        void send(String runId, String messageId, EventType type, String text);
    }

    /** Starts a window for a reply's held text; {@link #windowEnded} is to be called with both values after {@code window}. */
    interface Timer {
        void start(String messageId, long generation, Duration window);
    }

    private static final class Held {
        final String runId;
        final StringBuilder text = new StringBuilder();
        /** The reply's {@code message.start} is held with it. */
        boolean start;

        EventType type;
        int bytes;
        /** Which holding this is: a window started for an earlier one does not cut a later one short. */
        final long generation;

        Held(String runId, long generation) {
            this.runId = runId;
            this.generation = generation;
        }
    }

    private final Duration window;
    private final int maxDeltaBytes;
    private final Timer timer;
    private final Sink sink;
    private final Map<String, Held> held = new LinkedHashMap<>();
    /** When each reply last sent text (nanos), oldest first; only replies that sent within the last window. */
    private final LinkedHashMap<String, Long> lastSent = new LinkedHashMap<>();

    private final LongSupplier clock;
    private long holdings;

    ReplyCoalescer(Duration window, int maxDeltaBytes, LongSupplier clock, Timer timer, Sink sink) {
        this.window = window;
        this.maxDeltaBytes = maxDeltaBytes;
        this.clock = clock;
        this.timer = timer;
        this.sink = sink;
    }

    /** Holds the reply's {@code message.start}: it goes with the reply's first text, or a window from now. */
    void start(String runId, String messageId) {
        Held h = held.computeIfAbsent(messageId, m -> new Held(runId, ++holdings));
        h.start = true;
        if (window.isZero()) send(messageId, h);
        else timer.start(messageId, h.generation, window);
    }

    /** Adds text of {@code type} ({@code text.delta} or {@code reasoning.delta}) to the reply. */
    void add(String runId, String messageId, EventType type, String text) {
        if (text == null || text.isEmpty()) return;
        Held h = held.computeIfAbsent(messageId, m -> new Held(runId, ++holdings));
        if (h.text.length() > 0 && h.type != type) { // keep the order of kinds
            send(messageId, h);
            h = held.computeIfAbsent(messageId, m -> new Held(runId, ++holdings));
        }
        boolean first = h.text.length() == 0;
        h.type = type;
        h.text.append(text);
        h.bytes += JsonBytes.of(text);
        if (window.isZero() || h.bytes >= maxDeltaBytes) {
            send(messageId, h);
        } else if (first) {
            long now = clock.getAsLong();
            forgetQuietReplies(now);
            Long last = lastSent.get(messageId);
            if (last == null) send(messageId, h); // quiet for a window: the leading edge goes at once
            else timer.start(messageId, h.generation, Duration.ofNanos(last + window.toNanos() - now));
        }
    }

    /** A window ended: sends the reply's text if it is still the text the window was started for. */
    void windowEnded(String messageId, long generation) {
        Held h = held.get(messageId);
        if (h != null && h.generation == generation) send(messageId, h);
    }

    /** Sends every reply's held text (another event is appended: what was written before it goes first). */
    void flushAll() {
        for (Map.Entry<String, Held> e : new ArrayList<>(held.entrySet())) send(e.getKey(), e.getValue());
    }

    /** Forgets the held text of every reply of a fenced run. */
    void dropRun(String runId) {
        held.values().removeIf(h -> h.runId.equals(runId));
    }

    /** Forgets the held text of a fenced reply. */
    void dropMessage(String messageId) {
        held.remove(messageId);
        lastSent.remove(messageId);
    }

    /** Replies whose last send is a window old or older: their next text is a leading edge. */
    private void forgetQuietReplies(long now) {
        var oldest = lastSent.entrySet().iterator();
        while (oldest.hasNext() && now - oldest.next().getValue() >= window.toNanos()) oldest.remove();
    }

    /** True while the reply holds text not sent yet. */
    boolean holds(String messageId) {
        return held.containsKey(messageId);
    }

    private void send(String messageId, Held h) {
        held.remove(messageId);
        if (h.start) sink.send(h.runId, messageId, EventType.MESSAGE_START, "");
        if (h.text.length() == 0) return;
        lastSent.remove(messageId); // re-inserted last: the map stays in order of sending
        lastSent.put(messageId, clock.getAsLong());
        String all = h.text.toString();
        for (String piece : cut(all, maxDeltaBytes)) sink.send(h.runId, messageId, h.type, piece);
    }

    /** {@code text} in pieces of at most {@code budget} bytes each, never between the halves of a surrogate pair. */
    static List<String> cut(String text, int budget) {
        List<String> pieces = new ArrayList<>();
        int at = 0;
        while (at < text.length()) {
            int end = JsonBytes.fit(text, at, budget);
            if (end == at) end = JsonBytes.nextCodePoint(text, at);
            pieces.add(text.substring(at, end));
            at = end;
        }
        return pieces;
    }
}
