package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.function.BiConsumer;

/** Small helpers over Jackson trees; request and response bodies are handled as trees. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    static String textOr(JsonNode node, String field, String dflt) {
        String v = text(node, field);
        return v == null ? dflt : v;
    }

    static String required(JsonNode node, String field) {
        String v = text(node, field);
        if (v == null) {
            throw ApiError.validation(
                    "1 validation error detected: Value null at '" + Character.toLowerCase(field.charAt(0))
                            + field.substring(1) + "' failed to satisfy constraint: Member must not be null");
        }
        return v;
    }

    static ObjectNode obj(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v instanceof ObjectNode o ? o : null;
    }

    static void forEachField(JsonNode node, BiConsumer<String, JsonNode> action) {
        if (node == null) return;
        for (Map.Entry<String, JsonNode> e : node.properties()) action.accept(e.getKey(), e.getValue());
    }
}
