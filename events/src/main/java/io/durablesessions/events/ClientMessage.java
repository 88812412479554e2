package io.durablesessions.events;

import java.util.List;

/** Client → server messages (docs/protocol.md §3), routed on {@code action}. */
public sealed interface ClientMessage {
    String requestId();

    /** Identifies an idempotent producer: (id, epoch, seq) per session. */
    record Producer(String id, long epoch, long seq) {}

    record Append(String requestId, String sessionId, String runId, Producer producer, List<EventInput> events)
            implements ClientMessage {
        public Append {
            events = List.copyOf(events);
        }
    }

    /** {@code afterSeq} is null exactly when {@code hydrate} is true. */
    record Subscribe(String requestId, String sessionId, Long afterSeq, boolean hydrate) implements ClientMessage {}

    record Unsubscribe(String requestId, String sessionId) implements ClientMessage {}

    record Control(String requestId, String sessionId, String runId, ControlCommand command, String text)
            implements ClientMessage {}

    record Ping(String requestId) implements ClientMessage {}

    enum ControlCommand {
        CANCEL, INTERRUPT, STEER;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
