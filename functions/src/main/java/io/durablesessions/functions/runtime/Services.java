package io.durablesessions.functions.runtime;

import io.durablesessions.functions.auth.RevocationStore;
import io.durablesessions.functions.store.Budgets;
import io.durablesessions.functions.store.ConnectionStore;
import io.durablesessions.functions.store.PresenceStore;
import io.durablesessions.functions.store.SessionStore;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.functions.store.TableNames;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Everything a handler needs, built once per Lambda container (or once for the whole local
 * stack) and passed to handlers by constructor: no global state, no lazy initialisation. The one
 * global read is {@link Tracing#global()}: that is where an OpenTelemetry SDK (the ADOT layer's)
 * installs itself.
 */
public record Services(
        SessionStore sessions,
        ConnectionStore connections,
        PresenceStore presence,
        RevocationStore revocations,
        Budgets budgets,
        RateLimiter rates,
        Sender sender,
        Clock clock,
        DynamoDbClient dynamo,
        TableNames tables,
        Limits limits,
        Features features,
        Tracing tracing) {
    /** The management API's endpoint ({@code https://{api}.execute-api.{region}.amazonaws.com/{stage}}), set by the CDK. */
    public static final String MANAGEMENT_ENDPOINT_ENV = "MANAGEMENT_ENDPOINT";

    /** The same services, with their spans going to {@code t} (tests read them from an in-memory SDK). */
    public Services withTracing(Tracing t) {
        return new Services(
                sessions,
                connections,
                presence,
                revocations,
                budgets,
                rates,
                sender,
                clock,
                dynamo,
                tables,
                limits,
                features,
                t);
    }

    /**
     * Abuse limits (docs/security.md): messages per second per connection (and per HTTP caller),
     * catch-up and hydrate bytes per minute per subject, presence announcements per minute per subject.
     * 0 turns a limit off. Set by the environment through {@link HandlerSettings}.
     */
    public record Limits(int messagesPerSecond, long readBytesPerMinute, int presenceJoinsPerMinute) {
        public static final Limits DEFAULTS = new Limits(500, 64L * 1024 * 1024, 30);

        public Limits withMessagesPerSecond(int perSecond) {
            return new Limits(perSecond, readBytesPerMinute, presenceJoinsPerMinute);
        }
    }

    /**
     * How delivery works (docs/architecture.md, Delivery): {@code directDelivery} posts an append's
     * events to the session's live subscribers from the append itself (the Streams fan-out then only
     * delivers what that missed); {@code revocationCache} is how long a container trusts what it read
     * about a token's revocation (the bound on how late a revocation takes effect on a live socket).
     */
    public record Features(boolean directDelivery, Duration revocationCache) {
        public static final Features DEFAULTS = new Features(true, Duration.ofSeconds(5));

        public Features withDirectDelivery(boolean on) {
            return new Features(on, revocationCache);
        }
    }

    /** Lambda: table names, region and the management endpoint come from the environment CDK sets. */
    public static Services fromEnvironment() {
        Map<String, String> env = System.getenv();
        Region region = Region.of(env.getOrDefault("AWS_REGION", "us-east-1"));
        String endpoint = env.get(MANAGEMENT_ENDPOINT_ENV);
        if (endpoint == null) throw new IllegalStateException(MANAGEMENT_ENDPOINT_ENV + " is not set");
        DynamoDbClient ddb = Clients.dynamo(region, null);
        HandlerSettings settings = HandlerSettings.fromEnvironment(env);
        return create(
                ddb,
                TableNames.fromEnvironment(env),
                settings.store(),
                settings.limits(),
                settings.features(),
                new Sender(Clients.management(region, URI.create(endpoint), false)),
                Clock.systemUTC());
    }

    /** The local stack: loopback endpoints for DynamoDB and the management API. */
    public static Services local(
            URI dynamoEndpoint,
            URI managementEndpoint,
            TableNames tables,
            StoreSettings settings,
            Limits limits,
            Features features,
            Clock clock) {
        DynamoDbClient ddb = Clients.dynamo(Region.US_EAST_1, dynamoEndpoint);
        return create(
                ddb,
                tables,
                settings,
                limits,
                features,
                new Sender(Clients.management(Region.US_EAST_1, managementEndpoint, true)),
                clock);
    }

    public static Services create(
            DynamoDbClient ddb,
            TableNames tables,
            StoreSettings settings,
            Limits limits,
            Features features,
            Sender sender,
            Clock clock) {
        SessionStore sessions = new SessionStore(ddb, tables, clock, settings);
        Budgets budgets = new Budgets(ddb, tables, clock);
        return new Services(
                sessions,
                new ConnectionStore(ddb, tables, clock),
                new PresenceStore(ddb, tables, sessions, budgets, clock),
                new RevocationStore(ddb, tables, clock, features.revocationCache()),
                budgets,
                new RateLimiter(limits.messagesPerSecond()),
                sender,
                clock,
                ddb,
                tables,
                limits,
                features,
                Tracing.global());
    }
}
