package io.durablesessions.local;

import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.auth.HttpAuthorizer;
import io.durablesessions.functions.auth.TokenVerifier;
import io.durablesessions.functions.fanout.FanoutHandler;
import io.durablesessions.functions.fanout.FanoutMapping;
import io.durablesessions.functions.gateway.Routes;
import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.liveness.Sweeper;
import io.durablesessions.functions.liveness.SweeperHandler;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.StoreSettings;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.apigateway.HttpApiBridge;
import io.durablesessions.local.apigateway.WebSocketApiEmulator;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import io.durablesessions.local.dynamodb.Options;
import io.durablesessions.local.streams.FailedBatch;
import io.durablesessions.local.streams.StreamEventSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/**
 * The whole service on one machine, on loopback only: the embedded DynamoDB (with Streams), the
 * API Gateway WebSocket and {@code @connections} emulator, and the DynamoDB Streams event source
 * emulator, all driving the SAME handler classes that run in Lambda.
 */
public final class LocalStack implements AutoCloseable {

    /** Knobs of the local stack; defaults are AWS's, tests shorten the timeouts. */
    public record Config(int port, String stage, Duration idleTimeout, Duration maxConnectionDuration,
                         Duration streamPollInterval, int streamShards, boolean serializePerConnection,
                         StoreSettings store, Duration sweepInterval, AuthConfig auth, Services.Limits limits,
                         URI externalDynamo) {
        public static Config defaults() {
            Map<String, String> env = System.getenv();
            return new Config(0, "local", Duration.ofMinutes(10), Duration.ofHours(2), Duration.ofMillis(20), 4, false,
                    StoreSettings.fromEnvironment(env), Duration.ofSeconds(1),
                    env.containsKey("JWT_ISSUER") ? AuthConfig.fromEnvironment(env) : AuthConfig.localDevelopment(),
                    Services.Limits.fromEnvironment(env), null);
        }

        /** Use another DynamoDB + Streams endpoint (e.g. LocalStack's) instead of the embedded one. */
        public Config withExternalDynamo(URI endpoint) {
            return new Config(port, stage, idleTimeout, maxConnectionDuration, streamPollInterval, streamShards,
                    serializePerConnection, store, sweepInterval, auth, limits, endpoint);
        }

        public Config withLimits(Services.Limits l) {
            return new Config(port, stage, idleTimeout, maxConnectionDuration, streamPollInterval, streamShards,
                    serializePerConnection, store, sweepInterval, auth, l, externalDynamo);
        }

        public Config withPort(int p) {
            return new Config(p, stage, idleTimeout, maxConnectionDuration, streamPollInterval, streamShards,
                    serializePerConnection, store, sweepInterval, auth, limits, externalDynamo);
        }

        public Config withTimeouts(Duration idle, Duration max) {
            return new Config(port, stage, idle, max, streamPollInterval, streamShards, serializePerConnection, store,
                    sweepInterval, auth, limits, externalDynamo);
        }

        public Config withSerializePerConnection(boolean serialize) {
            return new Config(port, stage, idleTimeout, maxConnectionDuration, streamPollInterval, streamShards,
                    serialize, store, sweepInterval, auth, limits, externalDynamo);
        }

        /** Liveness, stop-ack and presence-grace timeouts, and how often the sweeper runs. */
        public Config withStore(StoreSettings settings, Duration sweep) {
            return new Config(port, stage, idleTimeout, maxConnectionDuration, streamPollInterval, streamShards,
                    serializePerConnection, settings, sweep, auth, limits, externalDynamo);
        }
    }

    /** Where the IAM-authorized HTTP API is mounted locally (in AWS it is its own API with its own URL). */
    static final String IAM_BASE_PATH = "/iam";

    private final LocalDynamoDb dynamo;
    private final URI dynamoEndpoint;
    private final DynamoDbClient dynamoClient;
    private final TableNames tables;
    private final Services services;
    private final WebSocketApiEmulator gateway;
    private final io.durablesessions.local.demo.Demo demo;
    private final StreamEventSource fanout;
    private final List<FailedBatch> failedBatches = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService scheduler;
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(LocalStack.class.getName());

    private LocalStack(Config config) {
        int port = config.port() == 0 ? freePort() : config.port();
        dynamo = config.externalDynamo() != null ? null
                : LocalDynamoDb.start(Options.defaults().withStreamShards(config.streamShards()));
        dynamoEndpoint = dynamo != null ? dynamo.endpoint() : config.externalDynamo();
        tables = TableNames.fromEnvironment(System.getenv());
        dynamoClient = Clients.dynamo(Region.US_EAST_1, dynamoEndpoint);
        TableProvisioner.createAll(dynamoClient, tables);
        URI management = URI.create("http://127.0.0.1:" + port + "/" + config.stage());
        services = Services.local(dynamoEndpoint, management, tables, config.store(), config.limits(),
                Clock.systemUTC());

        // one verifier for both authorizers: in AWS each is its own function with the same settings
        TokenVerifier verifier = new TokenVerifier(config.auth());
        WebSocketApiEmulator.Builder b = WebSocketApiEmulator.builder().stage(config.stage()).port(port)
                .idleTimeout(config.idleTimeout()).maxConnectionDuration(config.maxConnectionDuration())
                .serializePerConnection(config.serializePerConnection())
                .authorizer(new LocalAuthorizer(new ConnectAuthorizer(verifier), config.stage()));
        for (Routes.Route route : Routes.ALL) {
            var handler = route.factory().apply(services);
            if (route.key().equals("$default")) b.defaultRoute(handler);
            else b.route(route.key(), handler);
        }
        demo = new io.durablesessions.local.demo.Demo(); // the demo chat at /demo/ (clients/web)
        b.httpRoute("/demo", demo.handler());
        // the HTTP API for agents and back ends, same port, as deployed: http://127.0.0.1:PORT/v1/... behind the
        // JWT Lambda authorizer, and http://127.0.0.1:PORT/iam/v1/... under IAM (SigV4, see LocalIam)
        var httpApi = new io.durablesessions.functions.http.HttpApiHandler(services, verifier, LocalIam.principals());
        b.httpRoute("/v1", new HttpApiBridge(httpApi, new HttpApiBridge.LambdaAuthorizer(new HttpAuthorizer(verifier)), ""));
        b.httpRoute(IAM_BASE_PATH, new HttpApiBridge(httpApi, new HttpApiBridge.Iam(LocalIam.verifier(Clock.systemUTC())),
                IAM_BASE_PATH));
        gateway = b.build().start();
        demo.start(gateway.webSocketUrl());

        StreamEventSource.Config mapping = StreamEventSource.Config.builder(tables.events())
                .functionName("fanout").batchSize(FanoutMapping.BATCH_SIZE)
                .maximumBatchingWindow(FanoutMapping.MAX_BATCHING_WINDOW)
                .pollInterval(config.streamPollInterval())
                .startingPosition(StreamEventSource.StartingPosition.TRIM_HORIZON)
                .reportBatchItemFailures(FanoutMapping.REPORT_BATCH_ITEM_FAILURES)
                .bisectBatchOnFunctionError(FanoutMapping.BISECT_ON_ERROR)
                .maximumRetryAttempts(FanoutMapping.MAX_RETRY_ATTEMPTS)
                .maximumRecordAge(FanoutMapping.MAX_RECORD_AGE)
                .filterInsertsOnly(true)
                .onFailure(failedBatches::add)
                .build();
        fanout = (dynamo != null ? StreamEventSource.create(dynamo, mapping, new FanoutHandler(services))
                : StreamEventSource.create(streamsClient(dynamoEndpoint), mapping, new FanoutHandler(services))).start();

        // EventBridge's schedule in AWS; the same handler class here
        SweeperHandler sweeper = new SweeperHandler(new Sweeper(services));
        scheduler = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("sweeper").daemon().factory());
        long every = config.sweepInterval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                sweeper.handleRequest(new ScheduledEvent(), null);
            } catch (RuntimeException e) {
                LOG.warning("sweeper run failed: " + e);
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /** A token for the local stack's development issuer: full rights of {@code role} on every session. */
    public static String devToken(String subject, String role) {
        Capability[] caps = switch (role) {
            case "agent" -> new Capability[] {Capability.READ, Capability.APPEND, Capability.AGENT, Capability.CONTROL};
            case "viewer" -> new Capability[] {Capability.READ};
            default -> new Capability[] {Capability.READ, Capability.APPEND, Capability.CONTROL};
        };
        return DevTokens.mint(AuthConfig.localDevelopment(), subject, role, List.of(Grant.prefix("", caps)),
                Duration.ofHours(12));
    }

    public static LocalStack start(Config config) {
        return new LocalStack(config);
    }

    public static LocalStack start() {
        return start(Config.defaults());
    }

    public URI webSocketUrl() {
        return gateway.webSocketUrl();
    }

    /** {@code http://127.0.0.1:PORT}: the HTTP API's base URL (its paths start with {@code /v1}). */
    public URI httpApiUrl() {
        return URI.create("http://127.0.0.1:" + gateway.port());
    }

    /** {@code http://127.0.0.1:PORT/iam}: the IAM-authorized HTTP API's base URL (sign with {@link LocalIam}). */
    public URI iamHttpApiUrl() {
        return URI.create("http://127.0.0.1:" + gateway.port() + IAM_BASE_PATH);
    }

    public URI managementEndpoint() {
        return gateway.managementEndpoint();
    }

    public URI dynamoEndpoint() {
        return dynamoEndpoint;
    }

    public TableNames tables() {
        return tables;
    }

    public Services services() {
        return services;
    }

    /** The embedded DynamoDB (stats, faults); null when running on an external endpoint. */
    public LocalDynamoDb dynamo() {
        return dynamo;
    }

    public DynamoDbClient dynamoClient() {
        return dynamoClient;
    }

    public WebSocketApiEmulator gateway() {
        return gateway;
    }

    public StreamEventSource fanout() {
        return fanout;
    }

    /** Batches the fan-out mapping gave up on (its on-failure destination). */
    public List<FailedBatch> failedBatches() {
        return List.copyOf(failedBatches);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        demo.close();
        fanout.close();
        gateway.close();
        dynamoClient.close();
        if (dynamo != null) dynamo.close();
    }

    private static DynamoDbStreamsClient streamsClient(URI endpoint) {
        return DynamoDbStreamsClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
