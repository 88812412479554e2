package io.durablesessions.events;

import java.time.Duration;

/**
 * How often an agent appends a reply's streamed text: the default of every writer in this project
 * (the Java SDK's {@code DurableAgent}, the TypeScript agent, the demo agent, the cost meter), so the
 * figures in docs/benchmarks.md are those of the defaults.
 *
 * <p>A reply appends its text at most once per window. Text that comes after a quiet window (the
 * first text of a reply, the first after a tool call) is sent at once, so a reply starts on screen in
 * the transport's time, not the window's; text that comes sooner waits until a window after the
 * reply's last append. A steady stream therefore costs one append per window plus one, and no text
 * waits longer than the window.
 *
 * <p>Cost is per append, not per token (each append writes the head, the event, the run row and a
 * delivery mark, about 7 write units, and sends one frame per subscriber and an ack), so the window
 * is the lever, and it bounds what coalescing can save: at 100 tokens/s a window of w ms holds
 * w / 10 tokens, and a reply costs at most that many times less than one append per token. 300 ms
 * holds 30 tokens of a fast model (100 tokens/s), enough for 20× less than one append per token
 * with a conversation's fixed costs counted (150 ms: 15 tokens, at most 15×; docs/benchmarks.md
 * prices each window), while text after the first waits 150 ms on average. An agent that wants
 * smoother text sets a shorter window and pays per append.
 */
public final class Coalescing {
    private Coalescing() {}

    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(300);
}
