package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.ClientMessage.ControlCommand;
import io.durablesessions.events.ClientMessage.Ping;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.ClientMessage.Subscribe;
import io.durablesessions.events.ClientMessage.Unsubscribe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Parses and validates client frames. Every refusal is a {@link ProtocolException} with a stable code. */
public final class ClientMessages {

    private ClientMessages() {}

    public static ClientMessage parse(String body) {
        if (body == null) throw new ProtocolException(ErrorCode.MALFORMED_JSON, "empty frame");
        if (body.length() > Limits.MAX_MESSAGE_BYTES
                || body.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_MESSAGE_BYTES) {
            throw new ProtocolException(
                    ErrorCode.MESSAGE_TOO_LARGE, "message exceeds " + Limits.MAX_MESSAGE_BYTES + " bytes");
        }
        ObjectNode obj = Json.parseObject(body);
        JsonNode action = obj.get("action");
        if (action == null || !action.isTextual()) {
            throw new ProtocolException(ErrorCode.UNKNOWN_ACTION, "field 'action' is required");
        }
        String requestId = Fields.optionalId(obj, "requestId");
        return switch (action.textValue()) {
            case "append" -> append(obj, requestId);
            case "subscribe" -> subscribe(obj, requestId);
            case "unsubscribe" -> new Unsubscribe(requestId, Fields.id(obj, "sessionId"));
            case "control" -> control(obj, requestId);
            case "ping" -> new Ping(requestId);
            case "heartbeat" ->
                new ClientMessage.Heartbeat(requestId, Fields.id(obj, "sessionId"), Fields.id(obj, "runId"));
            default ->
                throw new ProtocolException(
                        ErrorCode.UNKNOWN_ACTION, "unknown action '" + Json.truncate(action.textValue(), 64) + "'");
        };
    }

    /** The request id of a frame, if it can be read at all; used to address error frames. */
    public static String bestEffortRequestId(String body) {
        if (body == null || body.length() > Limits.MAX_MESSAGE_BYTES) return null;
        String id = Json.topLevelText(body, "requestId");
        return id != null && Fields.isValidId(id) ? id : null;
    }

    private static Append append(ObjectNode obj, String requestId) {
        String sessionId = Fields.id(obj, "sessionId");
        String runId = Fields.optionalId(obj, "runId");
        Producer producer = null;
        ObjectNode p = Fields.object(obj, "producer", false);
        if (p != null) {
            producer = new Producer(
                    Fields.id(p, "id"), safe(p, "producer.epoch", "epoch"), safe(p, "producer.seq", "seq"));
        }
        JsonNode events = obj.get("events");
        if (!(events instanceof ArrayNode array)) throw ProtocolException.invalid("events", "must be an array");
        if (array.isEmpty()) throw ProtocolException.invalid("events", "must hold at least one event");
        if (array.size() > Limits.MAX_EVENTS_PER_APPEND) {
            throw new ProtocolException(
                    ErrorCode.TOO_MANY_EVENTS,
                    "an append holds at most " + Limits.MAX_EVENTS_PER_APPEND + " events, got " + array.size(),
                    Json.object().put("limit", Limits.MAX_EVENTS_PER_APPEND));
        }
        List<EventInput> inputs = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) inputs.add(EventInput.parse(array.get(i), i, runId));
        return new Append(requestId, sessionId, runId, producer, inputs, TraceParent.optional(obj, "traceparent"));
    }

    private static long safe(ObjectNode obj, String name, String field) {
        try {
            return Fields.safeInteger(obj, field);
        } catch (ProtocolException e) {
            throw ProtocolException.invalid(
                    name, e.getMessage().substring(e.getMessage().indexOf(':') + 2));
        }
    }

    private static Subscribe subscribe(ObjectNode obj, String requestId) {
        String sessionId = Fields.id(obj, "sessionId");
        boolean hydrate = Fields.bool(obj, "hydrate");
        boolean controlOnly = Fields.bool(obj, "controlOnly");
        boolean hasAfter = obj.hasNonNull("afterSeq");
        if (hydrate && hasAfter) throw ProtocolException.invalid("afterSeq", "cannot be combined with hydrate");
        if (hydrate && controlOnly) throw ProtocolException.invalid("controlOnly", "cannot be combined with hydrate");
        // §3.2: one of the two, said explicitly; a missing afterSeq is not silently read as 0
        if (!hydrate && !hasAfter) throw ProtocolException.invalid("afterSeq", "is required unless hydrate is true");
        Long afterSeq = hydrate ? null : Fields.safeInteger(obj, "afterSeq");
        return new Subscribe(requestId, sessionId, afterSeq, hydrate, controlOnly);
    }

    private static Control control(ObjectNode obj, String requestId) {
        String sessionId = Fields.id(obj, "sessionId");
        String runId = Fields.id(obj, "runId");
        String command = Fields.text(obj, "command", 16);
        ControlCommand cmd = switch (command) {
            case "cancel" -> ControlCommand.CANCEL;
            case "interrupt" -> ControlCommand.INTERRUPT;
            case "steer" -> ControlCommand.STEER;
            default -> throw ProtocolException.invalid("command", "must be cancel, interrupt or steer");
        };
        String text = Fields.optionalText(obj, "text", Limits.MAX_STEER_TEXT);
        if (cmd == ControlCommand.STEER && (text == null || text.isBlank())) {
            throw ProtocolException.invalid("text", "is required for steer");
        }
        return new Control(requestId, sessionId, runId, cmd, text, Fields.optionalId(obj, "messageId"));
    }
}
