package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * Sessions as resources (the HTTP API): create a SESSION row with its owner and metadata, describe
 * it, list an owner's sessions through the sparse owner index, erase a session from all three
 * tables, and the per-run control bookkeeping an agent that only POSTs needs
 * ({@code controlSeqs}, {@code controlAckSeq} on the RUN row). Only Queries and key reads.
 */
public final class SessionCatalog {
    private static final int BATCH = 25;

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final Clock clock;

    public SessionCatalog(DynamoDbClient ddb, TableNames tables, Clock clock) {
        this.ddb = ddb;
        this.tables = tables;
        this.clock = clock;
    }

    /** The SESSION row as a resource; {@code metadataJson} is the JSON text given at creation. */
    public record SessionInfo(
            String sessionId,
            String owner,
            String title,
            String metadataJson,
            Long createdAt,
            Long expiresAt,
            long head) {
        static SessionInfo of(Map<String, AttributeValue> r) {
            return new SessionInfo(
                    Attrs.str(r, Attrs.SESSION_ID),
                    Attrs.str(r, Attrs.OWNER),
                    Attrs.str(r, SessionRow.TITLE),
                    Attrs.str(r, SessionRow.METADATA),
                    Attrs.num(r, Attrs.CREATED_AT),
                    Attrs.num(r, SessionRow.RETAIN_UNTIL),
                    Attrs.num(r, SessionRow.HEAD, 0));
        }
    }

    /** Creates the SESSION row (head 0) unless the session exists; false when it does. */
    public boolean create(String sessionId, String owner, String title, String metadataJson, Long expiresAtSeconds) {
        long now = clock.millis();
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(Keys.SESSION));
        item.put(SessionRow.HEAD, n(0));
        item.put(Attrs.OWNER, s(owner));
        item.put(Attrs.CREATED_AT, n(now));
        item.put(SessionRow.UPDATED_AT, n(now));
        if (title != null) item.put(SessionRow.TITLE, s(title));
        if (metadataJson != null) item.put(SessionRow.METADATA, s(metadataJson));
        if (expiresAtSeconds != null) {
            // a deadline for the sweeper, not a TTL: TTL would drop only this row (and late), the sweeper
            // erases the whole session, events and subscriptions included, within a minute
            item.put(SessionRow.RETAIN_UNTIL, n(expiresAtSeconds));
            item.put(Attrs.DUE_SHARD, s(Keys.dueShard(sessionId, Keys.SESSION)));
            item.put(Attrs.DUE_AT, n(expiresAtSeconds * 1000));
        }
        try {
            ddb.putItem(Expression.NEW_ROW.putRequest(tables.sessions(), item));
        } catch (ConditionalCheckFailedException exists) {
            return false;
        }
        // its delivery mark row (DeliveryMarks): without it the session still works, with duplicates
        new DeliveryMarks(ddb, tables).create(sessionId, now);
        return true;
    }

    /** The SESSION row, or null when the session does not exist. */
    public SessionInfo describe(String sessionId) {
        var r = ddb.getItem(g -> g.tableName(tables.sessions())
                .consistentRead(true)
                .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.SESSION))));
        return r.hasItem() && !r.item().isEmpty() ? SessionInfo.of(r.item()) : null;
    }

    /** Members present (or within their grace period) in the session: one COUNT Query (paged). */
    public int presenceCount(String sessionId) {
        return ddb
                .queryPaginator(q -> q.tableName(tables.sessions())
                        .select(Select.COUNT)
                        .keyConditionExpression("#sid = :sid AND begins_with(#sk, :p)")
                        .expressionAttributeNames(Map.of("#sid", Attrs.SESSION_ID, "#sk", Attrs.SK))
                        .expressionAttributeValues(Map.of(":sid", s(sessionId), ":p", s(Keys.PRESENCE))))
                .stream()
                .mapToInt(QueryResponse::count)
                .sum();
    }

    /** One page of an owner's sessions, newest first; {@code next} is null on the last page. */
    public record OwnerPage(List<SessionInfo> sessions, Cursor next) {}

    /** Where the next page starts: the last session of this one. */
    public record Cursor(String sessionId, long createdAt) {}

    public OwnerPage listByOwner(String owner, int limit, Cursor after) {
        Map<String, AttributeValue> start = after == null
                ? null
                : Map.of(
                        Attrs.OWNER,
                        s(owner),
                        Attrs.CREATED_AT,
                        n(after.createdAt()),
                        Attrs.SESSION_ID,
                        s(after.sessionId()),
                        Attrs.SK,
                        s(Keys.SESSION));
        QueryResponse r = ddb.query(q -> q.tableName(tables.sessions())
                .indexName(Attrs.OWNER_INDEX)
                .keyConditionExpression("#o = :o")
                .expressionAttributeNames(Map.of("#o", Attrs.OWNER))
                .expressionAttributeValues(Map.of(":o", s(owner)))
                .scanIndexForward(false)
                .limit(limit)
                .exclusiveStartKey(start));
        List<SessionInfo> out = new ArrayList<>();
        r.items().forEach(i -> out.add(SessionInfo.of(i)));
        Cursor next = null;
        if (r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty()) {
            var k = r.lastEvaluatedKey();
            next = new Cursor(Attrs.str(k, Attrs.SESSION_ID), Attrs.num(k, Attrs.CREATED_AT, 0));
        }
        return new OwnerPage(out, next);
    }

    /** Partition of the deployment's own settings: '~' is not an id character, so no session can be named so. */
    static final String CONFIG_PARTITION = "~config";

    static final String LIST_CURSOR_KEY = "LIST_CURSOR_KEY";

    /**
     * The deployment's key for sealing list cursors: 32 random bytes, created by the first caller
     * that finds none (conditional put, so every container ends up with the same key) and kept in
     * the sessions table, where only the service's own functions read it.
     */
    public byte[] listCursorKey() {
        Map<String, AttributeValue> key = Map.of(Attrs.SESSION_ID, s(CONFIG_PARTITION), Attrs.SK, s(LIST_CURSOR_KEY));
        for (int attempt = 0; attempt < 3; attempt++) {
            var r = ddb.getItem(
                    g -> g.tableName(tables.sessions()).consistentRead(true).key(key));
            if (r.hasItem() && r.item().get("v") != null)
                return r.item().get("v").b().asByteArray();
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            Map<String, AttributeValue> item = new HashMap<>(key);
            item.put("v", AttributeValue.fromB(SdkBytes.fromByteArray(fresh)));
            try {
                ddb.putItem(Expression.NEW_ROW.putRequest(tables.sessions(), item));
                return fresh;
            } catch (ConditionalCheckFailedException anotherContainerWasFirst) {
                // read theirs
            }
        }
        throw new IllegalStateException("cannot read or create the list cursor key");
    }

    /** What an erase removed, per table. */
    public record Erased(int events, int sessionRows, int subscriptionRows) {}

    /**
     * Removes every item of the session: its subscriptions (both directions), its events and its
     * sessions-table rows (SESSION last, so a half-done erase is still visible and can be repeated).
     * Connections and other sessions are untouched.
     */
    public Erased erase(String sessionId) {
        int subs = 0;
        List<Map<String, AttributeValue>> connKeys = new ArrayList<>();
        for (var item : queryAll(
                tables.connections(),
                "#pk = :pk",
                Map.of("#pk", Attrs.PK),
                Map.of(":pk", s(Keys.sub(sessionId))),
                "#pk, #sk",
                Map.of("#sk", Attrs.SK))) {
            String connectionId = Attrs.str(item, Attrs.SK);
            connKeys.add(Map.of(Attrs.PK, s(Keys.sub(sessionId)), Attrs.SK, s(connectionId)));
            connKeys.add(Map.of(Attrs.PK, s(Keys.conn(connectionId)), Attrs.SK, s(Keys.sub(sessionId))));
            subs += 2;
        }
        deleteAll(tables.connections(), connKeys);
        for (int i = 1; i < connKeys.size(); i += 2) {
            // each connection gets its place back under the subscription cap (gone connections have no META)
            Update count = new Update(
                    tables.connections(), Map.of(Attrs.PK, connKeys.get(i).get(Attrs.PK), Attrs.SK, s(Keys.META)));
            count.add(count.name(ConnectionRow.SUBS), n(-1));
            count.condition("attribute_exists(" + count.name(ConnectionRow.SUBS) + ")");
            try {
                ddb.updateItem(count.request());
            } catch (ConditionalCheckFailedException gone) {
                // disconnected meanwhile
            }
        }

        List<Map<String, AttributeValue>> eventKeys = new ArrayList<>();
        int events = 0;
        for (var item : queryAll(
                tables.events(),
                "#sid = :sid",
                Map.of("#sid", Attrs.SESSION_ID),
                Map.of(":sid", s(sessionId)),
                "#sid, #seq",
                Map.of("#seq", Attrs.SEQ))) {
            eventKeys.add(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SEQ, item.get(Attrs.SEQ)));
            if (eventKeys.size() >= 1000) {
                events += eventKeys.size();
                deleteAll(tables.events(), eventKeys);
                eventKeys.clear();
            }
        }
        events += eventKeys.size();
        deleteAll(tables.events(), eventKeys);

        List<Map<String, AttributeValue>> rows = new ArrayList<>();
        for (var item : queryAll(
                tables.sessions(),
                "#sid = :sid",
                Map.of("#sid", Attrs.SESSION_ID),
                Map.of(":sid", s(sessionId)),
                "#sid, #sk",
                Map.of("#sk", Attrs.SK))) {
            if (!Keys.SESSION.equals(Attrs.str(item, Attrs.SK))) {
                rows.add(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, item.get(Attrs.SK)));
            }
        }
        deleteAll(tables.sessions(), rows);
        ddb.deleteItem(d ->
                d.tableName(tables.sessions()).key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.SESSION))));
        return new Erased(events, rows.size() + 1, subs);
    }

    /** A run's control bookkeeping: its row, the agent's acknowledged seq, the control seqs above it. */
    public record RunControl(RunRow run, long controlAckSeq, List<Long> pendingSeqs) {}

    /** One consistent read of the RUN row; null when the run does not exist. */
    public RunControl runControl(String sessionId, String runId) {
        var r = ddb.getItem(g -> g.tableName(tables.sessions())
                .consistentRead(true)
                .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.run(runId)))));
        if (!r.hasItem() || r.item().isEmpty()) return null;
        long ack = Attrs.num(r.item(), Attrs.CONTROL_ACK_SEQ, 0);
        TreeSet<Long> pending = new TreeSet<>();
        AttributeValue seqs = r.item().get(Attrs.CONTROL_SEQS);
        if (seqs != null && seqs.hasNs()) {
            for (String v : seqs.ns()) {
                long seq = Long.parseLong(v);
                if (seq > ack) pending.add(seq);
            }
        }
        return new RunControl(RunRow.of(r.item()), ack, List.copyOf(pending));
    }

    /** The stored events with these seqs, in seq order (a BatchGetItem per 100). */
    public List<StoredEvent> events(String sessionId, List<Long> seqs) {
        List<Map<String, AttributeValue>> keys = new ArrayList<>();
        for (Long seq : new TreeSet<>(seqs)) keys.add(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SEQ, n(seq)));
        List<StoredEvent> out = new ArrayList<>();
        for (var item : BatchReads.get(ddb, tables.events(), keys, true)) {
            out.add(new StoredEvent(Attrs.num(item, Attrs.SEQ, 0), Attrs.str(item, Attrs.EVENT_JSON)));
        }
        out.sort((a, b) -> Long.compare(a.seq(), b.seq()));
        return out;
    }

    /** Records that the run's agent acknowledged control up to {@code seq}; never moves backwards. */
    public void acknowledgeControl(String sessionId, String runId, long seq) {
        try {
            ddb.updateItem(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.run(runId))))
                    .updateExpression("SET #ack = :seq")
                    .conditionExpression("attribute_exists(sk) AND (attribute_not_exists(#ack) OR #ack < :seq)")
                    .expressionAttributeNames(Map.of("#ack", Attrs.CONTROL_ACK_SEQ))
                    .expressionAttributeValues(Map.of(":seq", n(seq))));
        } catch (ConditionalCheckFailedException alreadyAtOrAbove) {
            // idempotent: a retried or older acknowledgement changes nothing
        }
    }

    private List<Map<String, AttributeValue>> queryAll(
            String table,
            String keyCondition,
            Map<String, String> names,
            Map<String, AttributeValue> values,
            String projection,
            Map<String, String> moreNames) {
        Map<String, String> allNames = new HashMap<>(names);
        allNames.putAll(moreNames);
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        ddb.queryPaginator(q -> q.tableName(table)
                        .consistentRead(true)
                        .keyConditionExpression(keyCondition)
                        .expressionAttributeNames(allNames)
                        .expressionAttributeValues(values)
                        .projectionExpression(projection))
                .items()
                .forEach(out::add);
        return out;
    }

    /** BatchWriteItem deletes, 25 at a time, retrying what DynamoDB leaves unprocessed. */
    private void deleteAll(String table, List<Map<String, AttributeValue>> keys) {
        for (int i = 0; i < keys.size(); i += BATCH) {
            List<WriteRequest> writes = new ArrayList<>();
            for (var key : keys.subList(i, Math.min(keys.size(), i + BATCH))) {
                writes.add(WriteRequest.builder().deleteRequest(d -> d.key(key)).build());
            }
            Map<String, List<WriteRequest>> req = Map.of(table, writes);
            int attempt = 0;
            while (req != null && !req.isEmpty()) {
                Map<String, List<WriteRequest>> r0 = req;
                var r = ddb.batchWriteItem(b -> b.requestItems(r0));
                req = r.hasUnprocessedItems() && !r.unprocessedItems().isEmpty() ? r.unprocessedItems() : null;
                if (req != null) BatchReads.backoff(++attempt);
            }
        }
    }
}
