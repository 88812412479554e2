package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The variables of one case and {@code ${…}} substitution (conformance/README.md, "Variables").
 * A string that is exactly {@code ${name}} becomes the variable's JSON value (a captured seq stays
 * a number); inside a longer string the variable's text is spliced in. Two generators make large
 * or deep input without pasting it: {@code ${repeat:N:TEXT}} and {@code ${nest:N}}; and
 * {@code {$repeat: N, item: T}} stands for an array of N copies of T, with {@code ${n}} counting.
 */
final class Vars {
    private static final Pattern REF = Pattern.compile("\\$\\{([^}]*)}");
    /** A scope: loop variables shadow the case's; captures always go to the case (so loops can export). */
    private final Vars parent;

    private final Map<String, JsonNode> values = new ConcurrentHashMap<>();

    Vars(Vars parent) {
        this.parent = parent;
    }

    Vars child() {
        return new Vars(this);
    }

    void put(String name, JsonNode value) {
        values.put(name, value);
    }

    void put(String name, String value) {
        values.put(name, TextNode.valueOf(value));
    }

    void put(String name, long value) {
        values.put(name, LongNode.valueOf(value));
    }

    /** Sets where captures of this case live: the outermost scope. */
    void capture(String name, JsonNode value) {
        Vars root = this;
        while (root.parent != null) root = root.parent;
        root.values.put(name, value);
    }

    JsonNode get(String name) {
        for (Vars v = this; v != null; v = v.parent) {
            JsonNode n = v.values.get(name);
            if (n != null) return n;
        }
        return null;
    }

    /** A deep copy of {@code template} with every variable replaced. */
    JsonNode subst(JsonNode template) {
        if (template == null) return null;
        if (template.isTextual()) return substText(template.textValue());
        if (template instanceof ObjectNode o && o.has("$repeat")) {
            // {$repeat: N, item: T}: an array of N items, each T with ${n} = 0, 1, …
            int times = subst(o.get("$repeat")).asInt();
            ArrayNode out = Jsons.array();
            for (int k = 0; k < times; k++) {
                Vars inner = child();
                inner.put("n", k);
                out.add(inner.subst(o.get("item")));
            }
            return out;
        }
        if (template instanceof ObjectNode o) {
            ObjectNode out = Jsons.object();
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                out.set(string(e.getKey()), subst(e.getValue()));
            }
            return out;
        }
        if (template instanceof ArrayNode a) {
            ArrayNode out = Jsons.array();
            for (JsonNode x : a) out.add(subst(x));
            return out;
        }
        return template.deepCopy();
    }

    /** A string with every variable's text spliced in. */
    String string(String template) {
        if (template == null) return null;
        Matcher m = REF.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            JsonNode v = resolve(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(v.isTextual() ? v.textValue() : Jsons.write(v)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private JsonNode substText(String s) {
        Matcher m = REF.matcher(s);
        if (m.matches()) return resolve(m.group(1)).deepCopy();
        return TextNode.valueOf(string(s));
    }

    private JsonNode resolve(String ref) {
        if (ref.startsWith("repeat:")) {
            int colon = ref.indexOf(':', 7);
            if (colon < 0) throw new CaseFailure("bad generator ${" + ref + "}: write ${repeat:COUNT:TEXT}");
            int n = Integer.parseInt(string(ref.substring(7, colon)).trim());
            return TextNode.valueOf(ref.substring(colon + 1).repeat(n));
        }
        if (ref.startsWith("nest:")) {
            int n = Integer.parseInt(string(ref.substring(5)).trim());
            ObjectNode root = Jsons.object();
            ObjectNode cur = root;
            for (int i = 1; i < n; i++) cur = cur.putObject("n");
            return root;
        }
        JsonNode v = get(ref);
        if (v == null) throw new CaseFailure("unknown variable ${" + ref + "}");
        return v;
    }
}
