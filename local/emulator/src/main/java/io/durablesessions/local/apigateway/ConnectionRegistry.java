package io.durablesessions.local.apigateway;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The open connections by id: what the @connections API can reach. */
final class ConnectionRegistry {

    private final ConcurrentHashMap<String, Connection> open = new ConcurrentHashMap<>();

    void add(Connection connection) {
        open.put(connection.id, connection);
    }

    void remove(Connection connection) {
        open.remove(connection.id, connection);
    }

    /** The connection if it is still open; a closed one is as gone as an unknown one (410). */
    Optional<Connection> find(String connectionId) {
        Connection c = open.get(connectionId);
        return c != null && c.isOpen() ? Optional.of(c) : Optional.empty();
    }

    Set<String> ids() {
        return Set.copyOf(open.keySet());
    }

    Iterable<Connection> all() {
        return open.values();
    }
}
