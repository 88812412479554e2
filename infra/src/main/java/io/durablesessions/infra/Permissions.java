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
 * ConditionCheck → ConditionCheckItem).
 *
 * <pre>
 * function     | ds-connections                        | ds-sessions                                 | ds-events        | @connections
 * -------------+---------------------------------------+---------------------------------------------+------------------+-------------
 * $connect     | PutItem                               | -                                           | -                | -
 * $disconnect  | Query, DeleteItem                     | UpdateItem (presence leave deadline)        | -                | -
 * $default     | GetItem                               | -                                           | -                | -
 * append       | GetItem                               | GetItem, UpdateItem, PutItem, BatchGetItem  | PutItem, Query   | -
 * control      | GetItem                               | GetItem, UpdateItem, PutItem, BatchGetItem, | PutItem, Query   | -
 *              |                                       | Query (sub-runs of a cancelled run)         |                  |
 * heartbeat    | GetItem                               | GetItem, UpdateItem                         | -                | -
 * subscribe    | GetItem, Query, ConditionCheckItem,   | GetItem, UpdateItem, PutItem, BatchGetItem, | PutItem, Query   | POST
 *              | PutItem, DeleteItem                   | Query                                       |                  |
 * unsubscribe  | GetItem, DeleteItem                   | -                                           | -                | -
 * fan-out      | Query, DeleteItem                     | UpdateItem (presence leave deadline)        | stream (below)   | POST
 * sweeper      | -                                     | Query on index due; GetItem, UpdateItem,    | PutItem, Query   | -
 *              |                                       | PutItem, DeleteItem, BatchGetItem           |                  |
 * authorizer   | -                                     | -                                           | -                | -
 * </pre>
 *
 * Why: an append (and control, and every service event: presence, run.failed, run.stopped) reads
 * the SESSION/PRODUCER/RUN rows (GetItem), commits one transaction (Update SESSION head, Put the
 * events, Put PRODUCER / a new RUN / a PRESENCE row, Update RUN, Delete an expired PRESENCE row) and
 * may compact afterwards (Query the events above the watermark, BatchGetItem the stored items, Put
 * items, Update the watermark). {@code $default} receives only frames no other route matched (ping,
 * unknown actions, malformed JSON), so it needs the caller lookup alone. Subscribe registers in a
 * transaction (ConditionCheck META, Put two rows), attaches presence (an append, or UpdateItem when
 * already present), reads the log or the compacted state (Query, GetItem) and posts catch-up frames
 * itself. A 410 Gone, like {@code $disconnect}, removes the connection (Query its rows, DeleteItem
 * each) and schedules its presence leave (UpdateItem). The fan-out also reads the events stream
 * (DescribeStream, GetRecords, GetShardIterator, ListStreams on the events table's stream) and
 * sends failed batches to its SQS queue (granted by {@link FanoutFunction}). Nobody calls DELETE or
 * GET on {@code @connections}, so no function may.
 */
public final class Permissions {
    private Permissions() {}

    private static DataAccess appendLike() {
        return DataAccess.none()
                .table(CONNECTIONS, "GetItem")
                .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "BatchGetItem")
                .table(EVENTS, "PutItem", "Query");
    }

    /** Per WebSocket route handler class (the classes {@link Routes#ALL} names). */
    static final Map<Class<?>, DataAccess> ROUTES = Map.of(
            ConnectHandler.class, DataAccess.none().table(CONNECTIONS, "PutItem"),
            DisconnectHandler.class, DataAccess.none()
                    .table(CONNECTIONS, "Query", "DeleteItem")
                    .table(SESSIONS, "UpdateItem"),
            DefaultHandler.class, DataAccess.none().table(CONNECTIONS, "GetItem"),
            AppendHandler.class, appendLike(),
            ControlHandler.class, appendLike().table(SESSIONS, "Query"),
            HeartbeatHandler.class, DataAccess.none()
                    .table(CONNECTIONS, "GetItem")
                    .table(SESSIONS, "GetItem", "UpdateItem"),
            SubscribeHandler.class, DataAccess.none()
                    .table(CONNECTIONS, "GetItem", "Query", "ConditionCheckItem", "PutItem", "DeleteItem")
                    .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "BatchGetItem", "Query")
                    .table(EVENTS, "PutItem", "Query")
                    .connections("POST"),
            UnsubscribeHandler.class, DataAccess.none().table(CONNECTIONS, "GetItem", "DeleteItem"));

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
        return DataAccess.none()
                .table(CONNECTIONS, "Query", "DeleteItem")
                .table(SESSIONS, "UpdateItem")
                .connections("POST");
    }

    /** The sweeper Queries every index of the sessions table (the sparse deadline index) and appends. */
    public static DataAccess sweeper() {
        DataAccess access = DataAccess.none()
                .table(SESSIONS, "GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem")
                .table(EVENTS, "PutItem", "Query");
        for (TableLayout.Index index : SESSIONS.indexes()) access.index(SESSIONS, index.name(), "Query");
        return access;
    }

    public static DataAccess authorizer() {
        return DataAccess.none();
    }
}
