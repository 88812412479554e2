package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Partial JSON matching (conformance/README.md, "Matching"): every field the expectation names must
 * be there with a matching value, other fields are ignored; arrays match element by element and
 * must have the same length. Strings starting with {@code $} are matchers: {@code $any},
 * {@code $absent}, {@code $number}, {@code $string}, {@code $gt:N}, {@code $ge:N}, {@code $lt:N},
 * {@code $le:N}, {@code $ne:X}, {@code $notIn:X,Y,…}, {@code $startsWith:X}, {@code $contains:X}, {@code $length:N}.
 * An array whose first element is {@code $contains} matches when each later element matches some
 * element of the actual array.
 */
final class Match {
    private Match() {}

    /** Null when {@code actual} matches, else the first mismatch with its path. */
    static String mismatch(JsonNode expected, JsonNode actual) {
        return mismatch(expected, actual, "");
    }

    /** Whether it matches any of the alternatives. */
    static boolean matchesAny(List<JsonNode> alternatives, JsonNode actual) {
        for (JsonNode e : alternatives) if (mismatch(e, actual) == null) return true;
        return false;
    }

    static String mismatch(JsonNode expected, JsonNode actual, String path) {
        String where = path.isEmpty() ? "(root)" : path;
        if (expected == null || expected.isNull()) {
            return actual == null || actual.isNull()
                    ? null
                    : where + ": expected null, got " + Jsons.brief(actual, 120);
        }
        if (expected.isTextual()
                && expected.textValue().startsWith("$")
                && expected.textValue().length() > 1
                && !expected.textValue().startsWith("${")) {
            return matcher(expected.textValue(), actual, where);
        }
        if (actual == null) return where + ": missing, expected " + Jsons.brief(expected, 120);
        if (expected.isObject()) {
            if (!actual.isObject()) return where + ": expected an object, got " + Jsons.brief(actual, 120);
            for (Map.Entry<String, JsonNode> e : expected.properties()) {
                String m = mismatch(
                        e.getValue(), actual.get(e.getKey()), path.isEmpty() ? e.getKey() : path + "." + e.getKey());
                if (m != null) return m;
            }
            return null;
        }
        if (expected.isArray()) {
            if (!actual.isArray()) return where + ": expected an array, got " + Jsons.brief(actual, 120);
            if (!expected.isEmpty() && "$contains".equals(expected.get(0).asText(null))) {
                for (int i = 1; i < expected.size(); i++) {
                    boolean found = false;
                    for (JsonNode a : actual) if (mismatch(expected.get(i), a, "") == null) found = true;
                    if (!found) return where + ": no element matches " + Jsons.brief(expected.get(i), 160);
                }
                return null;
            }
            if (expected.size() != actual.size()) {
                return where + ": expected " + expected.size() + " elements, got " + actual.size() + ": "
                        + Jsons.brief(actual, 200);
            }
            for (int i = 0; i < expected.size(); i++) {
                String m = mismatch(expected.get(i), actual.get(i), path + "." + i);
                if (m != null) return m;
            }
            return null;
        }
        if (expected.isNumber()) {
            if (!actual.isNumber() || actual.decimalValue().compareTo(expected.decimalValue()) != 0) {
                return where + ": expected " + expected + ", got " + Jsons.brief(actual, 120);
            }
            return null;
        }
        return expected.equals(actual)
                ? null
                : where + ": expected " + Jsons.brief(expected, 120) + ", got " + Jsons.brief(actual, 120);
    }

    private static String matcher(String m, JsonNode actual, String where) {
        boolean present = actual != null && !actual.isNull();
        String name = m.contains(":") ? m.substring(0, m.indexOf(':')) : m;
        String arg = m.contains(":") ? m.substring(m.indexOf(':') + 1) : null;
        boolean ok = switch (name) {
            case "$any" -> present;
            case "$absent" -> !present;
            case "$number" -> present && actual.isNumber();
            case "$string" -> present && actual.isTextual();
            case "$gt" -> present && actual.isNumber() && actual.asDouble() > Double.parseDouble(arg);
            case "$ge" -> present && actual.isNumber() && actual.asDouble() >= Double.parseDouble(arg);
            case "$lt" -> present && actual.isNumber() && actual.asDouble() < Double.parseDouble(arg);
            case "$le" -> present && actual.isNumber() && actual.asDouble() <= Double.parseDouble(arg);
            case "$ne" -> !present || !actual.asText().equals(arg);
            case "$notIn" -> !present || !Arrays.asList(arg.split(",")).contains(actual.asText());
            case "$startsWith" ->
                present && actual.isTextual() && actual.textValue().startsWith(arg);
            case "$contains" ->
                present && actual.isTextual() && actual.textValue().contains(arg);
            case "$length" ->
                present && (actual.isTextual() ? actual.textValue().length() : actual.size()) == Integer.parseInt(arg);
            default -> throw new CaseFailure("unknown matcher " + m + " at " + where);
        };
        return ok
                ? null
                : where + ": expected " + m + ", got " + (actual == null ? "nothing" : Jsons.brief(actual, 120));
    }
}
