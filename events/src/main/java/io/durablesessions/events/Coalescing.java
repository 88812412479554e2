package io.durablesessions.events;

import java.time.Duration;

/**
 * How long an agent gathers streamed text before it appends it as one {@code text.delta}: the
 * default of every writer in this project (the Java SDK's {@code DurableAgent}, the demo agent, the
 * cost meter), so the figures in docs/benchmarks.md are those of the defaults.
 *
 * <p>Cost is per append, not per token (each append writes the head, the event, the producer and
 * the run rows, about 9 write units, and sends one frame per subscriber), so the window is the
 * lever. 150 ms gathers 15 tokens of a fast model (100 tokens/s): at least 10× fewer writes and
 * messages than one append per token, even counting a conversation's fixed costs, while adding at
 * most 150 ms (75 ms on average) before a token is sent — below the delay readers notice in
 * streamed text. Slower models gather fewer tokens per window (30 tokens/s: 4–5).
 */
public final class Coalescing {
    private Coalescing() {}

    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(150);
}
