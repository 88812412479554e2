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
import io.durablesessions.functions.liveness.HeartbeatHandler;
import io.durablesessions.functions.publish.AppendHandler;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.Keys;
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
 * function     | ds-connections (writes: partitions)       | ds-sessions                                 | ds-events        | @connections
 * -------------+-------------------------------------------+---------------------------------------------+------------------+-------------
 * $connect     | PutItem (CONN#*)                          | -                                           | -                | -
 * $disconnect  | GetItem, Query, DeleteItem (CONN#*, SUB#*) | UpdateItem (presence leave deadline)       | -                | -
 * $default     | GetItem, BatchGetItem, Query              | BatchGetItem (ping: heads)                  | -                | -
 * append       | GetItem, BatchGetItem, Query, UpdateItem, | GetItem, UpdateItem, PutItem, DeleteItem,   | PutItem, Query   | POST, DELETE
 *              | DeleteItem (direct delivery)              | BatchGetItem, ConditionCheckItem            |                  | (direct delivery)
 * control      | as append                                 | as append, and Query (sub-runs)             | PutItem, Query   | POST, DELETE
 * heartbeat    | GetItem, BatchGetItem                     | GetItem, UpdateItem                         | -                | -
 * subscribe    | GetItem, BatchGetItem, Query, UpdateItem, | as append, and Query                        | PutItem, Query   | POST
 *              | PutItem, DeleteItem (CONN#*, SUB#*,       |                                             |                  |
 *              | SUBJECT#*)                                |                                             |                  |
 * unsubscribe  | GetItem, BatchGetItem, UpdateItem,        | -                                           | -                | -
 *              | DeleteItem (CONN#*, SUB#*)                |                                             |                  |
 * fan-out      | GetItem, Query, BatchGetItem, UpdateItem, | GetItem, UpdateItem (presence leave         | stream (below)   | POST, DELETE
 *              | DeleteItem (CONN#*, SUB#*)                | deadline, delivery mark)                    |                  |
 * sweeper      | Query, UpdateItem, BatchWriteItem         | Query on index due; GetItem, UpdateItem,    | PutItem, Query,  | POST
 *              | (CONN#*, SUB#*: retention erase)          | PutItem, DeleteItem, BatchGetItem; Query,   | BatchWriteItem   |
 *              |                                           | BatchWriteItem (retention erase)            |                  |
 * authorizer   | -                                         | -                                           | -                | -
 * http api     | GetItem, BatchGetItem, Query, UpdateItem, | as append, and Query, BatchWriteItem;       | PutItem, Query,  | POST, DELETE
 *              | PutItem, BatchWriteItem (CONN#*, SUB#*,   | Query on index byOwner                      | BatchGetItem,    |
 *              | REVOKED#*)                                |                                             | BatchWriteItem   |
 * </pre>
 *
 * Why. Every message on a WebSocket route ({@code WebSocketRoute}) takes the caller's principal
 * from the {@code $connect} authorizer's context (subscribe and $default still read the
 * {@code CONN#id/META} row: GetItem) and checks its token against the revocation rows
 * ({@code RevocationStore.revokedAmong}: BatchGetItem on connections, cached per container for a
 * few seconds); the per-connection rate limit is kept in the container's memory
 * ({@code RateLimiter}); only then does the feature run. {@code $default} receives only frames no other route matched (ping,
 * unknown actions, malformed JSON): ping passes those three checks, the others are refused before
 * any read; a ping's answer names the head seq of each session the connection subscribes to (Query
 * of its rows, BatchGetItem of their SESSION rows). An append (and control, and every service
 * event: presence, run.failed, run.stopped) reads the SESSION/PRODUCER/RUN rows (GetItem), commits
 * one transaction (Update SESSION head, Put the events, Put PRODUCER / a new RUN / an owner row
 * MSG#, TOOL# / a PRESENCE row, Update RUN, ConditionCheck a parent run or an owner row, Delete an
 * expired PRESENCE row) and may compact afterwards (Query the events above the watermark,
 * BatchGetItem the stored items, Put changed chunks, Delete surplus ones, Update the watermark).
 * Heartbeat updates the RUN row and reads it when refused. Subscribe registers in a transaction
 * (Update the META count, Put two rows), takes from the subject's read and presence budgets
 * ({@code SUBJECT#sub}), reads the log or the compacted state (Query, GetItem), posts catch-up
 * frames itself and attaches presence. Unsubscribe deletes two rows and updates the count in a
 * transaction. A 410 Gone (subscribe, fan-out), like {@code $disconnect}, removes the connection
 * ({@code Presence.connectionGone}: GetItem META, Query its rows, DeleteItem each) and schedules its
 * presence leave (UpdateItem on sessions). The fan-out re-checks grants, expiry and revocations
 * (BatchGetItem), removes subscriptions that lost their right (a transaction), DELETEs the
 * connection of an expired token, reads the events stream (DescribeStream, GetRecords,
 * GetShardIterator, ListStreams on the events table's stream) and sends failed batches to its SQS
 * queue (granted by {@link FanoutFunction}). The authorizers verify tokens offline (or against the
 * issuer's JWKS over HTTPS) and call no AWS API. The HTTP API function ({@code HttpApiHandler})
 * checks revocations (BatchGetItem) on connections (its per-caller rate limit is in memory),
 * appends and controls like the routes above, reads runs (Query) and control events
 * (BatchGetItem), lists an owner's sessions on the {@code byOwner} index (its cursor key is a row
 * of the sessions table), erases a session (Query and BatchWriteItem deletes on all three tables,
 * DeleteItem of the SESSION row last, a {@code session_deleted} frame POSTed to each subscriber)
 * and, for operators, writes revocation rows: the only function allowed the {@code REVOKED#*}
 * partitions ({@code dynamodb:LeadingKeys}), so no route function can forge or lift a revocation.
 */
public final class Permissions {
    private Permissions() {}

    /** Partitions of the connections table (see {@link DataAccess#connectionRows}). */
    static final String CONNECTION_ROWS = Keys.CONN + "*";

    static final String SUBSCRIBER_ROWS = Keys.SUB + "*";
    static final String SUBJECT_BUDGETS = Keys.SUBJECT + "*";
    static final String REVOCATION_ROWS = Keys.REVOKED + "#*";

    /**
     * What {@code WebSocketRoute} does for every message before dispatching it: read the connection
     * and the revocations (the rate limit is counted in the container's memory, not in a table).
     */
    private static DataAccess routeChecks() {
        return DataAccess.none().table(CONNECTIONS, "GetItem", "BatchGetItem");
    }

    /**
     * A route that appends (SessionStore's transaction and the compaction after it). A sub-run's
     * parent and a message's owner row outside a run are checked with ConditionCheck items.
     */
    private static DataAccess appendLike() {
        return routeChecks()
                .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "BatchGetItem", "ConditionCheckItem", "DeleteItem")
                .table(EVENTS, "PutItem", "Query");
    }

    /**
     * Direct delivery from the append path ({@code DirectDelivery}): the writer's answer and the new
     * events are POSTed to connections, the session's subscribers read (Query) and re-checked
     * (revocations: BatchGetItem; a subscription that lost its right is removed, an expired token's
     * connection DELETEd), a gone connection removed, and the session's delivery mark moved
     * (UpdateItem on its {@code DELIVERED} row).
     */
    private static DataAccess directDelivery(DataAccess access) {
        return connectionGone(access)
                .table(CONNECTIONS, "Query", "BatchGetItem", "DeleteItem", "UpdateItem")
                .table(SESSIONS, "UpdateItem")
                .connections("POST", "DELETE");
    }

    /** {@code Presence.connectionGone}: $disconnect and a 410 from PostToConnection. */
    private static DataAccess connectionGone(DataAccess access) {
        return access.table(CONNECTIONS, "GetItem", "Query", "DeleteItem")
                .table(SESSIONS, "UpdateItem")
                .connectionRows(CONNECTION_ROWS, SUBSCRIBER_ROWS);
    }

    /** Per WebSocket route handler class (the classes {@link Routes#ALL} names). */
    static final Map<Class<?>, DataAccess> ROUTES = Map.of(
            ConnectHandler.class,
                    DataAccess.none().table(CONNECTIONS, "PutItem").connectionRows(CONNECTION_ROWS),
            DisconnectHandler.class, connectionGone(DataAccess.none()),
            // ping answers with the heads of the connection's sessions: its rows (Query), their SESSION rows
            DefaultHandler.class, routeChecks().table(CONNECTIONS, "Query").table(SESSIONS, "BatchGetItem"),
            AppendHandler.class, directDelivery(appendLike()),
            ControlHandler.class, directDelivery(appendLike().table(SESSIONS, "Query")),
            HeartbeatHandler.class, routeChecks().table(SESSIONS, "GetItem", "UpdateItem"),
            // subscribe counts the subscription on its META row, takes from the subject's read and
            // presence budgets, reads the log (or the compacted items), posts catch-up frames itself
            SubscribeHandler.class,
                    connectionGone(appendLike())
                            .table(CONNECTIONS, "Query", "PutItem", "UpdateItem")
                            .table(SESSIONS, "Query")
                            .connectionRows(SUBSCRIBER_ROWS, SUBJECT_BUDGETS)
                            .connections("POST"),
            UnsubscribeHandler.class,
                    routeChecks()
                            .table(CONNECTIONS, "DeleteItem", "UpdateItem")
                            .connectionRows(CONNECTION_ROWS, SUBSCRIBER_ROWS));

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
        // a subscriber whose token expired loses its subscription (META count updated) and its connection
        // and reads and moves the session's delivery mark (what direct delivery brought already)
        return connectionGone(DataAccess.none())
                .table(CONNECTIONS, "Query", "BatchGetItem", "DeleteItem", "UpdateItem")
                .table(SESSIONS, "GetItem", "UpdateItem")
                .connections("POST", "DELETE");
    }

    /**
     * The sweeper Queries the sparse deadline index of the sessions table (no other index), appends,
     * and erases sessions whose retention ran out.
     */
    public static DataAccess sweeper() {
        return erase(DataAccess.none())
                .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem")
                .table(EVENTS, "PutItem", "Query")
                .index(SESSIONS, Attrs.DUE_INDEX, "Query");
    }

    /** {@code SessionCatalog.erase} and the notice to the session's subscribers before it. */
    private static DataAccess erase(DataAccess access) {
        return access.table(CONNECTIONS, "Query", "BatchWriteItem", "UpdateItem")
                .connectionRows(CONNECTION_ROWS, SUBSCRIBER_ROWS)
                .table(SESSIONS, "Query", "BatchWriteItem", "DeleteItem")
                .table(EVENTS, "Query", "BatchWriteItem")
                .connections("POST");
    }

    /** {@code HttpApiHandler}: every endpoint of the HTTP API. */
    public static DataAccess httpApi() {
        // the one function that writes revocations: POST /v1/admin/revocations (operators only)
        return directDelivery(erase(appendLike()))
                .table(CONNECTIONS, "PutItem")
                .connectionRows(REVOCATION_ROWS)
                .table(SESSIONS, "Query")
                .table(EVENTS, "BatchGetItem")
                .index(SESSIONS, Attrs.OWNER_INDEX, "Query");
    }

    /** The Cognito token trigger ({@code CognitoClaimsTrigger}) makes no AWS call: nothing beyond its log group. */
    public static DataAccess cognitoTrigger() {
        return DataAccess.none();
    }

    /** {@code ConnectAuthorizer} and {@code HttpAuthorizer} make no AWS call: nothing beyond their log groups. */
    public static DataAccess authorizer() {
        return DataAccess.none();
    }
}
