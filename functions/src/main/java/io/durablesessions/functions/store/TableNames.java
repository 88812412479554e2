package io.durablesessions.functions.store;

import java.util.Map;

/** Physical table names of one deployment, read from the environment the CDK stack sets. */
public record TableNames(String events, String sessions, String connections) {

    public static TableNames fromEnvironment(Map<String, String> env) {
        return new TableNames(
                env.getOrDefault(TableLayout.EVENTS.envVar(), TableLayout.EVENTS.defaultName()),
                env.getOrDefault(TableLayout.SESSIONS.envVar(), TableLayout.SESSIONS.defaultName()),
                env.getOrDefault(TableLayout.CONNECTIONS.envVar(), TableLayout.CONNECTIONS.defaultName()));
    }

    public static TableNames withPrefix(String prefix) {
        return new TableNames(
                prefix + TableLayout.EVENTS.defaultName(),
                prefix + TableLayout.SESSIONS.defaultName(),
                prefix + TableLayout.CONNECTIONS.defaultName());
    }

    public String nameOf(TableLayout layout) {
        if (layout == TableLayout.EVENTS) return events;
        if (layout == TableLayout.SESSIONS) return sessions;
        if (layout == TableLayout.CONNECTIONS) return connections;
        throw new IllegalArgumentException(layout.id());
    }
}
