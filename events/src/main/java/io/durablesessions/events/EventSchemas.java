package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/** Per-type checks of an event's {@code data} (docs/protocol.md §4.1). */
final class EventSchemas {
    private static final Set<String> ROLES = Set.of("assistant", "user", "system");
    private static final Set<String> END_REASONS = Set.of("complete", "interrupted", "error");

    private EventSchemas() {}

    /**
     * The data fields each writable type may carry (docs/protocol.md §4.1). Anything else is refused,
     * so a writer can never smuggle a field the service owns (e.g. {@code stoppedAtSeq}) into the log.
     */
    private static final Map<EventType, Set<String>> FIELDS = fields();

    private static Map<EventType, Set<String>> fields() {
        Map<EventType, Set<String>> m = new EnumMap<>(EventType.class);
        m.put(EventType.MESSAGE_START, Set.of("messageId", "role"));
        m.put(EventType.TEXT_DELTA, Set.of("messageId", "text"));
        m.put(EventType.MESSAGE_END, Set.of("messageId", "reason"));
        m.put(EventType.TOOL_CALL, Set.of("toolCallId", "name", "arguments", "messageId", "dynamic"));
        m.put(EventType.TOOL_RESULT, Set.of("toolCallId", "result", "isError", "messageId"));
        m.put(EventType.REASONING_DELTA, Set.of("messageId", "text"));
        m.put(EventType.TOOL_INPUT_START, Set.of("toolCallId", "messageId", "name", "dynamic"));
        m.put(EventType.TOOL_INPUT_DELTA, Set.of("toolCallId", "messageId", "text"));
        m.put(EventType.MESSAGE_PART, Set.of("messageId", "part"));
        m.put(EventType.RUN_STARTED, Set.of("parentRunId"));
        m.put(EventType.RUN_COMPLETED, Set.of());
        m.put(EventType.RUN_FAILED, Set.of("reason"));
        m.put(EventType.RUN_STOP_ACKNOWLEDGED, Set.of());
        m.put(EventType.AGENT_JOINED, Set.of("label"));
        m.put(EventType.AGENT_LEFT, Set.of());
        m.put(EventType.CUSTOM, Set.of("name", "payload"));
        return m;
    }

    static void validate(EventType type, String runId, ObjectNode data, String where) {
        String d = where + ".data.";
        Set<String> allowed = FIELDS.getOrDefault(type, Set.of());
        for (var it = data.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw ProtocolException.invalid(
                        d + Json.truncate(f, 64), "is not a field of a " + type.wire() + " event");
            }
        }
        switch (type) {
            case MESSAGE_START -> {
                Fields.id(data, "messageId");
                String role = Fields.text(data, "role", 16);
                if (!ROLES.contains(role)) throw ProtocolException.invalid(d + "role", "must be one of " + ROLES);
            }
            case TEXT_DELTA -> {
                Fields.id(data, "messageId");
                requireString(data, "text", d);
            }
            case MESSAGE_END -> {
                Fields.id(data, "messageId");
                String reason = Fields.optionalText(data, "reason", 16);
                if (reason != null && !END_REASONS.contains(reason)) {
                    throw ProtocolException.invalid(d + "reason", "must be one of " + END_REASONS);
                }
            }
            case TOOL_CALL -> {
                Fields.id(data, "toolCallId");
                Fields.text(data, "name", Limits.MAX_NAME_LENGTH);
                Fields.optionalId(data, "messageId");
                optionalBoolean(data, "dynamic", d);
            }
            case TOOL_RESULT -> {
                Fields.id(data, "toolCallId");
                JsonNode err = data.get("isError");
                if (err != null && !err.isBoolean())
                    throw ProtocolException.invalid(d + "isError", "must be a boolean");
                Fields.optionalId(data, "messageId");
            }
            case REASONING_DELTA -> {
                Fields.id(data, "messageId");
                requireString(data, "text", d);
            }
            case TOOL_INPUT_START -> {
                Fields.id(data, "toolCallId");
                Fields.id(data, "messageId");
                Fields.text(data, "name", Limits.MAX_NAME_LENGTH);
                optionalBoolean(data, "dynamic", d);
            }
            case TOOL_INPUT_DELTA -> {
                Fields.id(data, "toolCallId");
                Fields.id(data, "messageId");
                requireString(data, "text", d);
            }
            case MESSAGE_PART -> {
                Fields.id(data, "messageId");
                JsonNode part = data.get("part");
                if (!(part instanceof ObjectNode p)) throw ProtocolException.invalid(d + "part", "must be an object");
                MessageParts.validate(p, d + "part.");
            }
            case RUN_STARTED -> {
                requireRun(runId, where);
                String parent = Fields.optionalId(data, "parentRunId");
                if (runId.equals(parent)) throw ProtocolException.invalid(d + "parentRunId", "must differ from runId");
            }
            case RUN_COMPLETED, RUN_STOP_ACKNOWLEDGED -> requireRun(runId, where);
            case RUN_FAILED -> {
                requireRun(runId, where);
                Fields.optionalText(data, "reason", Limits.MAX_REASON_LENGTH);
            }
            case AGENT_JOINED -> {
                try {
                    Fields.optionalLabel(data, "label");
                } catch (ProtocolException e) {
                    throw ProtocolException.invalid(d + "label", e.getMessage().substring("label: ".length()));
                }
            }
            case AGENT_LEFT -> {}
            case CUSTOM -> Fields.text(data, "name", Limits.MAX_NAME_LENGTH);
            case RUN_STOP_REQUESTED, RUN_STOPPED, RUN_INTERRUPTED, RUN_STEERED, PRESENCE_JOINED, PRESENCE_LEFT ->
                throw new IllegalStateException("service-only types are refused before validation");
        }
    }

    private static void requireString(ObjectNode data, String field, String prefix) {
        JsonNode v = data.get(field);
        if (v == null || !v.isTextual()) throw ProtocolException.invalid(prefix + field, "must be a string");
    }

    private static void optionalBoolean(ObjectNode data, String field, String prefix) {
        JsonNode v = data.get(field);
        if (v != null && !v.isNull() && !v.isBoolean())
            throw ProtocolException.invalid(prefix + field, "must be a boolean");
    }

    private static void requireRun(String runId, String where) {
        if (runId == null) throw ProtocolException.invalid(where + ".runId", "is required for run events");
    }
}
