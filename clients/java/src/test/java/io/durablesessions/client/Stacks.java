package io.durablesessions.client;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.SessionState;
import io.durablesessions.local.LocalStack;
import java.util.ArrayList;
import java.util.List;

/** Helpers over a real local stack. */
final class Stacks {
    private Stacks() {}

    static List<Event> storedLog(LocalStack stack, String session) {
        List<Event> all = new ArrayList<>();
        stack.services().sessions().forEachAfter(session, 0, e -> all.add(Event.fromJson(e.json())));
        return all;
    }

    static String text(List<Event> log, String messageId) {
        StringBuilder sb = new StringBuilder();
        for (Event e : log) {
            if (e.type() == EventType.TEXT_DELTA && messageId.equals(e.dataText("messageId"))) sb.append(e.dataText("text"));
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

    /** The {@code $connect} query of an agent: a development token of the local issuer. */
    static String agentQuery(String id) {
        return "token=" + LocalStack.devToken(id, "agent") + "&instance=" + id;
    }

    /** The {@code $connect} query of a user's tab. */
    static String clientQuery(String id, String instance) {
        return "token=" + LocalStack.devToken(id, "client") + "&instance=" + instance;
    }
}
