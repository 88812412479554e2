package io.durablesessions.functions.runtime;

import io.durablesessions.functions.auth.RevocationStore;
import io.durablesessions.functions.store.ConnectionStore;
import io.durablesessions.functions.store.PresenceStore;
import io.durablesessions.functions.store.SessionStore;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.functions.store.TableNames;
import java.net.URI;
import java.time.Clock;
import java.util.Map;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Everything a handler needs, built once per Lambda container (or once for the whole local
 * stack) and passed to handlers by constructor: no global state, no lazy initialisation.
 */
public record Services(SessionStore sessions, ConnectionStore connections, PresenceStore presence,
                       RevocationStore revocations, Sender sender, Clock clock, DynamoDbClient dynamo, TableNames tables,
                       Limits limits) {

    /** Abuse limits per connection. */
    public record Limits(int messagesPerSecond) {
        public static final Limits DEFAULTS = new Limits(500);

        public static Limits fromEnvironment(Map<String, String> env) {
            String v = env.get("RATE_LIMIT_PER_SECOND");
            return v == null ? DEFAULTS : new Limits(Integer.parseInt(v));
        }
    }

    /** Catch-up events sent per subscribe before the client is told to continue (bounds the invocation). */
    public static final int MAX_CATCH_UP_EVENTS = 20_000;

    /** Lambda: table names, region and the management endpoint come from the environment CDK sets. */
    public static Services fromEnvironment() {
        Map<String, String> env = System.getenv();
        Region region = Region.of(env.getOrDefault("AWS_REGION", "us-east-1"));
        String endpoint = env.get("MANAGEMENT_ENDPOINT");
        if (endpoint == null) throw new IllegalStateException("MANAGEMENT_ENDPOINT is not set");
        DynamoDbClient ddb = Clients.dynamo(region, null);
        return create(ddb, TableNames.fromEnvironment(env), StoreSettings.fromEnvironment(env), Limits.fromEnvironment(env),
                new Sender(Clients.management(region, URI.create(endpoint), false)), Clock.systemUTC());
    }

    /** The local stack: loopback endpoints for DynamoDB and the management API. */
    public static Services local(URI dynamoEndpoint, URI managementEndpoint, TableNames tables,
                                 StoreSettings settings, Limits limits, Clock clock) {
        DynamoDbClient ddb = Clients.dynamo(Region.US_EAST_1, dynamoEndpoint);
        return create(ddb, tables, settings, limits,
                new Sender(Clients.management(Region.US_EAST_1, managementEndpoint, true)), clock);
    }

    public static Services create(DynamoDbClient ddb, TableNames tables, StoreSettings settings, Limits limits,
                                  Sender sender, Clock clock) {
        SessionStore sessions = new SessionStore(ddb, tables, clock, settings);
        return new Services(sessions, new ConnectionStore(ddb, tables, clock),
                new PresenceStore(ddb, tables, sessions, clock), new RevocationStore(ddb, tables, clock), sender, clock,
                ddb, tables, limits);
    }
}
