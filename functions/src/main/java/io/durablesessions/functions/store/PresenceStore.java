package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * Who is attached to a session. One {@code PRESENCE#<memberId>} row per member (a principal on one
 * client instance: a tab, a phone). Joining writes the row and {@code presence.joined} in one
 * transaction; a dropped connection only schedules the leave ({@code dueAt} = now + grace); the
 * member reconnecting within the grace period cancels it, so a reconnect does not flap; the
 * sweeper writes {@code presence.left} and deletes the row once the grace has passed.
 */
public final class PresenceStore {
    static final String PRESENCE_PREFIX = "PRESENCE#";

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final SessionStore sessions;
    private final Clock clock;

    public PresenceStore(DynamoDbClient ddb, TableNames tables, SessionStore sessions, Clock clock) {
        this.ddb = ddb;
        this.tables = tables;
        this.sessions = sessions;
        this.clock = clock;
    }

    public record Member(String memberId, String principal, String role, String label, String surface) {}

    /** The member is attached through {@code connectionId}; announces it unless it was already present. */
    public void attach(String sessionId, Member m, String connectionId) {
        String sk = PRESENCE_PREFIX + m.memberId();
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(sk));
        item.put("connectionId", s(connectionId));
        item.put("principal", s(m.principal()));
        TransactWriteItem put = TransactWriteItem.builder().put(p -> p.tableName(tables.sessions()).item(item)
                .conditionExpression("attribute_not_exists(sk)")).build();
        ObjectNode data = Json.object().put("memberId", m.memberId()).put("principal", m.principal())
                .put("role", m.role()).put("label", m.label()).put("surface", m.surface());
        AppendResult r = sessions.appendWith(sessionId, EventType.PRESENCE_JOINED, m.principal(), data, put);
        if (r instanceof AppendResult.PreconditionFailed) {
            // already present (a reconnect within the grace period, or a second subscribe): no event,
            // just take the member over on this connection and cancel any pending leave
            ddb.updateItem(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk)))
                    .updateExpression("SET connectionId = :c REMOVE #shard, #due")
                    .expressionAttributeNames(Map.of("#shard", Attrs.DUE_SHARD, "#due", Attrs.DUE_AT))
                    .expressionAttributeValues(Map.of(":c", s(connectionId))));
        }
    }

    /** The connection is gone: the member leaves after the grace period unless it comes back. */
    public void detach(String sessionId, String memberId, String connectionId) {
        String sk = PRESENCE_PREFIX + memberId;
        long due = clock.millis() + sessions.settings().presenceGrace().toMillis();
        try {
            ddb.updateItem(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk)))
                    .updateExpression("SET #shard = :shard, #due = :due REMOVE connectionId")
                    .conditionExpression("connectionId = :c")
                    .expressionAttributeNames(Map.of("#shard", Attrs.DUE_SHARD, "#due", Attrs.DUE_AT))
                    .expressionAttributeValues(Map.of(":c", s(connectionId), ":due", n(due),
                            ":shard", s(StoreSettings.dueShard(sessionId, sk)))));
        } catch (ConditionalCheckFailedException alreadyElsewhere) {
            // the member re-attached on another connection first (or never was here): nothing to do
        }
    }

    /** The sweeper: the grace period read as {@code dueAt} has passed; announce the leave. */
    public AppendResult expire(String sessionId, String memberId, long dueAt) {
        TransactWriteItem delete = TransactWriteItem.builder().delete(d -> d.tableName(tables.sessions())
                .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(PRESENCE_PREFIX + memberId)))
                .conditionExpression("#due = :due AND attribute_not_exists(connectionId)")
                .expressionAttributeNames(Map.of("#due", Attrs.DUE_AT))
                .expressionAttributeValues(Map.of(":due", n(dueAt)))).build();
        return sessions.appendWith(sessionId, EventType.PRESENCE_LEFT, "service",
                Json.object().put("memberId", memberId), delete);
    }
}
