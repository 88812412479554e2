package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The assembled state of a session up to {@code headSeq} (docs/protocol.md §8): what a new tab
 * needs instead of every delta. Built only by {@link Assembler}.
 */
public record SessionState(
        long headSeq, List<Item> items, List<RunView> runs, List<AgentView> agents, List<PresenceView> presence) {

    public SessionState {
        items = List.copyOf(items);
        runs = List.copyOf(runs);
        agents = List.copyOf(agents);
        presence = List.copyOf(presence);
    }

    public static final SessionState EMPTY = new SessionState(0, List.of(), List.of(), List.of(), List.of());

    /** Who is attached: one member per principal and client instance (tab, phone), however often it reconnects. */
    public record PresenceView(
            String memberId, String principal, String role, String label, String surface, long joinedSeq) {
        ObjectNode toNode() {
            return Json.object()
                    .put("memberId", memberId)
                    .put("principal", principal)
                    .put("role", role)
                    .put("label", label)
                    .put("surface", surface)
                    .put("joinedSeq", joinedSeq);
        }
    }

    /** An entry of the conversation, ordered by {@link #firstSeq()}. */
    public sealed interface Item {
        long firstSeq();

        long lastSeq();

        ObjectNode toNode();
    }

    /**
     * A message. {@code text} is all its text; a message with more than text (docs/protocol.md §4.2)
     * also has {@code reasoning} (all its reasoning text) and {@code parts}, its content in order:
     * {@code {"type":"text","length":n}} and {@code {"type":"reasoning","length":n}} take the next
     * n UTF-16 code units of {@code text} or {@code reasoning}, {@code {"type":"tool","toolCallId":…}}
     * stands for that tool call item, and any other entry is a part as written by {@code message.part}.
     * Both are null for a message of text only.
     */
    public record Message(
            String messageId,
            String role,
            String agentId,
            String runId,
            String text,
            String status,
            long firstSeq,
            long lastSeq,
            String reasoning,
            ArrayNode parts)
            implements Item {

        public Message(
                String messageId,
                String role,
                String agentId,
                String runId,
                String text,
                String status,
                long firstSeq,
                long lastSeq) {
            this(messageId, role, agentId, runId, text, status, firstSeq, lastSeq, null, null);
        }

        public ObjectNode toNode() {
            ObjectNode n = Json.object()
                    .put("kind", "message")
                    .put("messageId", messageId)
                    .put("role", role)
                    .put("agentId", agentId);
            if (runId != null) n.put("runId", runId);
            n.put("text", text).put("status", status).put("firstSeq", firstSeq).put("lastSeq", lastSeq);
            if (reasoning != null) n.put("reasoning", reasoning);
            if (parts != null) n.set("parts", parts.deepCopy());
            return n;
        }
    }

    /**
     * A tool call. {@code status} is {@code streaming} while its input streams ({@code tool.input.*},
     * {@code inputText} holds it so far), {@code pending} once called, {@code done} with a result.
     * {@code messageId} names the message it belongs to, when a writer said so.
     */
    public record ToolCall(
            String toolCallId,
            String name,
            JsonNode arguments,
            JsonNode result,
            boolean isError,
            String status,
            String agentId,
            String runId,
            long firstSeq,
            long lastSeq,
            String messageId,
            String inputText,
            boolean dynamic)
            implements Item {

        public ToolCall(
                String toolCallId,
                String name,
                JsonNode arguments,
                JsonNode result,
                boolean isError,
                String status,
                String agentId,
                String runId,
                long firstSeq,
                long lastSeq) {
            this(
                    toolCallId,
                    name,
                    arguments,
                    result,
                    isError,
                    status,
                    agentId,
                    runId,
                    firstSeq,
                    lastSeq,
                    null,
                    null,
                    false);
        }

        public ObjectNode toNode() {
            ObjectNode n = Json.object()
                    .put("kind", "tool_call")
                    .put("toolCallId", toolCallId)
                    .put("name", name);
            n.set("arguments", arguments);
            n.set("result", result);
            n.put("isError", isError).put("status", status).put("agentId", agentId);
            if (runId != null) n.put("runId", runId);
            n.put("firstSeq", firstSeq).put("lastSeq", lastSeq);
            if (messageId != null) n.put("messageId", messageId);
            if (inputText != null) n.put("inputText", inputText);
            if (dynamic) n.put("dynamic", true);
            return n;
        }
    }

    public record Custom(String name, JsonNode payload, String agentId, String runId, long firstSeq) implements Item {
        public long lastSeq() {
            return firstSeq;
        }

        public ObjectNode toNode() {
            ObjectNode n = Json.object().put("kind", "custom").put("name", name);
            n.set("payload", payload);
            n.put("agentId", agentId);
            if (runId != null) n.put("runId", runId);
            return n.put("firstSeq", firstSeq).put("lastSeq", firstSeq);
        }
    }

    public record RunView(
            String runId,
            String agentId,
            String parentRunId,
            RunState state,
            long startedSeq,
            long lastSeq,
            Long stoppedAtSeq) {
        ObjectNode toNode() {
            ObjectNode n = Json.object()
                    .put("runId", runId)
                    .put("agentId", agentId)
                    .put("parentRunId", parentRunId)
                    .put("state", state.wire())
                    .put("startedSeq", startedSeq)
                    .put("lastSeq", lastSeq);
            return n.put("stoppedAtSeq", stoppedAtSeq);
        }
    }

    public record AgentView(String agentId, String label, boolean present, long firstSeq, long lastSeq) {
        ObjectNode toNode() {
            return Json.object()
                    .put("agentId", agentId)
                    .put("label", label)
                    .put("present", present)
                    .put("firstSeq", firstSeq)
                    .put("lastSeq", lastSeq);
        }
    }

    public ObjectNode toNode() {
        ObjectNode n = Json.object().put("headSeq", headSeq);
        ArrayNode is = n.putArray("items");
        items.forEach(i -> is.add(i.toNode()));
        ArrayNode rs = n.putArray("runs");
        runs.forEach(r -> rs.add(r.toNode()));
        ArrayNode as = n.putArray("agents");
        agents.forEach(a -> as.add(a.toNode()));
        ArrayNode ps = n.putArray("presence");
        presence.forEach(p -> ps.add(p.toNode()));
        return n;
    }

    public String toJson() {
        return Json.write(toNode());
    }

    public static SessionState fromNode(JsonNode n) {
        List<Item> items = new ArrayList<>();
        for (JsonNode i : n.path("items")) items.add(itemFromNode(i));
        List<RunView> runs = new ArrayList<>();
        for (JsonNode r : n.path("runs")) {
            runs.add(new RunView(
                    r.path("runId").asText(),
                    r.path("agentId").asText(),
                    text(r, "parentRunId"),
                    RunState.fromWire(r.path("state").asText()),
                    r.path("startedSeq").asLong(),
                    r.path("lastSeq").asLong(),
                    r.hasNonNull("stoppedAtSeq") ? r.get("stoppedAtSeq").asLong() : null));
        }
        List<AgentView> agents = new ArrayList<>();
        for (JsonNode a : n.path("agents")) {
            agents.add(new AgentView(
                    a.path("agentId").asText(),
                    text(a, "label"),
                    a.path("present").asBoolean(),
                    a.path("firstSeq").asLong(),
                    a.path("lastSeq").asLong()));
        }
        List<PresenceView> presence = new ArrayList<>();
        for (JsonNode p : n.path("presence")) {
            presence.add(new PresenceView(
                    p.path("memberId").asText(),
                    p.path("principal").asText(),
                    p.path("role").asText(),
                    text(p, "label"),
                    text(p, "surface"),
                    p.path("joinedSeq").asLong()));
        }
        return new SessionState(n.path("headSeq").asLong(), items, runs, agents, presence);
    }

    public static Item itemFromNode(JsonNode i) {
        return switch (i.path("kind").asText()) {
            case "message" ->
                new Message(
                        i.path("messageId").asText(),
                        i.path("role").asText(),
                        i.path("agentId").asText(),
                        text(i, "runId"),
                        i.path("text").asText(),
                        i.path("status").asText(),
                        i.path("firstSeq").asLong(),
                        i.path("lastSeq").asLong(),
                        text(i, "reasoning"),
                        i.get("parts") instanceof ArrayNode p ? p.deepCopy() : null);
            case "tool_call" ->
                new ToolCall(
                        i.path("toolCallId").asText(),
                        i.path("name").asText(),
                        i.get("arguments"),
                        i.get("result"),
                        i.path("isError").asBoolean(),
                        i.path("status").asText(),
                        i.path("agentId").asText(),
                        text(i, "runId"),
                        i.path("firstSeq").asLong(),
                        i.path("lastSeq").asLong(),
                        text(i, "messageId"),
                        text(i, "inputText"),
                        i.path("dynamic").asBoolean(false));
            case "custom" ->
                new Custom(
                        i.path("name").asText(),
                        i.get("payload"),
                        i.path("agentId").asText(),
                        text(i, "runId"),
                        i.path("firstSeq").asLong());
            default -> throw new IllegalArgumentException("unknown item kind " + i.path("kind"));
        };
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }
}
