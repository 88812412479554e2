package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A W3C Trace Context {@code traceparent} (docs/protocol.md §3.1, [append.traceparent]):
 * {@code version-traceid-parentid-flags}, e.g. {@code 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01}.
 * Two hex digits of version (not {@code ff}), 32 of trace id, 16 of parent (span) id and two of flags,
 * lower case, joined by {@code -}; neither id all zeros. Exactly {@value Limits#TRACEPARENT_LENGTH}
 * characters: the fields a later version may add after the flags are not accepted, so what is stored
 * stays one fixed size.
 *
 * <p>The service stores the writer's value unchanged with every event of the append and delivers it in
 * the event envelope; its own spans (functions, OpenTelemetry) continue that trace.
 */
public record TraceParent(String value) {

    public TraceParent {
        if (!isValid(value))
            throw new IllegalArgumentException(
                    "not a W3C traceparent: " + (value == null ? null : Json.truncate(value, 64)));
    }

    /** The 32 hex digits of the trace id. */
    public String traceId() {
        return value.substring(3, 35);
    }

    /** The 16 hex digits of the caller's span id (W3C calls it parent-id). */
    public String parentId() {
        return value.substring(36, 52);
    }

    /** The two hex digits of the trace flags. */
    public String flags() {
        return value.substring(53, 55);
    }

    /** The {@code sampled} flag: the caller records this trace. */
    public boolean sampled() {
        return (Character.digit(value.charAt(54), 16) & 1) == 1;
    }

    @Override
    public String toString() {
        return value;
    }

    /** Whether {@code s} is a traceparent this protocol accepts (the class comment says which). */
    public static boolean isValid(String s) {
        if (s == null || s.length() != Limits.TRACEPARENT_LENGTH) return false;
        if (s.charAt(2) != '-' || s.charAt(35) != '-' || s.charAt(52) != '-') return false;
        for (int i = 0; i < s.length(); i++) {
            if (i == 2 || i == 35 || i == 52) continue;
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return false;
        }
        if (s.startsWith("ff")) return false; // the version W3C reserves as invalid
        return !allZeros(s, 3, 35) && !allZeros(s, 36, 52);
    }

    /** The traceparent, or null when {@code s} is null or not one this protocol accepts. */
    public static TraceParent parseOrNull(String s) {
        return isValid(s) ? new TraceParent(s) : null;
    }

    /**
     * The optional {@code field} of a frame: null when absent, else a valid traceparent, or
     * {@code INVALID_MESSAGE} naming the field.
     */
    public static TraceParent optional(ObjectNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ProtocolException.invalid(field, "must be a string");
        if (!isValid(v.textValue())) {
            throw ProtocolException.invalid(
                    field,
                    "must be a W3C traceparent: version-traceid-parentid-flags, "
                            + "2, 32, 16 and 2 lower-case hex digits, ids not all zeros (e.g. "
                            + "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01)");
        }
        return new TraceParent(v.textValue());
    }

    private static boolean allZeros(String s, int from, int to) {
        for (int i = from; i < to; i++) if (s.charAt(i) != '0') return false;
        return true;
    }
}
