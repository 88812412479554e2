package io.durablesessions.infra;

import static io.durablesessions.functions.store.TableLayout.CONNECTIONS;
import static io.durablesessions.functions.store.TableLayout.EVENTS;
import static io.durablesessions.functions.store.TableLayout.SESSIONS;

import io.durablesessions.functions.connect.ConnectHandler;
import io.durablesessions.functions.connect.DisconnectHandler;
import io.durablesessions.functions.control.ControlHandler;
import io.durablesessions.functions.fanout.FanoutHandler;
import io.durablesessions.functions.gateway.DefaultHandler;
import io.durablesessions.functions.gateway.Routes;
import io.durablesessions.functions.publish.AppendHandler;
import io.durablesessions.functions.liveness.HeartbeatHandler;
import io.durablesessions.functions.store.TableLayout;
import io.durablesessions.functions.subscribe.SubscribeHandler;
import io.durablesessions.functions.subscribe.UnsubscribeHandler;
import java.util.Map;

/**
 * Least privilege, read off the handler code in {@code functions/} (the store classes name every
 * DynamoDB call). A transaction needs no action of its own: each of its items is authorized as the
 * matching single-item action (Put → PutItem, Update → UpdateItem, Delete → DeleteItem,
 * ConditionCheck → ConditionCheckItem) on the table it names.
 *
 * <pre>
 * function     | ds-connections                        | ds-sessions                                 | ds-events        | @connections
 * -------------+---------------------------------------+---------------------------------------------+------------------+-------------
 * $connect     | PutItem                               | -                                           | -                | -
 * $disconnect  | GetItem, Query, DeleteItem            | UpdateItem (presence leave deadline)        | -                | -
 * $default     | GetItem, BatchGetItem, UpdateItem,    | BatchGetItem (ping: heads)                  | -                | -
 *              | Query (ping: the connection's rows)   |                                             |                  |
 * append       | GetItem, BatchGetItem, UpdateItem     | GetItem, UpdateItem, PutItem, BatchGetItem  | PutItem, Query   | -
 * control      | GetItem, BatchGetItem, UpdateItem     | GetItem, UpdateItem, PutItem, BatchGetItem, | PutItem, Query   | -
 *              |                                       | Query (sub-runs of a cancelled run)         |                  |
 * heartbeat    | GetItem, BatchGetItem, UpdateItem     | GetItem, UpdateItem                         | -                | -
 * subscribe    | GetItem, BatchGetItem, UpdateItem,    | GetItem, UpdateItem, PutItem, BatchGetItem, | PutItem, Query   | POST
 *              | Query, ConditionCheckItem, PutItem,   | Query                                       |                  |
 *              | DeleteItem                            |                                             |                  |
 * unsubscribe  | GetItem, BatchGetItem, UpdateItem,    | -                                           | -                | -
 *              | DeleteItem                            |                                             |                  |
 * fan-out      | GetItem, Query, BatchGetItem,         | UpdateItem (presence leave deadline)        | stream (below)   | POST
 *              | DeleteItem                            |                                             |                  |
 * sweeper      | Query, BatchWriteItem (retention erase) | Query on index due; GetItem, UpdateItem,  | PutItem, Query,  | POST
 *              |                                       | PutItem, DeleteItem, BatchGetItem; Query,   | BatchWriteItem   |
 *              |                                       | BatchWriteItem (retention erase)            |                  |
 * authorizer   | -                                     | -                                           | -                | -
 * http api     | GetItem, BatchGetItem, UpdateItem,    | GetItem, UpdateItem, PutItem, BatchGetItem, | PutItem, Query,  | POST
 *              | Query, BatchWriteItem                 | Query, DeleteItem, BatchWriteItem;          | BatchGetItem,    |
 *              |                                       | Query on index byOwner                      | BatchWriteItem   |
 * </pre>
 *
 * Why. Every message on a WebSocket route ({@code WebSocketRoute}) first reads the caller's
 * {@code CONN#id/META} row (GetItem), checks its token against the revocation rows
 * ({@code RevocationStore.revokedAmong}: BatchGetItem on connections) and counts it against the
 * per-connection rate limit ({@code ConnectionStore.admit}: UpdateItem on connections); only then
 * does the feature run. {@code $default} receives only frames no other route matched (ping,
 * unknown actions, malformed JSON): ping passes those three checks, the others are refused before
 * any read; a ping's answer names the head seq of each session the connection
 * subscribes to (Query of its rows, BatchGetItem of their SESSION rows). An append (and control, and every service event: presence, run.failed, run.stopped)
 * reads the SESSION/PRODUCER/RUN rows (GetItem), commits one transaction (Update SESSION head, Put
 * the events, Put PRODUCER / a new RUN / a PRESENCE row, Update RUN, Delete an expired PRESENCE row)
 * and may compact afterwards (Query the events above the watermark, BatchGetItem the stored items,
 * Put items, Update the watermark). Heartbeat updates the RUN row and reads it when refused.
 * Subscribe counts the connection's rows (Query), registers in a transaction (ConditionCheck META,
 * Put two rows), reads the log or the compacted state (Query, GetItem), posts catch-up frames
 * itself and attaches presence (an append with a PRESENCE Put, or UpdateItem when already
 * present). Unsubscribe deletes two rows in a transaction. A 410 Gone (subscribe, fan-out), like
 * {@code $disconnect}, removes the connection ({@code Presence.connectionGone}: GetItem META, Query
 * its rows, DeleteItem each) and schedules its presence leave (UpdateItem on sessions). The fan-out
 * re-checks grants and revocations (BatchGetItem), removes subscriptions that lost their grant
 * (a transaction of two Deletes), reads the events stream (DescribeStream, GetRecords,
 * GetShardIterator, ListStreams on the events table's stream) and sends failed batches to its SQS
 * queue (granted by {@link FanoutFunction}). The authorizer verifies tokens offline (or against the
 * issuer's JWKS over HTTPS) and calls no AWS API (both the {@code $connect} and the HTTP API's).
 * The HTTP API function ({@code HttpApiHandler}) checks revocations (BatchGetItem) and a per-caller
 * rate limit (UpdateItem) on connections, appends and controls like the routes above, reads runs
 * (Query) and control events (BatchGetItem), lists an owner's sessions on the {@code byOwner}
 * index, and erases a session: Query and BatchWriteItem deletes on all three tables, DeleteItem of
 * the SESSION row last, and a {@code session_deleted} frame POSTed to each subscriber found by a
 * Query on connections. Nobody calls DELETE or GET on
 * {@code @connections}, and nobody writes revocations (an operator does), so no function may.
 */
public final class Permissions {
    private Permissions() {}

    /** What {@code WebSocketRoute} does for every message before dispatching it. */
    private static DataAccess routeChecks() {
        return DataAccess.none().table(CONNECTIONS, "GetItem", "BatchGetItem", "UpdateItem");
    }

    /** A route that appends (SessionStore's transaction and the compaction after it). */
    private static DataAccess appendLike() {
        return routeChecks()
                .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "BatchGetItem")
                .table(EVENTS, "PutItem", "Query");
    }

    /** {@code Presence.connectionGone}: $disconnect and a 410 from PostToConnection. */
    private static DataAccess connectionGone(DataAccess access) {
        return access.table(CONNECTIONS, "GetItem", "Query", "DeleteItem").table(SESSIONS, "UpdateItem");
    }

    /** Per WebSocket route handler class (the classes {@link Routes#ALL} names). */
    static final Map<Class<?>, DataAccess> ROUTES = Map.of(
            ConnectHandler.class, DataAccess.none().table(CONNECTIONS, "PutItem"),
            DisconnectHandler.class, connectionGone(DataAccess.none()),
            // ping answers with the heads of the connection's sessions: its rows (Query), their SESSION rows
            DefaultHandler.class, routeChecks().table(CONNECTIONS, "Query").table(SESSIONS, "BatchGetItem"),
            AppendHandler.class, appendLike(),
            ControlHandler.class, appendLike().table(SESSIONS, "Query"),
            HeartbeatHandler.class, routeChecks().table(SESSIONS, "GetItem", "UpdateItem"),
            SubscribeHandler.class, connectionGone(appendLike())
                    .table(CONNECTIONS, "Query", "ConditionCheckItem", "PutItem")
                    .table(SESSIONS, "Query")
                    .connections("POST"),
            UnsubscribeHandler.class, routeChecks().table(CONNECTIONS, "DeleteItem"));

    /** The access of a route's handler; a route nobody has reviewed fails the synth. */
    public static DataAccess forRoute(Routes.Route route) {
        DataAccess access = ROUTES.get(route.handlerClass());
        if (access == null) {
            throw new IllegalStateException("no IAM access declared for route " + route.key() + " ("
                    + route.handlerClass().getName() + "): add it to " + Permissions.class.getName()
                    + " after reading what the handler calls");
        }
        return access;
    }

    /** {@link FanoutHandler}; stream read and the on-failure queue are granted by {@link FanoutFunction}. */
    public static DataAccess fanout() {
        return connectionGone(DataAccess.none())
                .table(CONNECTIONS, "Query", "BatchGetItem", "DeleteItem")
                .connections("POST");
    }

    /**
     * The sweeper Queries the sparse deadline index of the sessions table (no other index), appends,
     * and erases sessions whose retention ran out.
     */
    public static DataAccess sweeper() {
        return erase(DataAccess.none())
                .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem")
                .table(EVENTS, "PutItem", "Query")
                .index(SESSIONS, io.durablesessions.functions.store.Attrs.DUE_INDEX, "Query");
    }

    /** {@code SessionCatalog.erase} and the notice to the session's subscribers before it. */
    private static DataAccess erase(DataAccess access) {
        return access.table(CONNECTIONS, "Query", "BatchWriteItem")
                .table(SESSIONS, "Query", "BatchWriteItem", "DeleteItem")
                .table(EVENTS, "Query", "BatchWriteItem")
                .connections("POST");
    }

    /** {@code HttpApiHandler}: every endpoint of the HTTP API. */
    public static DataAccess httpApi() {
        return erase(appendLike())
                .table(SESSIONS, "Query")
                .table(EVENTS, "BatchGetItem")
                .index(SESSIONS, io.durablesessions.functions.store.Attrs.OWNER_INDEX, "Query");
    }

    /** {@code ConnectAuthorizer} and {@code HttpAuthorizer} make no AWS call: nothing beyond their log groups. */
    public static DataAccess authorizer() {
        return DataAccess.none();
    }
}
