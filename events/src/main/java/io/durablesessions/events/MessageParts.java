package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * The parts a {@code message.part} event may add to a message (docs/protocol.md §4.2): the
 * self-contained parts of an AI SDK UI message. Text, reasoning and tool calls have their own
 * (streamed) events, so their part types are not accepted here; the assembled message uses
 * {@code text}, {@code reasoning} and {@code tool} entries for them (see {@link SessionState.Message}).
 */
public final class MessageParts {
    public static final String STEP_START = "step-start";
    public static final String SOURCE_URL = "source-url";
    public static final String SOURCE_DOCUMENT = "source-document";
    public static final String FILE = "file";
    public static final String REASONING_FILE = "reasoning-file";
    public static final String DATA_PREFIX = "data-";
    /** Entries of an assembled message that stand for streamed content, never written as a part. */
    static final String TEXT = "text";

    static final String REASONING = "reasoning";
    static final String TOOL = "tool";

    private static final Set<String> FIXED = Set.of(STEP_START, SOURCE_URL, SOURCE_DOCUMENT, FILE, REASONING_FILE);
    private static final int MAX_LABEL = 1024;
    private static final int MAX_URL = 8192;
    private static final int MAX_MEDIA_TYPE = 256;

    private MessageParts() {}

    /** Whether a data part with an {@code id} replaces the earlier part of the same type and id. */
    static boolean isDataPart(String type) {
        return type != null && type.startsWith(DATA_PREFIX);
    }

    static void validate(ObjectNode part, String prefix) {
        JsonNode t = part.get("type");
        if (t == null || !t.isTextual()) throw ProtocolException.invalid(prefix + "type", "must be a string");
        String type = t.textValue();
        if (isDataPart(type)) {
            if (!Fields.isValidId(type.substring(DATA_PREFIX.length()))) {
                throw ProtocolException.invalid(
                        prefix + "type",
                        "data part names are 1-" + Limits.MAX_ID_LENGTH
                                + " characters of A-Z a-z 0-9 . _ : - after 'data-'");
            }
            text(part, "id", MAX_LABEL, false, prefix);
            if (!part.has("data")) throw ProtocolException.invalid(prefix + "data", "is required");
            return;
        }
        if (!FIXED.contains(type)) {
            throw ProtocolException.invalid(
                    prefix + "type", "must be one of " + FIXED.stream().sorted().toList() + " or data-<name>");
        }
        switch (type) {
            case SOURCE_URL -> {
                text(part, "sourceId", MAX_LABEL, true, prefix);
                text(part, "url", MAX_URL, true, prefix);
                text(part, "title", MAX_LABEL, false, prefix);
            }
            case SOURCE_DOCUMENT -> {
                text(part, "sourceId", MAX_LABEL, true, prefix);
                text(part, "mediaType", MAX_MEDIA_TYPE, true, prefix);
                text(part, "title", MAX_LABEL, true, prefix);
                text(part, "filename", MAX_LABEL, false, prefix);
            }
            case FILE, REASONING_FILE -> {
                text(part, "mediaType", MAX_MEDIA_TYPE, true, prefix);
                // a data: URL may be long; the event size limit bounds it
                text(part, "url", Integer.MAX_VALUE, true, prefix);
                text(part, "filename", MAX_LABEL, false, prefix);
            }
            default -> {} // step-start: nothing else
        }
    }

    private static void text(ObjectNode part, String field, int max, boolean required, String prefix) {
        JsonNode v = part.get(field);
        if (v == null || v.isNull()) {
            if (required) throw ProtocolException.invalid(prefix + field, "is required");
            return;
        }
        if (!v.isTextual()) throw ProtocolException.invalid(prefix + field, "must be a string");
        if (v.textValue().length() > max)
            throw ProtocolException.invalid(prefix + field, "must be at most " + max + " characters");
    }
}
