package io.durablesessions.events;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
    CUSTOM("custom", false),
    // message parts beyond plain text (docs/protocol.md §4.2): AI SDK UI message parity
    REASONING_DELTA("reasoning.delta", false),
    TOOL_INPUT_START("tool.input.start", false),
    TOOL_INPUT_DELTA("tool.input.delta", false),
    MESSAGE_PART("message.part", false);

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

    /**
     * Where a message or tool call is in its life (docs/protocol.md §6.3). ABSENT: never started;
     * INPUT: a tool call whose input streams; OPEN: taking events; CLOSED: ended.
     */
    public enum Phase {
        ABSENT,
        INPUT,
        OPEN,
        CLOSED
    }

    /** What an event does to a message or tool call it names: the phases it needs, the phase it leaves. */
    public enum Step {
        /** Starts it (its writer becomes its owner): {@code message.start}, {@code tool.call} without streamed input. */
        OPEN(Set.of(Phase.ABSENT), Phase.OPEN),
        /** Starts a tool call whose input streams: {@code tool.input.start}. */
        OPEN_INPUT(Set.of(Phase.ABSENT), Phase.INPUT),
        /** The next piece of a tool call's input: {@code tool.input.delta}. */
        INPUT(Set.of(Phase.INPUT), Phase.INPUT),
        /** {@code tool.call}: starts a tool call, or completes the input a {@code tool.input.start} opened. */
        CALL(Set.of(Phase.ABSENT, Phase.INPUT), Phase.OPEN),
        /** Adds to an open one. */
        CONTINUE(Set.of(Phase.OPEN), Phase.OPEN),
        /** Ends an open one, once. */
        CLOSE(Set.of(Phase.OPEN), Phase.CLOSED);

        private final Set<Phase> from;
        private final Phase to;

        Step(Set<Phase> from, Phase to) {
            this.from = from;
            this.to = to;
        }

        public Set<Phase> from() {
            return from;
        }

        public Phase to() {
            return to;
        }

        /** Why an entity in {@code current} cannot take this step: the message of its refusal. */
        public String whyNot(Phase current) {
            if (from.equals(Set.of(Phase.ABSENT))) return "was already started";
            switch (current) {
                case ABSENT:
                    return "was never started";
                case CLOSED:
                    return "has ended";
                case INPUT:
                    return "is still streaming its input: its tool.call comes first";
                default:
                    return this == CALL
                            ? "was already called"
                            : "has its complete input already (its tool.call was sent)";
            }
        }
    }

    /**
     * One message or tool call an event names: the data field with its id, what the event does to
     * it, and whether the field may be absent (then the event names no such entity).
     */
    public record Touch(String field, Step step, boolean optional) {}

    private static final String MESSAGE = "messageId";
    private static final String TOOL = "toolCallId";

    /** The messages and tool calls this event names, in the order they are checked; empty for others. */
    public List<Touch> touches() {
        switch (this) {
            case MESSAGE_START:
                return List.of(new Touch(MESSAGE, Step.OPEN, false));
            case TEXT_DELTA:
            case REASONING_DELTA:
            case MESSAGE_PART:
                return List.of(new Touch(MESSAGE, Step.CONTINUE, false));
            case MESSAGE_END:
                return List.of(new Touch(MESSAGE, Step.CLOSE, false));
            case TOOL_INPUT_START:
                return List.of(new Touch(TOOL, Step.OPEN_INPUT, false), new Touch(MESSAGE, Step.CONTINUE, false));
            case TOOL_INPUT_DELTA:
                return List.of(new Touch(TOOL, Step.INPUT, false), new Touch(MESSAGE, Step.CONTINUE, false));
            case TOOL_CALL:
                return List.of(new Touch(TOOL, Step.CALL, false), new Touch(MESSAGE, Step.CONTINUE, true));
            case TOOL_RESULT:
                return List.of(new Touch(TOOL, Step.CLOSE, false), new Touch(MESSAGE, Step.CONTINUE, true));
            default:
                return List.of();
        }
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
