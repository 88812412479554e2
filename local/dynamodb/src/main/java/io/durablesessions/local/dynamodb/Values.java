package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Attribute values are kept in their wire form ({@code {"S":"x"}}, {@code {"N":"1"}}, ...) as
 * Jackson trees. Stored values are never mutated; numbers are normalised on the way in so that
 * structural equality is DynamoDB equality (except for sets, which are unordered).
 */
final class Values {
    private Values() {}

    static final BigDecimal MAX_MAGNITUDE = new BigDecimal("9.9999999999999999999999999999999999999E+125");
    static final BigDecimal MIN_MAGNITUDE = new BigDecimal("1E-130");

    static String type(JsonNode av) {
        Iterator<String> it = av.fieldNames();
        return it.hasNext() ? it.next() : null;
    }

    static boolean isSet(String type) {
        return "SS".equals(type) || "NS".equals(type) || "BS".equals(type);
    }

    static JsonNode s(String v) {
        return Json.object().put("S", v);
    }

    static JsonNode n(BigDecimal v) {
        return Json.object().put("N", v.stripTrailingZeros().toPlainString());
    }

    static BigDecimal number(JsonNode av) {
        return new BigDecimal(av.get("N").asText());
    }

    static byte[] bytes(JsonNode av, String field) {
        return Base64.getDecoder().decode(av.get(field).asText());
    }

    // ---------------------------------------------------------------- validation / normalisation

    /** Validates an item from a request and returns a normalised deep copy. */
    static ObjectNode validItem(JsonNode item) {
        if (!(item instanceof ObjectNode obj)) throw ApiError.validation("Item must be a map of attribute values");
        ObjectNode out = Json.object();
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            if (e.getKey().isEmpty())
                throw ApiError.validation(
                        "One or more parameter values are not valid. Attribute names cannot be empty");
            out.set(e.getKey(), valid(e.getValue()));
        }
        return out;
    }

    /** Validates one attribute value and returns a normalised copy. */
    static JsonNode valid(JsonNode av) {
        if (!(av instanceof ObjectNode obj) || obj.size() != 1) {
            throw ApiError.validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
        }
        String type = type(av);
        JsonNode v = av.get(type);
        ObjectNode out = Json.object();
        switch (type) {
            case "S" -> out.put("S", requireText(v, type));
            case "N" -> out.put("N", normaliseNumber(requireText(v, type)));
            case "B" -> {
                decodeBinary(requireText(v, type));
                out.put("B", v.asText());
            }
            case "BOOL" -> {
                if (!v.isBoolean()) throw ApiError.validation("BOOL attribute value must be a boolean");
                out.put("BOOL", v.asBoolean());
            }
            case "NULL" -> {
                if (!v.asBoolean())
                    throw ApiError.validation(
                            "One or more parameter values were invalid: Null attribute value types must have the value of true");
                out.put("NULL", true);
            }
            case "SS", "NS", "BS" -> {
                if (!v.isArray() || v.isEmpty()) {
                    String name = switch (type) {
                        case "SS" -> "string";
                        case "NS" -> "number";
                        default -> "binary";
                    };
                    throw ApiError.validation(
                            "One or more parameter values were invalid: An " + name + " set  may not be empty");
                }
                ArrayNode arr = out.putArray(type);
                Set<String> seen = new HashSet<>();
                for (JsonNode el : v) {
                    String t = requireText(el, type);
                    if (type.equals("NS")) t = normaliseNumber(t);
                    if (type.equals("BS")) t = Base64.getEncoder().encodeToString(decodeBinary(t));
                    if (!seen.add(t))
                        throw ApiError.validation("One or more parameter values were invalid: Input collection " + v
                                + " contains duplicates.");
                    arr.add(t);
                }
            }
            case "L" -> {
                if (!v.isArray()) throw ApiError.validation("L attribute value must be a list");
                ArrayNode arr = out.putArray("L");
                for (JsonNode el : v) arr.add(valid(el));
            }
            case "M" -> {
                if (!v.isObject()) throw ApiError.validation("M attribute value must be a map");
                ObjectNode m = out.putObject("M");
                for (Map.Entry<String, JsonNode> e : v.properties()) m.set(e.getKey(), valid(e.getValue()));
            }
            default ->
                throw ApiError.validation(
                        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        }
        return out;
    }

    private static String requireText(JsonNode v, String type) {
        if (v == null || !v.isTextual()) throw ApiError.validation("Invalid value for attribute value type " + type);
        return v.asText();
    }

    private static byte[] decodeBinary(String b64) {
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw ApiError.validation("Invalid binary attribute value: not base64");
        }
    }

    static String normaliseNumber(String text) {
        BigDecimal d;
        try {
            d = new BigDecimal(text.trim());
        } catch (NumberFormatException e) {
            throw ApiError.validation("A value provided cannot be converted into a number");
        }
        return checkNumber(d).stripTrailingZeros().toPlainString();
    }

    static BigDecimal checkNumber(BigDecimal d) {
        BigDecimal stripped = d.stripTrailingZeros();
        if (stripped.signum() == 0) return BigDecimal.ZERO;
        if (stripped.precision() > 38)
            throw ApiError.validation("Attempting to store more than 38 significant digits in a Number");
        BigDecimal abs = stripped.abs();
        if (abs.compareTo(MAX_MAGNITUDE) > 0)
            throw ApiError.validation(
                    "Number overflow. Attempting to store a number with magnitude larger than supported range");
        if (abs.compareTo(MIN_MAGNITUDE) < 0)
            throw ApiError.validation(
                    "Number underflow. Attempting to store a number with magnitude smaller than supported range");
        return stripped;
    }

    // ---------------------------------------------------------------- comparison

    /** Ordering for S, N and B of the same type; {@code null} when DynamoDB cannot compare them. */
    static Integer compare(JsonNode a, JsonNode b) {
        if (a == null || b == null) return null;
        String ta = type(a), tb = type(b);
        if (!ta.equals(tb)) return null;
        return switch (ta) {
            case "N" -> number(a).compareTo(number(b));
            case "S" ->
                compareBytes(
                        a.get("S").asText().getBytes(StandardCharsets.UTF_8),
                        b.get("S").asText().getBytes(StandardCharsets.UTF_8));
            case "B" -> compareBytes(bytes(a, "B"), bytes(b, "B"));
            default -> null;
        };
    }

    static int compareBytes(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    static boolean equal(JsonNode a, JsonNode b) {
        if (a == null || b == null) return false;
        String ta = type(a), tb = type(b);
        if (!ta.equals(tb)) return false;
        return switch (ta) {
            case "N" -> number(a).compareTo(number(b)) == 0;
            case "SS", "NS", "BS" -> setOf(a).equals(setOf(b));
            case "L" -> {
                JsonNode la = a.get("L"), lb = b.get("L");
                if (la.size() != lb.size()) yield false;
                for (int i = 0; i < la.size(); i++) if (!equal(la.get(i), lb.get(i))) yield false;
                yield true;
            }
            case "M" -> itemsEqual(a.get("M"), b.get("M"));
            default -> a.equals(b);
        };
    }

    static boolean itemsEqual(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        if (a.size() != b.size()) return false;
        for (Map.Entry<String, JsonNode> e : a.properties()) {
            if (!equal(e.getValue(), b.get(e.getKey()))) return false;
        }
        return true;
    }

    /** Set elements as comparable strings (numbers canonical, binaries base64 canonical). */
    static Set<String> setOf(JsonNode av) {
        String t = type(av);
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode el : av.get(t)) out.add(t.equals("NS") ? normaliseNumber(el.asText()) : el.asText());
        return out;
    }

    static JsonNode setFrom(String type, Set<String> elements) {
        ObjectNode out = Json.object();
        ArrayNode arr = out.putArray(type);
        elements.forEach(arr::add);
        return out;
    }

    // ---------------------------------------------------------------- sizes (DynamoDB's item size rules)

    static long itemSize(JsonNode item) {
        if (item == null) return 0;
        long size = 0;
        for (Map.Entry<String, JsonNode> e : item.properties()) {
            size += utf8Length(e.getKey()) + size(e.getValue());
        }
        return size;
    }

    static long size(JsonNode av) {
        String t = type(av);
        JsonNode v = av.get(t);
        return switch (t) {
            case "S" -> utf8Length(v.asText());
            case "N" -> numberSize(v.asText());
            case "B" -> bytes(av, "B").length;
            case "BOOL", "NULL" -> 1;
            case "SS" -> {
                long s = 0;
                for (JsonNode el : v) s += utf8Length(el.asText());
                yield s;
            }
            case "NS" -> {
                long s = 0;
                for (JsonNode el : v) s += numberSize(el.asText());
                yield s;
            }
            case "BS" -> {
                long s = 0;
                for (JsonNode el : v) s += Base64.getDecoder().decode(el.asText()).length;
                yield s;
            }
            // 3 bytes for the container plus 1 byte of overhead per element.
            case "L" -> {
                long s = 3;
                for (JsonNode el : v) s += 1 + size(el);
                yield s;
            }
            case "M" -> {
                long s = 3;
                for (Map.Entry<String, JsonNode> e : v.properties())
                    s += 1 + utf8Length(e.getKey()) + size(e.getValue());
                yield s;
            }
            default -> 0;
        };
    }

    /** 1 byte per two significant digits plus 1 byte. */
    static long numberSize(String n) {
        BigDecimal d = new BigDecimal(n).stripTrailingZeros();
        if (d.signum() == 0) return 1;
        return (d.precision() + 1) / 2 + 1;
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n += 1;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }

    // ---------------------------------------------------------------- keys for ordered storage

    /** A key component that orders like DynamoDB sort keys (N numerically, S/B by unsigned bytes). */
    record KeyPart(String type, BigDecimal number, byte[] bytes, int sentinel) implements Comparable<KeyPart> {
        static final KeyPart MIN = new KeyPart(null, null, null, -1);
        static final KeyPart MAX = new KeyPart(null, null, null, 1);

        static KeyPart of(JsonNode av) {
            String t = Values.type(av);
            return switch (t) {
                case "N" -> new KeyPart(t, Values.number(av), null, 0);
                case "S" -> new KeyPart(t, null, av.get("S").asText().getBytes(StandardCharsets.UTF_8), 0);
                case "B" -> new KeyPart(t, null, Values.bytes(av, "B"), 0);
                default -> throw new IllegalArgumentException("not a key type: " + t);
            };
        }

        @Override
        public int compareTo(KeyPart o) {
            if (sentinel != 0 || o.sentinel != 0) return Integer.compare(sentinel, o.sentinel);
            int c = type.compareTo(o.type);
            if (c != 0) return c;
            return number != null ? number.compareTo(o.number) : Arrays.compareUnsigned(bytes, o.bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof KeyPart k && compareTo(k) == 0;
        }

        @Override
        public int hashCode() {
            return number != null ? number.hashCode() : Arrays.hashCode(bytes);
        }
    }

    /** Composite key: a tuple of parts compared left to right. */
    record Key(KeyPart[] parts) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            for (int i = 0; i < Math.min(parts.length, o.parts.length); i++) {
                int c = parts[i].compareTo(o.parts[i]);
                if (c != 0) return c;
            }
            return Integer.compare(parts.length, o.parts.length);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && compareTo(k) == 0;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(parts);
        }
    }
}
