package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Field readers that turn wrong input into {@link ErrorCode#INVALID_MESSAGE} with the field name. */
public final class Fields {
    private Fields() {}

    public static boolean isValidId(String s) {
        if (s == null || s.isEmpty() || s.length() > Limits.MAX_ID_LENGTH) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == ':'
                    || c == '-';
            if (!ok) return false;
        }
        return true;
    }

    /**
     * A display label others will see (presence, agent list): 1–64 letters, digits, spaces and
     * {@code . _ : - ( ) '}. No control or format characters, so no bidi overrides, zero-width
     * joiners or line breaks can disguise who is who.
     */
    public static boolean isSafeLabel(String s) {
        if (s == null || s.isEmpty() || s.length() > Limits.MAX_LABEL_LENGTH || s.isBlank()) return false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean ok = Character.isLetterOrDigit(cp) || " ._:-()'".indexOf(cp) >= 0;
            if (!ok) return false;
            i += Character.charCount(cp);
        }
        return true;
    }

    public static String optionalLabel(ObjectNode obj, String field) {
        String v = optionalText(obj, field, Limits.MAX_LABEL_LENGTH);
        if (v != null && !isSafeLabel(v)) {
            throw ProtocolException.invalid(
                    field, "must be 1-" + Limits.MAX_LABEL_LENGTH + " letters, digits, spaces or . _ : - ( ) '");
        }
        return v;
    }

    public static String requireId(String field, String value) {
        if (!isValidId(value)) {
            throw ProtocolException.invalid(
                    field, "must be 1-" + Limits.MAX_ID_LENGTH + " characters of A-Z a-z 0-9 . _ : -");
        }
        return value;
    }

    public static String id(ObjectNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) throw ProtocolException.invalid(field, "is required");
        if (!v.isTextual()) throw ProtocolException.invalid(field, "must be a string");
        return requireId(field, v.textValue());
    }

    public static String optionalId(ObjectNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ProtocolException.invalid(field, "must be a string");
        return requireId(field, v.textValue());
    }

    public static String optionalText(ObjectNode obj, String field, int maxLength) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ProtocolException.invalid(field, "must be a string");
        if (v.textValue().length() > maxLength) {
            throw ProtocolException.invalid(field, "must be at most " + maxLength + " characters");
        }
        return v.textValue();
    }

    public static String text(ObjectNode obj, String field, int maxLength) {
        String s = optionalText(obj, field, maxLength);
        if (s == null) throw ProtocolException.invalid(field, "is required");
        return s;
    }

    /** A non-negative integer that is safe in JavaScript; floats, strings and overflows refused. */
    public static long safeInteger(ObjectNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) throw ProtocolException.invalid(field, "is required");
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ProtocolException.invalid(field, "must be an integer");
        }
        long n = v.longValue();
        if (n < 0 || n > Limits.MAX_SAFE_INTEGER) {
            throw ProtocolException.invalid(field, "must be between 0 and " + Limits.MAX_SAFE_INTEGER);
        }
        return n;
    }

    public static ObjectNode object(ObjectNode obj, String field, boolean required) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            if (required) throw ProtocolException.invalid(field, "is required");
            return null;
        }
        if (!(v instanceof ObjectNode o)) throw ProtocolException.invalid(field, "must be an object");
        return o;
    }

    public static boolean bool(ObjectNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ProtocolException.invalid(field, "must be true or false");
        return v.booleanValue();
    }
}
