package io.durablesessions.client;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.SessionState;
import java.util.List;

/** Helpers over a real local stack. */
final class Stacks {
    private Stacks() {}

    /** A started thread: what {@code Thread.ofVirtual().start} was, for the tests' run on Java 17. */
    static Thread startThread(Runnable r) {
        Thread t = new Thread(r, "test-stream");
        t.setDaemon(true);
        t.start();
        return t;
    }

    static String text(List<Event> log, String messageId) {
        StringBuilder sb = new StringBuilder();
        for (Event e : log) {
            if (e.type() == EventType.TEXT_DELTA && messageId.equals(e.dataText("messageId")))
                sb.append(e.dataText("text"));
        }
        return sb.toString();
    }

    static String text(SessionState state, String messageId) {
        for (SessionState.Item i : state.items()) {
            if (i instanceof SessionState.Message m && m.messageId().equals(messageId)) return m.text();
        }
        return null;
    }

    /**
     * Streams {@code count} tokens {@code "t<i> "} into the reply at {@code perSecond}, paced like a
     * model (never bursting to catch up); returns the text written, for comparing with the stored log.
     */
    static String streamTokens(DurableAgent.Reply reply, int count, int perSecond) {
        StringBuilder written = new StringBuilder();
        long interval = 1_000_000_000L / perSecond;
        long next = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long wait = next - System.nanoTime();
            if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
            next += interval;
            String token = "t" + i + " ";
            written.append(token);
            reply.delta(token);
        }
        return written.toString();
    }
}
