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

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final SessionStore sessions;
    private final Budgets budgets;
    private final Clock clock;

    public PresenceStore(DynamoDbClient ddb, TableNames tables, SessionStore sessions, Budgets budgets, Clock clock) {
        this.ddb = ddb;
        this.tables = tables;
        this.sessions = sessions;
        this.budgets = budgets;
        this.clock = clock;
    }

    public record Member(String memberId, String principal, String role, String label, String surface) {}

    /**
     * The member is attached through {@code connectionId}. A new member is announced with
     * {@code presence.joined}, only in a session that exists (a subscriber cannot create one) and
     * within the principal's budget of announcements ({@code joinsPerMinute}, 0 = no limit), so
     * viewers cannot grow a log by reconnecting. Returns the announcement's {@code Appended}, or null
     * when nothing was appended (a member already present, taken over; no log yet; the budget spent).
     */
    public AppendResult attach(String sessionId, Member m, String connectionId, int joinsPerMinute) {
        if (takeOver(sessionId, m.memberId(), connectionId)) return null;
        if (joinsPerMinute > 0 && !budgets.take(Budgets.presenceJoins(m.principal(), joinsPerMinute), 1)) {
            return null;
        }
        String sk = Keys.presence(m.memberId());
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(sk));
        item.put("connectionId", s(connectionId));
        item.put("principal", s(m.principal()));
        TransactWriteItem put = Expression.NEW_ROW.put(tables.sessions(), item);
        ObjectNode data = Json.object()
                .put("memberId", m.memberId())
                .put("principal", m.principal())
                .put("role", m.role())
                .put("label", m.label())
                .put("surface", m.surface());
        AppendResult r = sessions.appendWith(sessionId, EventType.PRESENCE_JOINED, m.principal(), data, put, true);
        if (r instanceof AppendResult.Appended) return r;
        if (r instanceof AppendResult.PreconditionFailed)
            takeOver(sessionId, m.memberId(), connectionId); // announced meanwhile
        return null;
    }

    /** An existing member continues on this connection, and any pending leave is cancelled. */
    private boolean takeOver(String sessionId, String memberId, String connectionId) {
        Update u = new Update(
                tables.sessions(), Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.presence(memberId))));
        u.set(u.name("connectionId"), s(connectionId))
                .remove(u.name(Attrs.DUE_SHARD))
                .remove(u.name(Attrs.DUE_AT));
        u.condition("attribute_exists(" + u.name(Attrs.SK) + ")");
        try {
            ddb.updateItem(u.request());
            return true;
        } catch (ConditionalCheckFailedException notAMember) {
            return false;
        }
    }

    /** The connection is gone: the member leaves after the grace period unless it comes back. */
    public void detach(String sessionId, String memberId, String connectionId) {
        String sk = Keys.presence(memberId);
        long due = clock.millis() + sessions.settings().presenceGrace().toMillis();
        try {
            ddb.updateItem(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk)))
                    .updateExpression("SET #shard = :shard, #due = :due REMOVE connectionId")
                    .conditionExpression("connectionId = :c")
                    .expressionAttributeNames(Map.of("#shard", Attrs.DUE_SHARD, "#due", Attrs.DUE_AT))
                    .expressionAttributeValues(
                            Map.of(":c", s(connectionId), ":due", n(due), ":shard", s(Keys.dueShard(sessionId, sk)))));
        } catch (ConditionalCheckFailedException alreadyElsewhere) {
            // the member re-attached on another connection first (or never was here): nothing to do
        }
    }

    /** The sweeper: the grace period read as {@code dueAt} has passed; announce the leave. */
    public AppendResult expire(String sessionId, String memberId, long dueAt) {
        TransactWriteItem delete = TransactWriteItem.builder()
                .delete(d -> d.tableName(tables.sessions())
                        .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.presence(memberId))))
                        .conditionExpression("#due = :due AND attribute_not_exists(connectionId)")
                        .expressionAttributeNames(Map.of("#due", Attrs.DUE_AT))
                        .expressionAttributeValues(Map.of(":due", n(dueAt))))
                .build();
        return sessions.appendWith(
                sessionId,
                EventType.PRESENCE_LEFT,
                SessionStore.SERVICE,
                Json.object().put("memberId", memberId),
                delete,
                false);
    }
}
