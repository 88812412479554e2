package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.local.dynamodb.Expr.AddAction;
import io.durablesessions.local.dynamodb.Expr.And;
import io.durablesessions.local.dynamodb.Expr.Arith;
import io.durablesessions.local.dynamodb.Expr.Between;
import io.durablesessions.local.dynamodb.Expr.Compare;
import io.durablesessions.local.dynamodb.Expr.Cond;
import io.durablesessions.local.dynamodb.Expr.DeleteAction;
import io.durablesessions.local.dynamodb.Expr.Function;
import io.durablesessions.local.dynamodb.Expr.IfNotExists;
import io.durablesessions.local.dynamodb.Expr.In;
import io.durablesessions.local.dynamodb.Expr.Index;
import io.durablesessions.local.dynamodb.Expr.ListAppend;
import io.durablesessions.local.dynamodb.Expr.Name;
import io.durablesessions.local.dynamodb.Expr.Not;
import io.durablesessions.local.dynamodb.Expr.Operand;
import io.durablesessions.local.dynamodb.Expr.Or;
import io.durablesessions.local.dynamodb.Expr.Path;
import io.durablesessions.local.dynamodb.Expr.PathElement;
import io.durablesessions.local.dynamodb.Expr.PathOperand;
import io.durablesessions.local.dynamodb.Expr.SetAction;
import io.durablesessions.local.dynamodb.Expr.SetValue;
import io.durablesessions.local.dynamodb.Expr.Size;
import io.durablesessions.local.dynamodb.Expr.Update;
import io.durablesessions.local.dynamodb.Expr.ValueRef;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Evaluates parsed expressions against items. {@code names}/{@code values} are the request's
 * ExpressionAttributeNames / (already validated) ExpressionAttributeValues.
 */
final class Evaluator {
    private final Map<String, String> names;
    private final Map<String, JsonNode> values;

    Evaluator(Map<String, String> names, Map<String, JsonNode> values) {
        this.names = names;
        this.values = values;
    }

    // ---------------------------------------------------------------- paths

    /** A path with placeholders substituted: elements are String (name) or Integer (list index). */
    List<Object> resolve(Path path) {
        List<Object> out = new ArrayList<>(path.elements().size());
        for (PathElement e : path.elements()) {
            if (e instanceof Name n) {
                if (n.text().startsWith("#")) {
                    String real = names.get(n.text());
                    if (real == null)
                        throw ApiError.validation(
                                "An expression attribute name used in the document path is not defined; attribute name: "
                                        + n.text());
                    out.add(real);
                } else {
                    out.add(n.text());
                }
            } else {
                out.add(((Index) e).index());
            }
        }
        return out;
    }

    static JsonNode get(JsonNode item, List<Object> path) {
        if (item == null) return null;
        JsonNode current = item.get((String) path.get(0));
        for (int i = 1; i < path.size() && current != null; i++) {
            Object el = path.get(i);
            if (el instanceof String key) {
                JsonNode m = current.get("M");
                current = m == null ? null : m.get(key);
            } else {
                JsonNode l = current.get("L");
                int idx = (Integer) el;
                current = l == null || idx >= l.size() ? null : l.get(idx);
            }
        }
        return current;
    }

    JsonNode value(String placeholder) {
        JsonNode v = values.get(placeholder);
        if (v == null)
            throw ApiError.validation(
                    "An expression attribute value used in expression is not defined; attribute value: " + placeholder);
        return v;
    }

    JsonNode operand(Operand op, JsonNode item) {
        return switch (op) {
            case PathOperand p -> get(item, resolve(p.path()));
            case ValueRef v -> value(v.name());
            case Size s -> {
                JsonNode v = get(item, resolve(s.path()));
                if (v == null) yield null;
                String t = Values.type(v);
                long n = switch (t) {
                    case "S" ->
                        v.get("S")
                                .asText()
                                .codePointCount(0, v.get("S").asText().length());
                    case "B" -> Values.bytes(v, "B").length;
                    case "SS", "NS", "BS", "L" -> v.get(t).size();
                    case "M" -> v.get("M").size();
                    default -> -1;
                };
                yield n < 0 ? null : Values.n(BigDecimal.valueOf(n));
            }
        };
    }

    // ---------------------------------------------------------------- conditions

    boolean test(Cond cond, JsonNode item) {
        return switch (cond) {
            case And a -> test(a.left(), item) && test(a.right(), item);
            case Or o -> test(o.left(), item) || test(o.right(), item);
            case Not n -> !test(n.inner(), item);
            case Compare c -> compare(c, item);
            case Between b -> {
                JsonNode v = operand(b.value(), item), lo = operand(b.low(), item), hi = operand(b.high(), item);
                Integer lowHigh = Values.compare(lo, hi);
                if (lowHigh != null && lowHigh > 0 && b.low() instanceof ValueRef && b.high() instanceof ValueRef) {
                    throw ApiError.validation(
                            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: "
                                    + lo + ", upper bound operand: AttributeValue: " + hi);
                }
                Integer c1 = Values.compare(v, lo), c2 = Values.compare(v, hi);
                yield c1 != null && c2 != null && c1 >= 0 && c2 <= 0;
            }
            case In in -> {
                JsonNode v = operand(in.value(), item);
                boolean found = false;
                for (Operand candidate : in.candidates()) {
                    if (Values.equal(v, operand(candidate, item))) found = true;
                }
                yield found;
            }
            case Function f -> function(f, item);
        };
    }

    private boolean compare(Compare c, JsonNode item) {
        JsonNode l = operand(c.left(), item), r = operand(c.right(), item);
        if (!c.op().equals("=") && !c.op().equals("<>")) {
            checkScalar(c.op(), c.left(), l);
            checkScalar(c.op(), c.right(), r);
        }
        return switch (c.op()) {
            case "=" -> Values.equal(l, r);
            case "<>" -> !Values.equal(l, r);
            default -> {
                Integer cmp = Values.compare(l, r);
                if (cmp == null) yield false;
                yield switch (c.op()) {
                    case "<" -> cmp < 0;
                    case "<=" -> cmp <= 0;
                    case ">" -> cmp > 0;
                    default -> cmp >= 0;
                };
            }
        };
    }

    /** DynamoDB rejects literal operands of the wrong type for ordering operators up front. */
    private static void checkScalar(String op, Operand operand, JsonNode v) {
        if (operand instanceof ValueRef && v != null) {
            String t = Values.type(v);
            if (!t.equals("S") && !t.equals("N") && !t.equals("B")) {
                throw ApiError.validation(
                        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
                                + op + ", operand type: " + t);
            }
        }
    }

    private boolean function(Function f, JsonNode item) {
        List<Operand> args = f.args();
        switch (f.name()) {
            case "attribute_exists":
                return operand(args.get(0), item) != null;
            case "attribute_not_exists":
                return operand(args.get(0), item) == null;
            case "attribute_type": {
                JsonNode t = operand(args.get(1), item);
                if (t == null
                        || !"S".equals(Values.type(t))
                        || !Set.of("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
                                .contains(t.get("S").asText())) {
                    throw ApiError.validation("Invalid ConditionExpression: Invalid attribute type name found; type: "
                            + (t == null ? null : t) + ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
                }
                JsonNode v = operand(args.get(0), item);
                return v != null && Values.type(v).equals(t.get("S").asText());
            }
            case "begins_with": {
                JsonNode v = operand(args.get(0), item), prefix = operand(args.get(1), item);
                if (args.get(1) instanceof ValueRef
                        && prefix != null
                        && !Set.of("S", "B").contains(Values.type(prefix))) {
                    throw ApiError.validation(
                            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: "
                                    + Values.type(prefix));
                }
                if (v == null || prefix == null || !Values.type(v).equals(Values.type(prefix))) return false;
                if (Values.type(v).equals("S"))
                    return v.get("S").asText().startsWith(prefix.get("S").asText());
                byte[] a = Values.bytes(v, "B"), b = Values.bytes(prefix, "B");
                return a.length >= b.length && Arrays.equals(a, 0, b.length, b, 0, b.length);
            }
            case "contains": {
                JsonNode v = operand(args.get(0), item), needle = operand(args.get(1), item);
                if (v == null || needle == null) return false;
                String t = Values.type(v), nt = Values.type(needle);
                return switch (t) {
                    case "S" ->
                        nt.equals("S")
                                && v.get("S").asText().contains(needle.get("S").asText());
                    case "SS", "NS", "BS" ->
                        nt.equals(t.substring(0, 1))
                                && Values.setOf(v)
                                        .contains(
                                                nt.equals("N")
                                                        ? Values.normaliseNumber(
                                                                needle.get("N").asText())
                                                        : needle.get(nt).asText());
                    case "L" -> {
                        for (JsonNode el : v.get("L")) if (Values.equal(el, needle)) yield true;
                        yield false;
                    }
                    default -> false;
                };
            }
            default:
                throw ApiError.validation("Invalid function name; function: " + f.name());
        }
    }

    // ---------------------------------------------------------------- update expressions

    /** Paths touched by an update, resolved; used for overlap checks and UPDATED_* return values. */
    List<List<Object>> updatedPaths(Update u) {
        List<List<Object>> out = new ArrayList<>();
        u.sets().forEach(s -> out.add(resolve(s.path())));
        u.removes().forEach(p -> out.add(resolve(p)));
        u.adds().forEach(a -> out.add(resolve(a.path())));
        u.deletes().forEach(d -> out.add(resolve(d.path())));
        return out;
    }

    /** Applies an update to a copy of {@code old} (or of {@code key} when the item is new). */
    ObjectNode apply(Update u, ObjectNode old, ObjectNode key, Set<String> keyNames) {
        List<List<Object>> paths = updatedPaths(u);
        for (int i = 0; i < paths.size(); i++) {
            List<Object> a = paths.get(i);
            if (keyNames.contains((String) a.get(0))) {
                throw ApiError.validation("One or more parameter values were invalid: Cannot update attribute "
                        + a.get(0) + ". This attribute is part of the key");
            }
            for (int j = i + 1; j < paths.size(); j++) {
                List<Object> b = paths.get(j);
                int n = Math.min(a.size(), b.size());
                if (a.subList(0, n).equals(b.subList(0, n))) {
                    String kind = a.size() == b.size()
                            ? "Two document paths overlap with each other; must remove or rewrite one of these paths"
                            : "Two document paths overlap with each other; must remove or rewrite one of these paths";
                    throw ApiError.validation(
                            "Invalid UpdateExpression: " + kind + "; path one: " + a + ", path two: " + b);
                }
            }
        }
        // Every right-hand side is evaluated against the item as it was before the update.
        List<JsonNode> setValues = new ArrayList<>();
        for (SetAction s : u.sets()) setValues.add(setValue(s.value(), old));

        ObjectNode next = old != null ? old.deepCopy() : key.deepCopy();
        for (int i = 0; i < u.sets().size(); i++) {
            put(next, resolve(u.sets().get(i).path()), setValues.get(i).deepCopy());
        }
        // Remove list elements from the highest index down so earlier removals don't shift later ones.
        List<List<Object>> removes = new ArrayList<>();
        u.removes().forEach(p -> removes.add(resolve(p)));
        removes.sort(Comparator.comparing((List<Object> p) -> p.get(p.size() - 1) instanceof Integer i ? i : -1)
                .reversed());
        for (List<Object> p : removes) remove(next, p);

        for (AddAction a : u.adds()) {
            List<Object> p = resolve(a.path());
            JsonNode v = value(a.value().name());
            String vt = Values.type(v);
            if (!vt.equals("N") && !Values.isSet(vt)) {
                throw ApiError.validation(
                        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: "
                                + typeName(vt));
            }
            JsonNode current = get(next, p);
            if (current == null) {
                put(next, p, v.deepCopy());
            } else if (!Values.type(current).equals(vt)) {
                throw ApiError.validation("An operand in the update expression has an incorrect data type");
            } else if (vt.equals("N")) {
                put(next, p, Values.n(Values.checkNumber(Values.number(current).add(Values.number(v)))));
            } else {
                Set<String> union = Values.setOf(current);
                union.addAll(Values.setOf(v));
                put(next, p, Values.setFrom(vt, union));
            }
        }
        for (DeleteAction d : u.deletes()) {
            List<Object> p = resolve(d.path());
            JsonNode v = value(d.value().name());
            String vt = Values.type(v);
            if (!Values.isSet(vt)) {
                throw ApiError.validation(
                        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: "
                                + typeName(vt));
            }
            JsonNode current = get(next, p);
            if (current == null) continue;
            if (!Values.type(current).equals(vt))
                throw ApiError.validation("An operand in the update expression has an incorrect data type");
            Set<String> rest = Values.setOf(current);
            rest.removeAll(Values.setOf(v));
            if (rest.isEmpty()) remove(next, p);
            else put(next, p, Values.setFrom(vt, rest));
        }
        return next;
    }

    private static String typeName(String t) {
        return switch (t) {
            case "S" -> "STRING";
            case "B" -> "BINARY";
            case "BOOL" -> "BOOLEAN";
            case "L" -> "LIST";
            case "M" -> "MAP";
            case "NULL" -> "NULL";
            default -> t;
        };
    }

    private JsonNode setValue(SetValue sv, ObjectNode item) {
        return switch (sv) {
            case Operand op -> {
                JsonNode v = operand(op, item);
                if (v == null)
                    throw ApiError.validation(
                            "The provided expression refers to an attribute that does not exist in the item");
                yield v;
            }
            case IfNotExists ine -> {
                JsonNode v = get(item, resolve(ine.path()));
                yield v != null ? v : setValue(ine.fallback(), item);
            }
            case ListAppend la -> {
                JsonNode a = setValue(la.first(), item), b = setValue(la.second(), item);
                if (!"L".equals(Values.type(a)) || !"L".equals(Values.type(b))) {
                    throw ApiError.validation(
                            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: "
                                    + typeName(!"L".equals(Values.type(a)) ? Values.type(a) : Values.type(b)));
                }
                ObjectNode out = Json.object();
                ArrayNode list = out.putArray("L");
                a.get("L").forEach(list::add);
                b.get("L").forEach(list::add);
                yield out;
            }
            case Arith ar -> {
                JsonNode a = setValue(ar.left(), item), b = setValue(ar.right(), item);
                if (!"N".equals(Values.type(a)) || !"N".equals(Values.type(b))) {
                    throw ApiError.validation("An operand in the update expression has an incorrect data type");
                }
                BigDecimal r = ar.op() == '+'
                        ? Values.number(a).add(Values.number(b))
                        : Values.number(a).subtract(Values.number(b));
                yield Values.n(Values.checkNumber(r));
            }
        };
    }

    private static void put(ObjectNode item, List<Object> path, JsonNode value) {
        if (path.size() == 1) {
            item.set((String) path.get(0), value);
            return;
        }
        JsonNode parent = get(item, path.subList(0, path.size() - 1));
        Object last = path.get(path.size() - 1);
        if (parent != null && last instanceof String key && parent.get("M") instanceof ObjectNode m) {
            m.set(key, value);
        } else if (parent != null && last instanceof Integer idx && parent.get("L") instanceof ArrayNode l) {
            if (idx >= l.size()) l.add(value);
            else l.set(idx, value);
        } else {
            throw ApiError.validation("The document path provided in the update expression is invalid for update");
        }
    }

    private static void remove(ObjectNode item, List<Object> path) {
        if (path.size() == 1) {
            item.remove((String) path.get(0));
            return;
        }
        JsonNode parent = get(item, path.subList(0, path.size() - 1));
        Object last = path.get(path.size() - 1);
        if (parent != null && last instanceof String key && parent.get("M") instanceof ObjectNode m) {
            m.remove(key);
        } else if (parent != null && last instanceof Integer idx && parent.get("L") instanceof ArrayNode l) {
            if (idx < l.size()) l.remove(idx);
        } else if (parent == null || !(parent.has("M") || parent.has("L"))) {
            throw ApiError.validation("The document path provided in the update expression is invalid for update");
        }
    }

    // ---------------------------------------------------------------- projections

    /** Copies only the given document paths out of {@code item}, keeping nested structure. */
    static ObjectNode project(JsonNode item, List<List<Object>> paths) {
        if (item == null) return null;
        ObjectNode out = Json.object();
        Map<String, List<List<Object>>> byName = new LinkedHashMap<>();
        for (List<Object> p : paths)
            byName.computeIfAbsent((String) p.get(0), k -> new ArrayList<>()).add(p.subList(1, p.size()));
        byName.forEach((name, rests) -> {
            JsonNode v = projectValue(item.get(name), rests);
            if (v != null) out.set(name, v);
        });
        return out;
    }

    private static JsonNode projectValue(JsonNode v, List<List<Object>> rests) {
        if (v == null) return null;
        for (List<Object> r : rests) if (r.isEmpty()) return v;
        if (v.get("M") != null && rests.stream().allMatch(r -> r.get(0) instanceof String)) {
            ObjectNode m = project(v.get("M"), rests);
            if (m.isEmpty()) return null;
            ObjectNode out = Json.object();
            out.set("M", m);
            return out;
        }
        if (v.get("L") != null && rests.stream().allMatch(r -> r.get(0) instanceof Integer)) {
            TreeMap<Integer, List<List<Object>>> byIndex = new TreeMap<>();
            for (List<Object> r : rests)
                byIndex.computeIfAbsent((Integer) r.get(0), k -> new ArrayList<>())
                        .add(r.subList(1, r.size()));
            ObjectNode out = Json.object();
            ArrayNode l = out.putArray("L");
            byIndex.forEach((idx, rs) -> {
                if (idx < v.get("L").size()) {
                    JsonNode el = projectValue(v.get("L").get(idx), rs);
                    if (el != null) l.add(el);
                }
            });
            return l.isEmpty() ? null : out;
        }
        return null;
    }

    /** Names of top-level attributes touched by the given paths. */
    static Set<String> topLevel(List<List<Object>> paths) {
        Set<String> out = new LinkedHashSet<>();
        paths.forEach(p -> out.add((String) p.get(0)));
        return out;
    }
}
