package io.durablesessions.conformance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The principals the cases speak as, with the role and grants each needs (conformance/README.md,
 * "Principals"). {@code P} is the run's session prefix ({@code --prefix}); every session a case
 * uses starts with it.
 */
final class Principals {
    /** Where a principal's grant applies. */
    enum Scope {
        /** every session starting with the run's prefix */
        PREFIX,
        /** a prefix that does not cover the run's sessions */
        ELSEWHERE,
        /** every session (an operator) */
        ALL
    }

    record Spec(String name, String role, Scope scope, List<String> caps, String purpose) {
        /** The grant scope as scripts/token writes it: {@code P*}, {@code *}, or the elsewhere prefix. */
        String scopeArgument(String prefix) {
            return switch (scope) {
                case PREFIX -> prefix + "*";
                case ELSEWHERE -> elsewhere(prefix) + "*";
                case ALL -> "*";
            };
        }
    }

    /** The outsider's prefix: never a prefix of the run's sessions. */
    static String elsewhere(String prefix) {
        return "elsewhere-" + prefix;
    }

    static final Map<String, Spec> ALL = new LinkedHashMap<>();

    static {
        add(new Spec(
                "agentA", "agent", Scope.PREFIX, List.of("read", "append", "agent"), "an agent: runs, replies, tools"));
        add(new Spec(
                "agentB",
                "agent",
                Scope.PREFIX,
                List.of("read", "append", "agent"),
                "a second agent (takeovers, multi-writer)"));
        add(new Spec(
                "user",
                "client",
                Scope.PREFIX,
                List.of("read", "append", "control"),
                "an end user: reads, writes input, controls runs"));
        add(new Spec("user2", "client", Scope.PREFIX, List.of("read", "append", "control"), "a second end user"));
        add(new Spec("viewer", "viewer", Scope.PREFIX, List.of("read"), "reads only"));
        add(new Spec(
                "outsider",
                "client",
                Scope.ELSEWHERE,
                List.of("read", "append", "control"),
                "a client whose grants do not cover the run's prefix"));
        add(new Spec(
                "operator",
                "client",
                Scope.ALL,
                List.of("read", "append", "control", "admin"),
                "admin on every session: files and lists sessions for others, revokes tokens"));
    }

    private static void add(Spec s) {
        ALL.put(s.name(), s);
    }

    private Principals() {}

    static Spec get(String name) {
        Spec s = ALL.get(name);
        if (s == null) throw new CaseFailure("unknown principal '" + name + "' (one of " + ALL.keySet() + ")");
        return s;
    }
}
