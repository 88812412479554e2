package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.functions.auth.Principal;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Connections and subscriptions. Items: {@code CONN#id / META} (who is connected),
 * {@code CONN#id / SUB#session} (what it subscribed, to clean up) and {@code SUB#session / id}
 * (who to fan a session out to: one Query, never a Scan). Every row carries a TTL a little past
 * API Gateway's 2-hour connection cap, because {@code $disconnect} is best effort.
 */
public final class ConnectionStore {
    /** API Gateway closes every connection after 2 hours; rows outlive it by a margin, then expire. */
    public static final Duration ROW_TTL = Duration.ofHours(2).plusMinutes(15);

    private final DynamoDbClient ddb;
    private final String table;
    private final Clock clock;

    public ConnectionStore(DynamoDbClient ddb, TableNames tables, Clock clock) {
        this.ddb = ddb;
        this.table = tables.connections();
        this.clock = clock;
    }

    /** Who is on the other end of a connection, as verified at {@code $connect}. */
    public record Connection(
            String connectionId, Principal identity, String label, String surface, String instance, long connectedAt) {
        /**
         * The caller of a message that writes or controls, from the principal API Gateway passes on
         * every message: no read of the connection row. It has no presence fields (label, surface,
         * instance): a subscribe, which announces the member, reads the row.
         */
        public static Connection ofMessage(String connectionId, Principal identity) {
            return new Connection(connectionId, identity, null, null, null, 0);
        }

        /** The writer id of everything this connection appends (the token's subject). */
        public String principal() {
            return identity.subject();
        }

        public String role() {
            return identity.role();
        }

        /**
         * One member of a session's presence: this principal on this client instance. Neither part
         * may contain {@code /}, so two different pairs never make the same id.
         */
        public String memberId() {
            return principal() + "/" + instance;
        }
    }

    /**
     * A subscriber of a session with the identity it subscribed under (re-checked at fan-out);
     * {@code controlOnly} for an agent listening for stop/steer only.
     */
    public record Subscriber(String connectionId, Principal identity, boolean controlOnly) {}

    public void register(Connection c) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.PK, s(Keys.conn(c.connectionId())));
        item.put(Attrs.SK, s(Keys.META));
        item.put(ConnectionRow.PRINCIPAL, s(c.identity().toJson()));
        if (c.label() != null) item.put(ConnectionRow.LABEL, s(c.label()));
        if (c.surface() != null) item.put(ConnectionRow.SURFACE, s(c.surface()));
        item.put(ConnectionRow.INSTANCE, s(c.instance()));
        item.put(ConnectionRow.CONNECTED_AT, n(c.connectedAt()));
        item.put(Attrs.EXPIRES_AT, n(expiry()));
        ddb.putItem(p -> p.tableName(table).item(item));
    }

    public Connection get(String connectionId) {
        var r = ddb.getItem(g -> g.tableName(table)
                .consistentRead(true)
                .key(Map.of(Attrs.PK, s(Keys.conn(connectionId)), Attrs.SK, s(Keys.META))));
        if (!r.hasItem() || r.item().isEmpty()) return null;
        var i = r.item();
        if (Attrs.num(i, Attrs.EXPIRES_AT, Long.MAX_VALUE) < clock.millis() / 1000) return null; // TTL is lazy
        return new Connection(
                connectionId,
                Principal.fromJson(Attrs.str(i, ConnectionRow.PRINCIPAL)),
                Attrs.str(i, ConnectionRow.LABEL),
                Attrs.str(i, ConnectionRow.SURFACE),
                Attrs.str(i, ConnectionRow.INSTANCE),
                Attrs.num(i, ConnectionRow.CONNECTED_AT, 0));
    }

    /** What a subscribe did to the connection's subscriptions. */
    public enum Subscribed {
        /** A new subscription, counted against the connection's cap. */
        ADDED,
        /** It existed: renewed (identity, filter, expiry), not counted again. */
        RENEWED,
        /** The connection already holds {@code max} subscriptions: nothing changed. */
        AT_CAP,
        /** The connection is not registered (gone, or never connected): nothing changed. */
        NOT_REGISTERED
    }

    /**
     * Registers the subscription. The connection's count ({@code subs} on its META row) moves in the
     * same transaction as the new rows, conditioned on staying within {@code max}, so concurrent
     * subscribes can never exceed the cap; subscribing again to the same session renews it.
     */
    public Subscribed subscribe(
            String connectionId, String sessionId, Principal principal, boolean controlOnly, int max) {
        TransactionCanceledException last = null;
        for (int attempt = 1; attempt <= Conflicts.MAX_ATTEMPTS; attempt++) {
            long exp = expiry();
            Map<String, AttributeValue> meta = Map.of(Attrs.PK, s(Keys.conn(connectionId)), Attrs.SK, s(Keys.META));
            Update count = new Update(table, meta);
            String subs = count.name(ConnectionRow.SUBS);
            count.add(subs, n(1));
            count.condition("attribute_exists(" + count.name(Attrs.PK) + ")");
            count.condition("(attribute_not_exists(" + subs + ") OR " + subs + " < " + count.value(n(max)) + ")");
            TransactWriteItem connectionRow = Expression.NEW_ROW.put(
                    table,
                    Map.of(
                            Attrs.PK,
                            s(Keys.conn(connectionId)),
                            Attrs.SK,
                            s(Keys.sub(sessionId)),
                            Attrs.EXPIRES_AT,
                            n(exp)));
            try {
                ddb.transactWriteItems(r -> r.transactItems(
                        count.transactItem(),
                        subscriberRow(connectionId, sessionId, principal, controlOnly, exp),
                        connectionRow));
                return Subscribed.ADDED;
            } catch (TransactionCanceledException e) {
                last = e;
                var reasons = e.cancellationReasons();
                if (conditionFailed(reasons, 2)) {
                    Subscribed renewed = renew(connectionId, sessionId, principal, controlOnly, exp);
                    if (renewed != null) return renewed;
                    continue; // unsubscribed meanwhile: subscribe anew
                }
                if (conditionFailed(reasons, 0)) {
                    var r = ddb.getItem(
                            g -> g.tableName(table).consistentRead(true).key(meta));
                    if (!r.hasItem() || r.item().isEmpty()) return Subscribed.NOT_REGISTERED;
                    if (Attrs.num(r.item(), ConnectionRow.SUBS, 0) >= max) return Subscribed.AT_CAP;
                }
                // a conflict, or the count moved under us: read again and retry
                BatchReads.backoff(attempt);
            }
        }
        throw last; // conflicting past every attempt: CONTENTION to the client (Conflicts.isConflict)
    }

    private static boolean conditionFailed(List<CancellationReason> reasons, int index) {
        return reasons != null
                && index < reasons.size()
                && "ConditionalCheckFailed".equals(reasons.get(index).code());
    }

    /** Renews an existing subscription; null when it was removed meanwhile. */
    private Subscribed renew(
            String connectionId, String sessionId, Principal principal, boolean controlOnly, long exp) {
        try {
            Conflicts.transactWrite(
                    ddb,
                    List.of(
                            subscriberRow(connectionId, sessionId, principal, controlOnly, exp),
                            Expression.EXISTING_ROW.put(
                                    table,
                                    Map.of(
                                            Attrs.PK,
                                            s(Keys.conn(connectionId)),
                                            Attrs.SK,
                                            s(Keys.sub(sessionId)),
                                            Attrs.EXPIRES_AT,
                                            n(exp)))));
            return Subscribed.RENEWED;
        } catch (TransactionCanceledException goneMeanwhile) {
            if (Conflicts.isConflict(goneMeanwhile)) throw goneMeanwhile;
            return null;
        }
    }

    private TransactWriteItem subscriberRow(
            String connectionId, String sessionId, Principal principal, boolean controlOnly, long exp) {
        return TransactWriteItem.builder()
                .put(p -> p.tableName(table)
                        .item(Map.of(
                                Attrs.PK,
                                s(Keys.sub(sessionId)),
                                Attrs.SK,
                                s(connectionId),
                                ConnectionRow.PRINCIPAL,
                                s(principal.toJson()),
                                ConnectionRow.CONTROL_ONLY,
                                AttributeValue.fromBool(controlOnly),
                                Attrs.EXPIRES_AT,
                                n(exp))))
                .build();
    }

    /** Removes one subscription and gives its place back to the connection's count; nothing when there was none. */
    public void unsubscribe(String connectionId, String sessionId) {
        Update count = new Update(table, Map.of(Attrs.PK, s(Keys.conn(connectionId)), Attrs.SK, s(Keys.META)));
        count.add(count.name(ConnectionRow.SUBS), n(-1));
        count.condition("attribute_exists(" + count.name(ConnectionRow.SUBS) + ")");
        try {
            Conflicts.transactWrite(
                    ddb,
                    List.of(
                            TransactWriteItem.builder()
                                    .delete(d -> d.tableName(table)
                                            .key(Map.of(Attrs.PK, s(Keys.sub(sessionId)), Attrs.SK, s(connectionId))))
                                    .build(),
                            TransactWriteItem.builder()
                                    .delete(d -> d.tableName(table)
                                            .key(Map.of(
                                                    Attrs.PK,
                                                    s(Keys.conn(connectionId)),
                                                    Attrs.SK,
                                                    s(Keys.sub(sessionId))))
                                            .conditionExpression(Expression.EXISTING_ROW.text())
                                            .expressionAttributeNames(Expression.EXISTING_ROW.names()))
                                    .build(),
                            count.transactItem()));
        } catch (TransactionCanceledException notSubscribedOrGone) {
            if (Conflicts.isConflict(notSubscribedOrGone)) throw notSubscribedOrGone;
            // the subscription (or the whole connection) is gone already: remove a stray fan-out row, if any
            ddb.deleteItem(
                    d -> d.tableName(table).key(Map.of(Attrs.PK, s(Keys.sub(sessionId)), Attrs.SK, s(connectionId))));
        }
    }

    /** The sessions the connection subscribes to. */
    public List<String> subscribedSessions(String connectionId) {
        return rowsOf(connectionId).stream()
                .filter(sk -> sk.startsWith(Keys.SUB))
                .map(sk -> sk.substring(Keys.SUB.length()))
                .toList();
    }

    /**
     * The subscribers of a session: one paged, consistent Query on its partition (a subscription
     * registered before this read is in it: the rule delivery relies on, docs/architecture.md).
     */
    public List<Subscriber> subscribers(String sessionId) {
        List<Subscriber> ids = new ArrayList<>();
        long now = clock.millis() / 1000;
        for (var item : ddb.queryPaginator(q -> q.tableName(table)
                        .consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(Keys.sub(sessionId)))))
                .items()) {
            if (Attrs.num(item, Attrs.EXPIRES_AT, Long.MAX_VALUE) >= now) {
                AttributeValue c = item.get(ConnectionRow.CONTROL_ONLY);
                ids.add(new Subscriber(
                        Attrs.str(item, Attrs.SK),
                        Principal.fromJson(Attrs.str(item, ConnectionRow.PRINCIPAL)),
                        c != null && Boolean.TRUE.equals(c.bool())));
            }
        }
        return ids;
    }

    /**
     * Removes one connection and all its subscriptions, and nothing else. Returns who it was and
     * which sessions it had subscribed (for presence), or null if it was already gone.
     */
    public Removed remove(String connectionId) {
        Connection who = get(connectionId);
        List<String> sessions = new ArrayList<>();
        for (String sk : rowsOf(connectionId)) {
            if (sk.startsWith(Keys.SUB)) {
                String sessionId = sk.substring(Keys.SUB.length());
                sessions.add(sessionId);
                ddb.deleteItem(d ->
                        d.tableName(table).key(Map.of(Attrs.PK, s(Keys.sub(sessionId)), Attrs.SK, s(connectionId))));
            }
            ddb.deleteItem(d -> d.tableName(table).key(Map.of(Attrs.PK, s(Keys.conn(connectionId)), Attrs.SK, s(sk))));
        }
        return who == null ? null : new Removed(who, sessions);
    }

    public record Removed(Connection connection, List<String> sessions) {}

    private List<String> rowsOf(String connectionId) {
        List<String> sks = new ArrayList<>();
        ddb.queryPaginator(q -> q.tableName(table)
                        .consistentRead(true)
                        .keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(Keys.conn(connectionId)))))
                .items()
                .forEach(i -> sks.add(Attrs.str(i, Attrs.SK)));
        return sks;
    }

    private long expiry() {
        return clock.millis() / 1000 + ROW_TTL.toSeconds();
    }
}
