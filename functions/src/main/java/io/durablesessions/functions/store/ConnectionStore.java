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
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * Connections and subscriptions. Items: {@code CONN#id / META} (who is connected),
 * {@code CONN#id / SUB#session} (what it subscribed, to clean up) and {@code SUB#session / id}
 * (who to fan a session out to: one Query, never a Scan). Every row carries a TTL a little past
 * API Gateway's 2-hour connection cap, because {@code $disconnect} is best effort.
 */
public final class ConnectionStore {
    static final String CONN = "CONN#";
    static final String SUB = "SUB#";
    static final String META = "META";
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
    public record Connection(String connectionId, Principal identity, String label, String surface,
                             String instance, long connectedAt) {
        /** The writer id of everything this connection appends (the token's subject). */
        public String principal() {
            return identity.subject();
        }

        public String role() {
            return identity.role();
        }

        /** One member of a session's presence: this principal on this client instance. */
        public String memberId() {
            return principal() + ":" + instance;
        }
    }

    /**
     * A subscriber of a session with the identity it subscribed under (re-checked at fan-out);
     * {@code controlOnly} for an agent listening for stop/steer only.
     */
    public record Subscriber(String connectionId, Principal identity, boolean controlOnly) {}

    public void register(Connection c) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.PK, s(CONN + c.connectionId()));
        item.put(Attrs.SK, s(META));
        item.put("principal", s(c.identity().toJson()));
        if (c.label() != null) item.put("label", s(c.label()));
        if (c.surface() != null) item.put("surface", s(c.surface()));
        item.put("instance", s(c.instance()));
        item.put("connectedAt", n(c.connectedAt()));
        item.put(Attrs.EXPIRES_AT, n(expiry()));
        ddb.putItem(p -> p.tableName(table).item(item));
    }

    public Connection get(String connectionId) {
        var r = ddb.getItem(g -> g.tableName(table).consistentRead(true)
                .key(Map.of(Attrs.PK, s(CONN + connectionId), Attrs.SK, s(META))));
        if (!r.hasItem() || r.item().isEmpty()) return null;
        var i = r.item();
        if (Attrs.num(i, Attrs.EXPIRES_AT, Long.MAX_VALUE) < clock.millis() / 1000) return null; // TTL is lazy
        return new Connection(connectionId, Principal.fromJson(Attrs.str(i, "principal")), Attrs.str(i, "label"),
                Attrs.str(i, "surface"), Attrs.str(i, "instance"), Attrs.num(i, "connectedAt", 0));
    }

    /** Registers the subscription; idempotent. Returns false if the connection is not registered. */
    public boolean subscribe(String connectionId, String sessionId, Principal principal, boolean controlOnly) {
        long exp = expiry();
        List<TransactWriteItem> tx = List.of(
                TransactWriteItem.builder().conditionCheck(c -> c.tableName(table)
                        .key(Map.of(Attrs.PK, s(CONN + connectionId), Attrs.SK, s(META)))
                        .conditionExpression("attribute_exists(pk)")).build(),
                TransactWriteItem.builder().put(p -> p.tableName(table).item(Map.of(
                        Attrs.PK, s(SUB + sessionId), Attrs.SK, s(connectionId), "principal", s(principal.toJson()),
                        "controlOnly", AttributeValue.fromBool(controlOnly), Attrs.EXPIRES_AT, n(exp)))).build(),
                TransactWriteItem.builder().put(p -> p.tableName(table).item(Map.of(
                        Attrs.PK, s(CONN + connectionId), Attrs.SK, s(SUB + sessionId), Attrs.EXPIRES_AT, n(exp))))
                        .build());
        try {
            ddb.transactWriteItems(r -> r.transactItems(tx));
            return true;
        } catch (software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException e) {
            return false;
        }
    }

    public boolean isSubscribed(String connectionId, String sessionId) {
        var r = ddb.getItem(g -> g.tableName(table).consistentRead(true)
                .key(Map.of(Attrs.PK, s(CONN + connectionId), Attrs.SK, s(SUB + sessionId))));
        return r.hasItem() && !r.item().isEmpty();
    }

    public void unsubscribe(String connectionId, String sessionId) {
        ddb.transactWriteItems(r -> r.transactItems(
                TransactWriteItem.builder().delete(d -> d.tableName(table)
                        .key(Map.of(Attrs.PK, s(SUB + sessionId), Attrs.SK, s(connectionId)))).build(),
                TransactWriteItem.builder().delete(d -> d.tableName(table)
                        .key(Map.of(Attrs.PK, s(CONN + connectionId), Attrs.SK, s(SUB + sessionId)))).build()));
    }

    /**
     * Counts one message of the connection in the current one-second window; false when the
     * window already holds {@code limit} messages. One conditional write, no read.
     */
    public boolean admit(String connectionId, int limit) {
        if (limit <= 0) return true;
        long window = clock.millis() / 1000;
        var key = Map.of(Attrs.PK, s(CONN + connectionId), Attrs.SK, s("RATE"));
        try {
            ddb.updateItem(u -> u.tableName(table).key(key).updateExpression("ADD msgs :one")
                    .conditionExpression("win = :w AND msgs < :limit")
                    .expressionAttributeValues(Map.of(":one", n(1), ":w", n(window), ":limit", n(limit))));
            return true;
        } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException sameWindowFullOrNew) {
            try {
                ddb.updateItem(u -> u.tableName(table).key(key).updateExpression("SET win = :w, msgs = :one, #exp = :exp")
                        .conditionExpression("attribute_not_exists(win) OR win < :w")
                        .expressionAttributeNames(Map.of("#exp", Attrs.EXPIRES_AT))
                        .expressionAttributeValues(Map.of(":one", n(1), ":w", n(window), ":exp", n(expiry()))));
                return true;
            } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException full) {
                return false;
            }
        }
    }

    /** The sessions the connection subscribes to. */
    public List<String> subscribedSessions(String connectionId) {
        return rowsOf(connectionId).stream().filter(sk -> sk.startsWith(SUB)).map(sk -> sk.substring(SUB.length())).toList();
    }

    /** Number of sessions the connection subscribes to (a bound against subscribe floods). */
    public int subscriptionCount(String connectionId) {
        return (int) rowsOf(connectionId).stream().filter(sk -> sk.startsWith(SUB)).count();
    }

    /** The subscribers of a session: one paged Query on its partition. */
    public List<Subscriber> subscribers(String sessionId) {
        List<Subscriber> ids = new ArrayList<>();
        long now = clock.millis() / 1000;
        for (var item : ddb.queryPaginator(q -> q.tableName(table).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s(SUB + sessionId)))).items()) {
            if (Attrs.num(item, Attrs.EXPIRES_AT, Long.MAX_VALUE) >= now) {
                AttributeValue c = item.get("controlOnly");
                ids.add(new Subscriber(Attrs.str(item, Attrs.SK), Principal.fromJson(Attrs.str(item, "principal")),
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
            if (sk.startsWith(SUB)) {
                String sessionId = sk.substring(SUB.length());
                sessions.add(sessionId);
                ddb.deleteItem(d -> d.tableName(table).key(Map.of(Attrs.PK, s(SUB + sessionId), Attrs.SK, s(connectionId))));
            }
            ddb.deleteItem(d -> d.tableName(table).key(Map.of(Attrs.PK, s(CONN + connectionId), Attrs.SK, s(sk))));
        }
        return who == null ? null : new Removed(who, sessions);
    }

    public record Removed(Connection connection, List<String> sessions) {}

    private List<String> rowsOf(String connectionId) {
        List<String> sks = new ArrayList<>();
        ddb.queryPaginator(q -> q.tableName(table).consistentRead(true).keyConditionExpression("pk = :pk")
                        .expressionAttributeValues(Map.of(":pk", s(CONN + connectionId))))
                .items().forEach(i -> sks.add(Attrs.str(i, Attrs.SK)));
        return sks;
    }

    private long expiry() {
        return clock.millis() / 1000 + ROW_TTL.toSeconds();
    }
}
