package io.durablesessions.conformance;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON for what the kit receives: strict about duplicate keys and trailing data (a service that
 * sends either is wrong), generous about sizes (an HTTP snapshot may hold megabytes).
 */
final class Jsons {
    static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(64 * 1024 * 1024)
                            .maxNestingDepth(2000)
                            .build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Jsons() {}

    static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    static ArrayNode array() {
        return JsonNodeFactory.instance.arrayNode();
    }

    /** Parses one JSON value; throws {@link IllegalArgumentException} naming why it is not. */
    static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
    }

    /** The object a frame holds, or null when it is not one JSON object. */
    static ObjectNode parseObjectOrNull(String text) {
        try {
            return MAPPER.readTree(text) instanceof ObjectNode o ? o : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A short form for reports: at most {@code max} characters. */
    static String brief(JsonNode node, int max) {
        return brief(node == null ? "null" : write(node), max);
    }

    static String brief(String s, int max) {
        if (s == null) return "null";
        return s.length() <= max ? s : s.substring(0, max) + "… (" + s.length() + " chars)";
    }

    /**
     * The value at a dot path ({@code details.stoppedAtSeq}, {@code events.0.seq}); null when a
     * segment is missing.
     */
    static JsonNode at(JsonNode node, String path) {
        JsonNode cur = node;
        if (path.isEmpty()) return cur;
        for (String seg : path.split("\\.")) {
            if (cur == null) return null;
            if (cur.isArray() && seg.matches("\\d+")) cur = cur.get(Integer.parseInt(seg));
            else if (cur.isArray() && seg.equals("last")) cur = cur.isEmpty() ? null : cur.get(cur.size() - 1);
            else cur = cur.get(seg);
        }
        return cur == null || cur.isMissingNode() ? null : cur;
    }
}
