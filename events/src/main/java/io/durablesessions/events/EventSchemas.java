package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/** Per-type checks of an event's {@code data} (docs/protocol.md §4.1). */
final class EventSchemas {
    private static final Set<String> ROLES = Set.of("assistant", "user", "system");
    private static final Set<String> END_REASONS = Set.of("complete", "interrupted", "error");
    private static final int MAX_NAME = 256;

    private EventSchemas() {}

    static void validate(EventType type, String runId, ObjectNode data, String where) {
        String d = where + ".data.";
        switch (type) {
            case MESSAGE_START -> {
                Ids.id(data, "messageId");
                String role = Ids.text(data, "role", 16);
                if (!ROLES.contains(role)) throw ProtocolException.invalid(d + "role", "must be one of " + ROLES);
            }
            case TEXT_DELTA -> {
                Ids.id(data, "messageId");
                JsonNode text = data.get("text");
                if (text == null || !text.isTextual()) throw ProtocolException.invalid(d + "text", "must be a string");
            }
            case MESSAGE_END -> {
                Ids.id(data, "messageId");
                String reason = Ids.optionalText(data, "reason", 16);
                if (reason != null && !END_REASONS.contains(reason)) {
                    throw ProtocolException.invalid(d + "reason", "must be one of " + END_REASONS);
                }
            }
            case TOOL_CALL -> {
                Ids.id(data, "toolCallId");
                Ids.text(data, "name", MAX_NAME);
            }
            case TOOL_RESULT -> {
                Ids.id(data, "toolCallId");
                JsonNode err = data.get("isError");
                if (err != null && !err.isBoolean()) throw ProtocolException.invalid(d + "isError", "must be a boolean");
            }
            case RUN_STARTED -> {
                requireRun(runId, where);
                String parent = Ids.optionalId(data, "parentRunId");
                if (runId.equals(parent)) throw ProtocolException.invalid(d + "parentRunId", "must differ from runId");
            }
            case RUN_COMPLETED, RUN_STOP_ACKNOWLEDGED -> requireRun(runId, where);
            case RUN_FAILED -> {
                requireRun(runId, where);
                Ids.optionalText(data, "reason", 1024);
            }
            case AGENT_JOINED -> Ids.optionalText(data, "label", MAX_NAME);
            case AGENT_LEFT -> { }
            case CUSTOM -> Ids.text(data, "name", MAX_NAME);
            case RUN_STOP_REQUESTED, RUN_STOPPED, RUN_INTERRUPTED, RUN_STEERED, PRESENCE_JOINED, PRESENCE_LEFT ->
                    throw new IllegalStateException("service-only types are refused before validation");
        }
    }

    private static void requireRun(String runId, String where) {
        if (runId == null) throw ProtocolException.invalid(where + ".runId", "is required for run events");
    }
}
