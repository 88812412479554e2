package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads the case files (the resources under {@code cases/}, listed in {@code cases/index.yaml}, or
 * every {@code *.yaml} of a directory) and checks them: unknown step kinds, unknown arguments,
 * missing required arguments and duplicate case ids are errors that name the file and the step.
 */
final class CaseLoader {
    /** Step kind → the arguments it accepts (required ones marked with a leading '!'). */
    static final Map<String, Set<String>> STEP_ARGS = new LinkedHashMap<>();
    /** Named checks and their arguments. */
    static final Map<String, Set<String>> CHECK_ARGS = new LinkedHashMap<>();

    static {
        STEP_ARGS.put("connect", Set.of("as", "principal", "subject", "token", "via", "query", "expect"));
        STEP_ARGS.put(
                "send",
                Set.of("!on", "frame", "raw", "binary", "name", "wait", "expect", "capture", "timeout", "orClosed"));
        STEP_ARGS.put("answer", Set.of("!on", "!request", "expect", "capture", "timeout"));
        STEP_ARGS.put(
                "await", Set.of("!on", "session", "seqs", "event", "frame", "closed", "count", "timeout", "capture"));
        STEP_ARGS.put("abort", Set.of());
        STEP_ARGS.put("close", Set.of());
        STEP_ARGS.put(
                "http",
                Set.of(
                        "method", "!path", "as", "subject", "token", "body", "raw", "headers", "expect", "capture",
                        "timeout"));
        STEP_ARGS.put("loop", Set.of("!times", "var", "from", "!steps"));
        STEP_ARGS.put("paced", Set.of("!on", "!frame", "!perSecond", "!seconds", "senders", "name", "as"));
        STEP_ARGS.put("parallel", Set.of());
        STEP_ARGS.put("eventually", Set.of("!timeout", "every", "!steps"));
        STEP_ARGS.put("check", Set.of());
        STEP_ARGS.put("set", Set.of());
        STEP_ARGS.put("markLog", Set.of("!as", "session"));
        STEP_ARGS.put("lastSeq", Set.of("!on", "!as", "session"));
        STEP_ARGS.put(
                "rawFrame",
                Set.of("principal", "subject", "token", "text", "repeat", "bytes", "expectClose", "timeout"));

        CHECK_ARGS.put("clientRule", Set.of("!on", "session", "from", "atLeast", "timeout"));
        CHECK_ARGS.put("hydrateThenTail", Set.of("!on", "!request", "session", "atLeast", "timeout"));
        CHECK_ARGS.put("snapshotIsFold", Set.of("on", "request", "http", "session"));
        CHECK_ARGS.put("snapshotParts", Set.of("!on", "!request", "minParts"));
        CHECK_ARGS.put("fence", Set.of("!run", "session", "readers", "hydrated", "refusals"));
        CHECK_ARGS.put("logUnchanged", Set.of("!since", "session"));
        CHECK_ARGS.put(
                "log", Set.of("session", "where", "count", "atMost", "atLeast", "types", "match", "contains", "none"));
        CHECK_ARGS.put("gapless", Set.of("session"));
        CHECK_ARGS.put("perWriterOrder", Set.of("!path", "session", "where"));
        CHECK_ARGS.put("contiguousBatches", Set.of("!key", "!size", "session"));
        CHECK_ARGS.put("answerCounts", Set.of("!on", "!requests", "!counts"));
        CHECK_ARGS.put("catchUp", Set.of("!on", "!request", "!through", "session"));
        CHECK_ARGS.put("notReceived", Set.of("!on", "!event", "session"));
    }

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9.-]*");

    private CaseLoader() {}

    /** The cases shipped with the kit. */
    static List<Case> builtIn() {
        List<Case> out = new ArrayList<>();
        JsonNode index = yaml(resource("cases/index.yaml"), "cases/index.yaml");
        for (JsonNode f : index.path("files")) {
            String name = "cases/" + f.asText();
            out.addAll(parse(yaml(resource(name), name), name));
        }
        checkUnique(out);
        return out;
    }

    /** Every {@code *.yaml} case file of a directory (for cases of your own). */
    static List<Case> fromDirectory(Path dir) {
        List<Case> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(x -> x.toString().endsWith(".yaml") && !x.endsWith("index.yaml"))
                    .sorted()
                    .toList()) {
                out.addAll(parse(yaml(Files.readString(p), p.toString()), p.toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        checkUnique(out);
        return out;
    }

    private static void checkUnique(List<Case> cases) {
        Set<String> seen = new HashSet<>();
        for (Case c : cases)
            if (!seen.add(c.id()))
                throw new IllegalArgumentException("duplicate case id " + c.id() + " in " + c.file());
    }

    private static String resource(String name) {
        try (InputStream in = CaseLoader.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * YAML with JSON's scalars only: {@code true}/{@code false}, {@code null}, plain numbers. YAML
     * 1.1's other booleans ({@code on}, {@code yes}, {@code off}), sexagesimal numbers and dates would
     * turn the key {@code on:} or an id like {@code 1:20} into something else.
     */
    static JsonNode yaml(String text, String name) {
        Resolver json = new Resolver() {
            @Override
            protected void addImplicitResolvers() {
                addImplicitResolver(Tag.BOOL, Pattern.compile("^(?:true|false)$"), "tf");
                addImplicitResolver(Tag.INT, Pattern.compile("^-?(?:0|[1-9][0-9]*)$"), "-0123456789");
                addImplicitResolver(
                        Tag.FLOAT,
                        Pattern.compile("^-?(?:0|[1-9][0-9]*)\\.[0-9]+(?:[eE][-+]?[0-9]+)?$"),
                        "-0123456789");
                addImplicitResolver(Tag.NULL, Pattern.compile("^(?:null|~|)$"), "n~\0");
            }
        };
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setCodePointLimit(16 * 1024 * 1024);
        Yaml y = new Yaml(
                new SafeConstructor(options), new Representer(new DumperOptions()), new DumperOptions(), options, json);
        try {
            Object doc = y.load(text);
            return Jsons.MAPPER.valueToTree(doc);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    static List<Case> parse(JsonNode doc, String file) {
        if (!doc.isObject()
                || !doc.path("area").isTextual()
                || !doc.path("cases").isArray()) {
            throw new IllegalArgumentException(file + ": expected 'area' and a list of 'cases'");
        }
        String area = doc.get("area").asText();
        List<Case> out = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            String id = c.path("id").asText("");
            String where = file + " case '" + id + "'";
            if (!ID.matcher(id).matches())
                throw new IllegalArgumentException(where + ": an id is lower case, digits, '.' and '-'");
            allowOnly(c, Set.of("!id", "!title", "!covers", "requires", "!steps"), where);
            List<String> covers = strings(c.get("covers"), where + " covers");
            List<String> requires = strings(c.get("requires"), where + " requires");
            for (String r : requires) {
                if (!Case.REQUIREMENTS.contains(r))
                    throw new IllegalArgumentException(where + ": unknown requirement " + r);
            }
            out.add(new Case(
                    id, c.get("title").asText(), area, file, covers, requires, steps(c.get("steps"), where, "steps")));
        }
        return out;
    }

    private static List<String> strings(JsonNode n, String where) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (!n.isArray()) throw new IllegalArgumentException(where + ": expected a list");
        for (JsonNode x : n) out.add(x.asText());
        return out;
    }

    static List<Case.Step> steps(JsonNode list, String where, String path) {
        if (list == null || !list.isArray())
            throw new IllegalArgumentException(where + " " + path + ": expected a list of steps");
        List<Case.Step> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) out.add(step(list.get(i), where, path + "[" + i + "]"));
        return out;
    }

    private static Case.Step step(JsonNode s, String where, String path) {
        if (!s.isObject() || s.size() != 1) {
            throw new IllegalArgumentException(where + " " + path + ": a step is a map with one key, the step kind");
        }
        String kind = s.fieldNames().next();
        JsonNode args = s.get(kind);
        String at = path + "." + kind;
        Set<String> allowed = STEP_ARGS.get(kind);
        if (allowed == null) {
            throw new IllegalArgumentException(
                    where + " " + at + ": unknown step kind (one of " + STEP_ARGS.keySet() + ")");
        }
        switch (kind) {
            case "abort", "close" -> {
                if (!args.isTextual()) throw new IllegalArgumentException(where + " " + at + ": names a connection");
                return new Case.Step(kind, args, List.of(), Map.of(), at);
            }
            case "parallel" -> {
                if (!args.isObject() || args.isEmpty()) {
                    throw new IllegalArgumentException(where + " " + at + ": a map of branch name -> steps");
                }
                Map<String, List<Case.Step>> branches = new LinkedHashMap<>();
                for (Iterator<String> it = args.fieldNames(); it.hasNext(); ) {
                    String b = it.next();
                    branches.put(b, steps(args.get(b), where, at + "." + b));
                }
                return new Case.Step(kind, args, List.of(), branches, at);
            }
            case "set" -> {
                if (!args.isObject())
                    throw new IllegalArgumentException(where + " " + at + ": a map of variable -> value");
                return new Case.Step(kind, args, List.of(), Map.of(), at);
            }
            case "check" -> {
                if (!args.isObject() || args.size() != 1) {
                    throw new IllegalArgumentException(
                            where + " " + at + ": one named check (one of " + CHECK_ARGS.keySet() + ")");
                }
                String name = args.fieldNames().next();
                Set<String> checkArgs = CHECK_ARGS.get(name);
                if (checkArgs == null) {
                    throw new IllegalArgumentException(
                            where + " " + at + ": unknown check " + name + " (one of " + CHECK_ARGS.keySet() + ")");
                }
                JsonNode a = args.get(name);
                allowOnly(a.isNull() ? Jsons.object() : a, checkArgs, where + " " + at + "." + name);
                return new Case.Step(kind, args, List.of(), Map.of(), at);
            }
            default -> {
                if (!args.isObject())
                    throw new IllegalArgumentException(where + " " + at + ": expected a map of arguments");
                allowOnly(args, allowed, where + " " + at);
                List<Case.Step> inner = args.has("steps") ? steps(args.get("steps"), where, at + ".steps") : List.of();
                if (kind.equals("send")) {
                    int forms = (args.has("frame") ? 1 : 0) + (args.has("raw") ? 1 : 0) + (args.has("binary") ? 1 : 0);
                    if (forms != 1)
                        throw new IllegalArgumentException(where + " " + at + ": exactly one of frame, raw, binary");
                }
                if (kind.equals("connect")
                        && !args.has("principal")
                        && !"none".equals(args.path("token").asText())) {
                    throw new IllegalArgumentException(where + " " + at + ": names a principal (or token: none)");
                }
                return new Case.Step(kind, args, inner, Map.of(), at);
            }
        }
    }

    private static void allowOnly(JsonNode obj, Set<String> allowed, String where) {
        if (!obj.isObject()) throw new IllegalArgumentException(where + ": expected a map");
        Set<String> names = new HashSet<>();
        for (String a : allowed) names.add(a.startsWith("!") ? a.substring(1) : a);
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!names.contains(f))
                throw new IllegalArgumentException(where + ": unknown argument '" + f + "' (allowed: " + names + ")");
        }
        for (String a : allowed) {
            if (a.startsWith("!") && !((ObjectNode) obj).has(a.substring(1))) {
                throw new IllegalArgumentException(where + ": missing argument '" + a.substring(1) + "'");
            }
        }
    }
}
