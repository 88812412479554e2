package io.durablesessions.events;

import java.util.List;
import java.util.Locale;

/** Client → server messages (docs/protocol.md §3), routed on {@code action}. */
public sealed interface ClientMessage {
    String requestId();

    /** Identifies an idempotent producer: (id, epoch, seq) per session. */
    record Producer(String id, long epoch, long seq) {}

    /** {@code traceparent}: the writer's W3C trace context (§3.1), stored with every event; null for none. */
    record Append(
            String requestId,
            String sessionId,
            String runId,
            Producer producer,
            List<EventInput> events,
            TraceParent traceparent)
            implements ClientMessage {
        public Append {
            events = List.copyOf(events);
        }

        public Append(String requestId, String sessionId, String runId, Producer producer, List<EventInput> events) {
            this(requestId, sessionId, runId, producer, events, null);
        }

        /** The same append carrying {@code tp} (the HTTP API's {@code traceparent} header). */
        public Append withTraceparent(TraceParent tp) {
            return new Append(requestId, sessionId, runId, producer, events, tp);
        }
    }

    /**
     * {@code afterSeq} is null exactly when {@code hydrate} is true. {@code controlOnly}: only the
     * events an agent must obey (stop, interrupt, steer), for an agent's own connection.
     */
    record Subscribe(String requestId, String sessionId, Long afterSeq, boolean hydrate, boolean controlOnly)
            implements ClientMessage {}

    /** An agent's "still alive" for a run; keeps the liveness sweeper from failing it. */
    record Heartbeat(String requestId, String sessionId, String runId) implements ClientMessage {}

    record Unsubscribe(String requestId, String sessionId) implements ClientMessage {}

    /** {@code messageId}: for interrupt, the reply to end (default: the run's current one). */
    record Control(
            String requestId, String sessionId, String runId, ControlCommand command, String text, String messageId)
            implements ClientMessage {}

    record Ping(String requestId) implements ClientMessage {}

    enum ControlCommand {
        CANCEL,
        INTERRUPT,
        STEER;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
