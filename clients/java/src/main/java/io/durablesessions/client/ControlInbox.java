package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The agent's runs and the control that reaches them. The transports deliver control at least once
 * and in seq order per run; here each event is obeyed once (deduplicated by seq), the owner's
 * callback for it runs once, on the callback executor in order, and only after it ran is the control
 * acknowledged to the transport (a repeat of handled control is acknowledged again: that
 * acknowledgement was lost). A fence — a stop, or a refused append — closes the run for writing
 * once, tells the owner once, and a requested stop is acknowledged ({@code run.stop_acknowledged}) once.
 *
 * <p>Thread-safe: every method holds {@code lock}, the agent's own, so the queue and the runs change together.
 */
final class ControlInbox {

    /** What the agent does when the inbox decides. Called holding the lock, except {@link #acknowledge}. */
    interface Actions {
        /** The run is fenced: drop its queued and held events. */
        void dropRun(String runId);

        /** The reply is fenced: drop its held text. */
        void dropMessage(String messageId);

        /** Queue the run's {@code run.stop_acknowledged}. */
        void acknowledgeStop(String runId);

        /** Tell the transport the run's control up to {@code seq} was handled (its callbacks ran). */
        void acknowledge(String runId, long seq);
    }

    private static final class Run {
        boolean fenced;
        boolean stopAcked;
        boolean notified;
        String currentReply;
        /** Control seen (dedup: control comes at least once) and handled (its callbacks ran). */
        long lastControlSeq;

        long handledControlSeq;
        /** An append of the run was stored since the last heartbeat tick: that is a sign of life too. */
        boolean wroteSinceTick;
        /** The state the agent's own run.completed / run.failed (handed to the producer) ends the run in, or null. */
        String ending;
    }

    private final Object lock;
    private final Consumer<ControlEvent> owner;
    private final Executor callbacks;
    private final Actions actions;
    private final Map<String, Run> runs = new HashMap<>();
    private final Set<String> fencedMessages = new HashSet<>();

    ControlInbox(Object lock, Consumer<ControlEvent> owner, Executor callbacks, Actions actions) {
        this.lock = lock;
        this.owner = owner;
        this.callbacks = callbacks;
        this.actions = actions;
    }

    /** A run of ours from now on; false if it was opened before. */
    boolean open(String runId) {
        synchronized (lock) {
            return runs.putIfAbsent(runId, new Run()) == null;
        }
    }

    boolean isOurs(String runId) {
        synchronized (lock) {
            return runs.containsKey(runId);
        }
    }

    /** True once the run is fenced, completed or failed; and for runs that are not ours. */
    boolean isClosed(String runId) {
        synchronized (lock) {
            Run r = runs.get(runId);
            return r == null || r.fenced;
        }
    }

    /** True once the run (of ours) is fenced, completed or failed. */
    boolean isFenced(String runId) {
        synchronized (lock) {
            Run r = runId == null ? null : runs.get(runId);
            return r != null && r.fenced;
        }
    }

    boolean isMessageFenced(String messageId) {
        synchronized (lock) {
            return messageId != null && fencedMessages.contains(messageId);
        }
    }

    /** Whether a queued event may still go: not of a fenced run (a run's start excepted) or a fenced reply. */
    boolean mayWrite(Pending p) {
        synchronized (lock) {
            if (p.bypassFence) return true;
            if (isFenced(p.runId) && p.type != EventType.RUN_STARTED) return false;
            return !isMessageFenced(p.messageId);
        }
    }

    void replyStarted(String runId, String messageId) {
        synchronized (lock) {
            Run r = runs.get(runId);
            if (r != null) r.currentReply = messageId;
        }
    }

    /**
     * The agent asked to end the run ({@code completed} or {@code failed}): a fence in that state (a heartbeat's
     * answer that overtook the end's own ack, say) is its own doing, nothing to tell.
     */
    void ending(String runId, String state) {
        synchronized (lock) {
            Run r = runs.get(runId);
            if (r != null) r.ending = state;
        }
    }

    /** The run was completed or failed by its agent: closed for writing, nothing to tell. */
    void ended(String runId) {
        synchronized (lock) {
            Run r = runs.get(runId);
            if (r != null) r.fenced = true;
        }
    }

    /** Replies the service refused as interrupted. */
    void fenceMessages(Collection<String> messageIds) {
        synchronized (lock) {
            for (String m : messageIds) {
                fencedMessages.add(m);
                actions.dropMessage(m);
            }
        }
    }

    /** An append of the run was stored. */
    void wrote(String runId) {
        synchronized (lock) {
            Run r = runId == null ? null : runs.get(runId);
            if (r != null) r.wroteSinceTick = true;
        }
    }

    /** The open runs that stored nothing since the last call: they need a heartbeat. */
    List<String> quietRuns() {
        List<String> quiet = new ArrayList<>();
        synchronized (lock) {
            runs.forEach((id, r) -> {
                if (r.fenced) return;
                if (r.wroteSinceTick) r.wroteSinceTick = false;
                else quiet.add(id);
            });
        }
        return quiet;
    }

    /** A control event from the transport: at least once, in seq order per run. */
    void deliver(JsonNode e) {
        long seq = e.path("seq").asLong();
        String type = e.path("type").asText();
        String runId = e.path("runId").asText(null);
        long handled;
        synchronized (lock) {
            Run r = runId == null ? null : runs.get(runId);
            if (r == null) return; // not one of ours
            if (seq <= r.lastControlSeq) {
                handled = r.handledControlSeq;
            } else {
                r.lastControlSeq = seq;
                handled = -1;
            }
        }
        if (handled >= 0) {
            // a repeat; if its callbacks ran already, the acknowledgement was lost or is on its way
            if (seq <= handled) actions.acknowledge(runId, handled);
            return;
        }
        Event event;
        try {
            event = Event.fromJson(Json.write(e));
        } catch (RuntimeException unknown) {
            event = null; // a type this SDK does not know: nothing to obey, still acknowledged
        }
        if (event != null) {
            switch (type) {
                case "run.stop_requested" -> fence(runId, "stop_requested", event.dataText("reason"), seq, event);
                case "run.stopped" -> fence(runId, "stopped", event.dataText("reason"), seq, event);
                case "run.interrupted" -> {
                    String m = event.dataText("messageId");
                    synchronized (lock) {
                        if (m == null) m = runs.get(runId).currentReply;
                        if (m != null) {
                            fencedMessages.add(m);
                            actions.dropMessage(m);
                        }
                    }
                    tell(new ControlEvent(ControlEvent.Kind.INTERRUPT, runId, m, null, seq, event));
                }
                case "run.steered" ->
                    tell(new ControlEvent(ControlEvent.Kind.STEER, runId, null, event.dataText("text"), seq, event));
                default -> {}
            }
        }
        // after the callbacks above (one thread, in order): acknowledged only once obeyed
        onCallbackThread(() -> {
            synchronized (lock) {
                Run r = runs.get(runId);
                r.handledControlSeq = Math.max(r.handledControlSeq, seq);
            }
            actions.acknowledge(runId, seq);
        });
    }

    /**
     * The run is fenced in state {@code state} (from control, a refused append or a heartbeat): closed for
     * writing, a requested stop acknowledged once, the owner told once (a later stop request still is).
     */
    void fence(String runId, String state, String reason, long seq, Event event) {
        boolean tell;
        synchronized (lock) {
            Run r = runs.get(runId);
            if (r == null) return;
            boolean wasOpen = !r.fenced;
            r.fenced = true;
            boolean ack = "stop_requested".equals(state) && !r.stopAcked;
            if (ack) r.stopAcked = true;
            boolean ours = r.ending != null && r.ending.equals(state);
            tell = !r.notified && (wasOpen || ack) && !ours;
            if (tell || ours) r.notified = true;
            actions.dropRun(runId);
            if (ack) actions.acknowledgeStop(runId);
        }
        if (tell) {
            boolean stop = "stop_requested".equals(state) || "stopped".equals(state);
            tell(new ControlEvent(
                    stop ? ControlEvent.Kind.CANCEL : ControlEvent.Kind.FENCED, runId, null, reason, seq, event));
        }
    }

    private void tell(ControlEvent e) {
        onCallbackThread(() -> owner.accept(e));
    }

    private void onCallbackThread(Runnable r) {
        try {
            callbacks.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException ignored) {
                    // the owner's handler must not break the SDK
                }
            });
        } catch (RejectedExecutionException closedAlready) {
            // closed: nobody is listening any more
        }
    }
}
