package io.durablesessions.client;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Hands an agent's control events to the work of the run they concern, so a stop or an interrupt
 * cancels a model's stream at once and a steer reaches it. Pass it to
 * {@link DurableAgent.Builder#onControl}; {@code next} (the application's own handler, if any) sees
 * every event afterwards, on the same SDK thread. The LangChain4j and Spring AI adapters take one.
 *
 * <pre>{@code
 * RunControls controls = new RunControls();
 * DurableAgent agent = DurableAgent.builder(url, sessionId, "writer-1").onControl(controls).connect();
 * }</pre>
 */
public final class RunControls implements Consumer<ControlEvent> {
    private final Consumer<ControlEvent> next;
    private final Map<String, List<Consumer<ControlEvent>>> byRun = new ConcurrentHashMap<>();

    public RunControls() {
        this(e -> {});
    }

    /** @param next the application's own handler, called after the listeners of the run */
    public RunControls(Consumer<ControlEvent> next) {
        this.next = Objects.requireNonNull(next);
    }

    /** A listener's registration; closing it removes the listener. */
    public interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /** Calls {@code listener} with each control event of {@code runId} until the returned watch is closed. */
    public Watch watch(String runId, Consumer<ControlEvent> listener) {
        Objects.requireNonNull(listener);
        byRun.computeIfAbsent(runId, k -> new CopyOnWriteArrayList<>()).add(listener);
        return () -> byRun.computeIfPresent(runId, (k, list) -> {
            list.remove(listener);
            return list.isEmpty() ? null : list;
        });
    }

    /**
     * Watches the run of {@code reply} for what ends the reply's stream: a cancel or another fence of
     * the run, or an interrupt of this reply (or of the run's current reply, when the interrupt names
     * none), call {@code stop}; a steer of the run passes its text to {@code onSteer}.
     */
    public Watch watchReply(DurableAgent.Reply reply, Runnable stop, Consumer<String> onSteer) {
        Objects.requireNonNull(stop);
        Objects.requireNonNull(onSteer);
        return watch(reply.run().runId(), e -> {
            switch (e.kind()) {
                case CANCEL:
                case FENCED:
                    stop.run();
                    break;
                case INTERRUPT:
                    if (e.messageId() == null || e.messageId().equals(reply.messageId())) stop.run();
                    break;
                case STEER:
                    onSteer.accept(e.text());
                    break;
                default:
                    break;
            }
        });
    }

    @Override
    public void accept(ControlEvent e) {
        List<Consumer<ControlEvent>> listeners = byRun.get(e.runId());
        if (listeners != null) {
            for (Consumer<ControlEvent> l : listeners) {
                try {
                    l.accept(e);
                } catch (RuntimeException ignored) {
                    // one listener's failure must not keep the event from the others or from next
                }
            }
        }
        next.accept(e);
    }
}
