package io.durablesessions.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;

/** The one JSON configuration of the protocol: strict parsing with bounded nesting and sizes. */
public final class Json {
    /**
     * How deep a frame may nest before the parser gives up. Far above the data limit
     * ({@link Limits#MAX_DATA_DEPTH}), so a frame nested too deeply is answered like any other
     * invalid field ({@code INVALID_MESSAGE} with {@code details.field}) unless it is absurdly deep.
     */
    static final int MAX_PARSE_DEPTH = Limits.MAX_FRAME_DEPTH;
    /**
     * Strings in stored documents (assembled items, snapshots): a completed message may be far
     * longer than one frame, and stored text was validated on the way in, so only a sanity bound.
     */
    static final int MAX_STORED_STRING = 64 * 1024 * 1024;

    /** Client frames: strict, bounded by the message limit. */
    public static final ObjectMapper MAPPER = mapper(Limits.MAX_MESSAGE_BYTES);
    /** What the service stored itself (events, items, views): same strictness, no frame-sized string limit. */
    private static final ObjectMapper STORED = mapper(MAX_STORED_STRING);
    /** Only to find a request id in a frame that failed to parse: any depth, nothing kept. */
    private static final JsonFactory LENIENT = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(Integer.MAX_VALUE)
                    .maxStringLength(Limits.MAX_MESSAGE_BYTES)
                    .build())
            .build();

    private static ObjectMapper mapper(int maxString) {
        return new ObjectMapper(JsonFactory.builder()
                        .streamReadConstraints(StreamReadConstraints.builder()
                                .maxNestingDepth(MAX_PARSE_DEPTH)
                                .maxStringLength(maxString)
                                .maxNumberLength(40)
                                .build())
                        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                        .build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }

    private Json() {}

    public static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    /** Parses a frame; anything that is not one JSON object is {@link ErrorCode#MALFORMED_JSON}. */
    public static ObjectNode parseObject(String text) {
        return parse(MAPPER, text);
    }

    /**
     * Parses a JSON document the service stored itself (an event, an assembled item, a view):
     * as strict as a frame, but a string may exceed one frame (a long completed message).
     */
    public static ObjectNode parseStored(String text) {
        return parse(STORED, text);
    }

    private static ObjectNode parse(ObjectMapper mapper, String text) {
        JsonNode node;
        try {
            node = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "frame is not valid JSON: " + reason(e));
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "frame must be a JSON object");
        }
        return obj;
    }

    /** A fixed, short reason for a parse failure: never the parser's own message (it names its internals). */
    private static String reason(JsonProcessingException e) {
        if (e instanceof StreamConstraintsException) return "nesting, string or number beyond the protocol's limits";
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (m.startsWith("Duplicate field")) return "duplicate key";
        if (m.contains("Trailing token")) return "data after the JSON value";
        if (m.contains("end-of-input")) return "unexpected end of input";
        JsonLocation at = e.getLocation();
        return at == null ? "syntax error" : "syntax error at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /**
     * The top-level {@code requestId} string of a frame, read with a streaming parser that accepts
     * any nesting and keeps nothing, so even a frame refused for its depth or syntax (after the id)
     * can be answered to its request. Null when there is none.
     */
    public static String topLevelText(String text, String field) {
        try (JsonParser p = LENIENT.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (field.equals(name)) return v == JsonToken.VALUE_STRING ? p.getText() : null;
                p.skipChildren();
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Text that may hold JSON (a model's tool arguments, a tool's result, as chat frameworks hand them
     * over): the JSON value it holds, else the text as a JSON string (blank or null: an empty string).
     */
    public static JsonNode readOrText(String text) {
        if (text == null || text.isBlank()) return TextNode.valueOf(text == null ? "" : text);
        try {
            return MAPPER.readTree(text);
        } catch (IOException | RuntimeException notJson) {
            return TextNode.valueOf(text);
        }
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

    /** Whether any string or field name in the tree holds a lone UTF-16 surrogate (not valid Unicode text). */
    static String loneSurrogatePath(JsonNode node, String path) {
        if (node.isTextual()) return hasLoneSurrogate(node.textValue()) ? path : null;
        if (node.isObject()) {
            for (var e : node.properties()) {
                if (hasLoneSurrogate(e.getKey())) return path;
                String bad = loneSurrogatePath(e.getValue(), path + "." + e.getKey());
                if (bad != null) return bad;
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String bad = loneSurrogatePath(node.get(i), path + "[" + i + "]");
                if (bad != null) return bad;
            }
        }
        return null;
    }

    static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return true;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
