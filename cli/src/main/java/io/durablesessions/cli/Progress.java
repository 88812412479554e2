package io.durablesessions.cli;

import java.io.PrintWriter;

/**
 * Progress of a long read on stderr: nothing for the first two seconds (short reads stay quiet),
 * then a line every two seconds with the events so far, the seq reached and the rate.
 */
final class Progress {
    static final long EVERY_NANOS = 2_000_000_000L;

    private final PrintWriter err;
    private final String what;
    private final long headSeq;
    private final long everyNanos;
    private final long startNanos = System.nanoTime();
    private long lastNanos = startNanos;

    /** @param headSeq the session's head when the read began (0: unknown); {@code err} null: quiet */
    Progress(PrintWriter err, String what, long headSeq) {
        this(err, what, headSeq, EVERY_NANOS);
    }

    Progress(PrintWriter err, String what, long headSeq, long everyNanos) {
        this.err = err;
        this.what = what;
        this.headSeq = headSeq;
        this.everyNanos = everyNanos;
    }

    void update(long events, long seq) {
        long now = System.nanoTime();
        if (err == null || now - lastNanos < everyNanos) return;
        lastNanos = now;
        String of = headSeq > 0 ? " of " + headSeq + String.format(" (%d%%)", Math.min(100, seq * 100 / headSeq)) : "";
        err.printf("%s: %d events, seq %d%s, %.0f events/s%n", what, events, seq, of, events / seconds(now));
        err.flush();
    }

    double seconds() {
        return seconds(System.nanoTime());
    }

    private double seconds(long now) {
        return Math.max(1e-3, (now - startNanos) / 1e9);
    }
}
