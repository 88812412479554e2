package io.durablesessions.local.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A small stand-in for the agent SDK's streaming writer: tokens come from a model at a fixed rate;
 * the agent gathers them for at most {@code window} (counted from the first token waiting) and
 * sends them as ONE {@code text.delta} per window. A window of zero is the naive baseline: one
 * append per token. The run/message start events ride on the first append and the end events on
 * the last, in both modes.
 *
 * <p>Each token is {@code "t<i> "} so a subscriber can tell which tokens an event carries.
 */
public final class CoalescingAgent {
    private final ProducerWriter writer;
    private final Duration window;

    /** When each token was generated and sent (System.nanoTime), and how many appends it took. */
    public record Result(long[] generatedNanos, long[] sentNanos, long[] windowClosedNanos, int appends,
                         long startNanos, long endNanos, org.HdrHistogram.Histogram ackMicros) {}

    public CoalescingAgent(ProducerWriter writer, Duration window) {
        this.writer = writer;
        this.window = window;
    }

    public Result streamReply(String runId, String messageId, int tokens, int tokensPerSecond) {
        long[] generated = new long[tokens];
        long[] sent = new long[tokens];
        long[] windowClosed = new long[tokens];
        org.HdrHistogram.Histogram ack = new org.HdrHistogram.Histogram(3_600_000_000L, 3);
        LinkedBlockingQueue<Integer> model = new LinkedBlockingQueue<>();
        long interval = 1_000_000_000L / tokensPerSecond;
        long start = System.nanoTime();
        Thread generator = Thread.ofPlatform().daemon().name("model").start(() -> {
            for (int i = 0; i < tokens; i++) {
                long due = start + i * interval;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
                generated[i] = System.nanoTime();
                model.add(i);
            }
        });
        int taken = 0;
        int appends = 0;
        boolean started = false;
        List<Integer> buffer = new ArrayList<>();
        long deadline = Long.MAX_VALUE;
        try {
            while (taken < tokens || !buffer.isEmpty()) {
                if (buffer.isEmpty()) {
                    int t = model.take();
                    taken++;
                    buffer.add(t);
                    deadline = generated[t] + window.toNanos();
                }
                long now = System.nanoTime();
                if (taken < tokens && now < deadline) {
                    Integer t = model.poll(deadline - now, TimeUnit.NANOSECONDS);
                    if (t != null) {
                        taken++;
                        buffer.add(t);
                    }
                    if (System.nanoTime() < deadline && taken < tokens) continue;
                }
                // flush: the window is over, or the model is done; tokens already generated go along
                // (if the agent fell behind, holding them back would only add delay)
                // (the naive baseline, window zero, stays strictly one append per token)
                if (!window.isZero()) {
                    List<Integer> ready = new ArrayList<>();
                    model.drainTo(ready);
                    taken += ready.size();
                    buffer.addAll(ready);
                }
                List<ObjectNode> events = new ArrayList<>();
                if (!started) {
                    events.add(ProducerWriter.event("run.started", Json.object()));
                    events.add(ProducerWriter.event("message.start", Json.object().put("messageId", messageId)
                            .put("role", "assistant")));
                    started = true;
                }
                StringBuilder text = new StringBuilder();
                for (int t : buffer) text.append('t').append(t).append(' ');
                events.add(ProducerWriter.delta(messageId, text.toString()));
                boolean last = taken == tokens;
                if (last) {
                    events.add(ProducerWriter.event("message.end", Json.object().put("messageId", messageId)
                            .put("reason", "complete")));
                    events.add(ProducerWriter.event("run.completed", Json.object()));
                }
                long sentAt = System.nanoTime();
                // the window of this batch closed at its first token + window (or when the model ended)
                long closed = Math.min(sentAt, generated[buffer.get(0)] + window.toNanos());
                for (int t : buffer) {
                    sent[t] = sentAt;
                    windowClosed[t] = Math.max(closed, generated[t]);
                }
                buffer.clear();
                deadline = Long.MAX_VALUE;
                writer.append(runId, events);
                ack.recordValue((System.nanoTime() - sentAt) / 1000);
                appends++;
            }
            generator.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new Result(generated, sent, windowClosed, appends, start, System.nanoTime(), ack);
    }

    /** The token indices in a delta text written by {@link #streamReply}. */
    public static int[] tokensOf(String text) {
        String[] parts = text.trim().split(" ");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Integer.parseInt(parts[i].substring(1));
        return out;
    }
}
