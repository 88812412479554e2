package io.durablesessions.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one JSON configuration of the protocol: strict parsing with bounded nesting and sizes. */
public final class Json {
    /** Envelope + data nesting; data itself is limited to {@link Limits#MAX_DATA_DEPTH}. */
    static final int MAX_PARSE_DEPTH = Limits.MAX_DATA_DEPTH + 4;

    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_PARSE_DEPTH)
                    .maxStringLength(Limits.MAX_MESSAGE_BYTES)
                    .maxNumberLength(40)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private Json() {}

    public static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    /** Parses a frame; anything that is not one JSON object is {@link ErrorCode#MALFORMED_JSON}. */
    public static ObjectNode parseObject(String text) {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            String reason = e.getOriginalMessage();
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "frame is not valid JSON: "
                    + (reason == null ? "parse error" : truncate(reason, 200)));
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "frame must be a JSON object");
        }
        return obj;
    }

    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize JSON tree", e);
        }
    }

    public static String quote(String s) {
        try {
            return MAPPER.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…";
    }

    static int depth(JsonNode node) {
        if (node == null || !node.isContainerNode()) return 0;
        int max = 0;
        for (JsonNode child : node) max = Math.max(max, depth(child));
        return max + 1;
    }

    /** Exposed for code that streams JSON by hand (e.g. frame builders). */
    public static JsonParser parser(String text) throws java.io.IOException {
        return MAPPER.createParser(text);
    }
}
