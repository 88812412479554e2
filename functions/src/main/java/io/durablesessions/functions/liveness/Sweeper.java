package io.durablesessions.functions.liveness;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.AppendResult;
import io.durablesessions.functions.retention.SessionEraser;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.Keys;
import io.durablesessions.functions.store.TableNames;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.Map;
import java.util.logging.Logger;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Acts on every deadline that has passed, found with one Query per shard of the sparse due
 * index (never a Scan): a run whose agent stopped heartbeating is failed, a stop nobody
 * acknowledged becomes stopped, a member whose grace period ran out has left, a session whose
 * retention ran out is erased. Each write is conditioned on the deadline it read, so a heartbeat
 * or a reconnect that arrives first wins.
 */
public final class Sweeper {
    private static final Logger LOG = Logger.getLogger(Sweeper.class.getName());

    private final Services services;
    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final SessionEraser eraser;

    public Sweeper(Services services) {
        this.services = services;
        this.ddb = services.dynamo();
        this.tables = services.tables();
        this.eraser = new SessionEraser(services);
    }

    /** Returns how many deadlines it acted on. */
    public int sweep() {
        Span span = services.tracing().handler("sweep", "sweep", null, null);
        try (Scope ignored = span.makeCurrent()) {
            int acted = sweepTraced();
            span.setAttribute(Tracing.EVENTS, (long) acted).setAttribute(Tracing.OUTCOME, "ok");
            return acted;
        } finally {
            span.end();
        }
    }

    private int sweepTraced() {
        long now = services.clock().millis();
        int acted = 0;
        for (int shard = 0; shard < Keys.DUE_SHARDS; shard++) {
            String key = Keys.dueShard(shard);
            for (Map<String, AttributeValue> row : ddb.queryPaginator(q -> q.tableName(tables.sessions())
                            .indexName(Attrs.DUE_INDEX)
                            .keyConditionExpression("#shard = :shard AND #due <= :now")
                            .expressionAttributeNames(Map.of("#shard", Attrs.DUE_SHARD, "#due", Attrs.DUE_AT))
                            .expressionAttributeValues(Map.of(":shard", s(key), ":now", n(now))))
                    .items()) {
                try {
                    acted += act(row);
                } catch (RuntimeException e) {
                    LOG.warning("sweeping one deadline failed; next sweep retries it: " + e);
                }
            }
        }
        return acted;
    }

    private int act(Map<String, AttributeValue> row) {
        String sessionId = Attrs.str(row, Attrs.SESSION_ID);
        String sk = Attrs.str(row, Attrs.SK);
        long dueAt = Attrs.num(row, Attrs.DUE_AT, 0);
        if (sk.startsWith(Keys.RUN)) {
            return services.sessions().expireRun(sessionId, sk.substring(Keys.RUN.length()), dueAt)
                            instanceof AppendResult.Appended
                    ? 1
                    : 0;
        }
        if (sk.startsWith(Keys.PRESENCE)) {
            return services.presence().expire(sessionId, sk.substring(Keys.PRESENCE.length()), dueAt)
                            instanceof AppendResult.Appended
                    ? 1
                    : 0;
        }
        if (sk.equals(Keys.SESSION)) {
            return eraser.eraseIfExpired(sessionId) ? 1 : 0;
        }
        return 0;
    }
}
