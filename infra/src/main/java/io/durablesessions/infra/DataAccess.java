package io.durablesessions.infra;

import io.durablesessions.functions.store.TableLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Exactly what one function may do: DynamoDB actions per table (and per index), and which
 * {@code @connections} methods of the management API it calls. Turned into IAM statements by
 * {@link JavaFunction}; the per-function values live in {@link Permissions}.
 */
public final class DataAccess {
    private final Map<TableLayout, Set<String>> tables = new LinkedHashMap<>();
    private final Map<TableLayout, Map<String, Set<String>>> indexes = new LinkedHashMap<>();
    private final Set<String> connectionMethods = new TreeSet<>();
    private final Set<String> connectionRows = new TreeSet<>();

    public static DataAccess none() {
        return new DataAccess();
    }

    /** DynamoDB actions (without the {@code dynamodb:} prefix) on the table itself. */
    public DataAccess table(TableLayout table, String... actions) {
        tables.computeIfAbsent(table, t -> new TreeSet<>()).addAll(List.of(actions));
        return this;
    }

    /** DynamoDB actions on one index of the table. */
    public DataAccess index(TableLayout table, String index, String... actions) {
        if (table.indexes().stream().noneMatch(i -> i.name().equals(index))) {
            throw new IllegalArgumentException(table.id() + " has no index " + index);
        }
        indexes.computeIfAbsent(table, t -> new LinkedHashMap<>())
                .computeIfAbsent(index, i -> new TreeSet<>())
                .addAll(List.of(actions));
        return this;
    }

    /**
     * The partition-key patterns ({@code dynamodb:LeadingKeys}, e.g. {@code CONN#*}) of the
     * connections table this function may write; reads are not limited. Revocation rows
     * ({@code REVOKED#*}) are written by the HTTP API's admin route only.
     */
    public DataAccess connectionRows(String... patterns) {
        connectionRows.addAll(List.of(patterns));
        return this;
    }

    public Set<String> connectionRows() {
        return connectionRows;
    }

    /** {@code execute-api:ManageConnections} for these HTTP methods on {@code @connections/*}. */
    public DataAccess connections(String... methods) {
        connectionMethods.addAll(List.of(methods));
        return this;
    }

    public Map<TableLayout, Set<String>> tables() {
        return tables;
    }

    public Map<TableLayout, Map<String, Set<String>>> indexes() {
        return indexes;
    }

    public Set<String> connectionMethods() {
        return connectionMethods;
    }
}
