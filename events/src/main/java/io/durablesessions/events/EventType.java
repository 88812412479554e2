package io.durablesessions.events;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Event types of docs/protocol.md §4.1. {@code serviceOnly} types are refused in an append. */
public enum EventType {
    MESSAGE_START("message.start", false),
    TEXT_DELTA("text.delta", false),
    MESSAGE_END("message.end", false),
    TOOL_CALL("tool.call", false),
    TOOL_RESULT("tool.result", false),
    RUN_STARTED("run.started", false),
    RUN_COMPLETED("run.completed", false),
    RUN_FAILED("run.failed", false),
    RUN_STOP_REQUESTED("run.stop_requested", true),
    RUN_STOP_ACKNOWLEDGED("run.stop_acknowledged", false),
    RUN_STOPPED("run.stopped", true),
    RUN_INTERRUPTED("run.interrupted", true),
    RUN_STEERED("run.steered", true),
    AGENT_JOINED("agent.joined", false),
    AGENT_LEFT("agent.left", false),
    PRESENCE_JOINED("presence.joined", true),
    PRESENCE_LEFT("presence.left", true),
    CUSTOM("custom", false);

    private static final Map<String, EventType> BY_WIRE = new HashMap<>();

    static {
        for (EventType t : values()) BY_WIRE.put(t.wire, t);
    }

    private final String wire;
    private final boolean serviceOnly;

    EventType(String wire, boolean serviceOnly) {
        this.wire = wire;
        this.serviceOnly = serviceOnly;
    }

    public String wire() {
        return wire;
    }

    public boolean serviceOnly() {
        return serviceOnly;
    }

    /** Whether the event changes its run's state (and so needs the run row in the append). */
    public boolean isRunTransition() {
        return wire.startsWith("run.") && this != RUN_STEERED && this != RUN_INTERRUPTED;
    }

    /** Events an agent must obey: delivered to control-only subscriptions (docs/protocol.md §6). */
    public boolean isControl() {
        return this == RUN_STOP_REQUESTED || this == RUN_STOPPED || this == RUN_INTERRUPTED || this == RUN_STEERED;
    }

    public static Optional<EventType> fromWire(String wire) {
        return Optional.ofNullable(BY_WIRE.get(wire));
    }
}
