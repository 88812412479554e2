package io.durablesessions.functions.store;

/**
 * The attribute names of the connections table's rows (docs/storage.md): a connection's own row
 * ({@code CONN#id / META}) and its subscriber rows ({@code SUB#session / connectionId}), written
 * and read by {@link ConnectionStore} (and the session eraser in {@link SessionCatalog}).
 */
final class ConnectionRow {
    /** The verified caller as JSON ({@code Principal.toJson}), on the META row and on each subscriber row. */
    static final String PRINCIPAL = "principal";
    /** The presence label and surface the client gave at {@code $connect}. */
    static final String LABEL = "label";

    static final String SURFACE = "surface";
    /** The client's instance id: one presence member per (principal, instance). */
    static final String INSTANCE = "instance";
    /** Epoch millis of the {@code $connect}. */
    static final String CONNECTED_AT = "connectedAt";
    /** On the META row: how many sessions the connection subscribes to (the subscription cap). */
    static final String SUBS = "subs";
    /** On a subscriber row: it receives only control events (an agent's own subscription). */
    static final String CONTROL_ONLY = "controlOnly";

    private ConnectionRow() {}
}
