package io.durablesessions.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
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
import io.durablesessions.functions.http.HttpApiHandler;
import io.durablesessions.functions.liveness.Sweeper;
import io.durablesessions.functions.liveness.SweeperHandler;
import io.durablesessions.functions.runtime.BufferedBodyHttpClient;
import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.runtime.HandlerSettings;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.apigateway.HttpApiBridge;
import io.durablesessions.local.apigateway.RequestLog;
import io.durablesessions.local.apigateway.WebSocketApiEmulator;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import io.durablesessions.local.dynamodb.Options;
import io.durablesessions.local.streams.FailedBatch;
import io.durablesessions.local.streams.StreamEventSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.eclipse.jetty.server.Handler;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/**
 * The whole service on one machine, on loopback only: the embedded DynamoDB (with Streams), the
 * API Gateway WebSocket and {@code @connections} emulator, and the DynamoDB Streams event source
 * emulator, all driving the SAME handler classes that run in Lambda.
 */
public final class EmbeddedStack implements AutoCloseable {

    /**
     * How fast the emulated Lambda plumbing is. {@link #local()} (the default) polls the events stream every
     * 20 ms and adds nothing to an invocation, so tests and the demo are quick. {@link #awsLike()} polls
     * each shard at the documented cadence of Lambda's DynamoDB Streams poller ("a base rate of 4 times
     * per second", i.e. every 250 ms while a shard is idle; immediately again after records) and adds an
     * invoke overhead to every fan-out and WebSocket route invocation, so benchmarks show the delivery
     * delay a user on AWS sees. AWS documents no figure for the invoke overhead; the 10 ms of
     * {@code awsLike()} is an assumption for a warm function, set your own with the environment below.
     *
     * @param streamPollInterval   how long a fan-out shard poller waits after a GetRecords that returned nothing
     * @param fanoutInvokeOverhead added before every fan-out invocation
     * @param routeInvokeOverhead  added before every WebSocket route invocation ($connect, $disconnect, $default, actions)
     */
    public record Timing(Duration streamPollInterval, Duration fanoutInvokeOverhead, Duration routeInvokeOverhead) {
        /** Lambda polls a DynamoDB stream shard "at a base rate of 4 times per second" (Lambda developer guide). */
        public static final Duration AWS_STREAM_POLL_INTERVAL = Duration.ofMillis(250);
        /** Assumed, not documented by AWS: what a warm invocation adds before the handler runs. */
        public static final Duration AWS_INVOKE_OVERHEAD = Duration.ofMillis(10);

        public Timing {
            if (streamPollInterval == null || streamPollInterval.isNegative() || streamPollInterval.isZero()) {
                throw new IllegalArgumentException("streamPollInterval must be positive");
            }
            if (fanoutInvokeOverhead == null || fanoutInvokeOverhead.isNegative()) {
                throw new IllegalArgumentException("fanoutInvokeOverhead must be >= 0");
            }
            if (routeInvokeOverhead == null || routeInvokeOverhead.isNegative()) {
                throw new IllegalArgumentException("routeInvokeOverhead must be >= 0");
            }
        }

        /** The default: 20 ms stream polls, no invoke overhead. */
        public static Timing local() {
            return new Timing(Duration.ofMillis(20), Duration.ZERO, Duration.ZERO);
        }

        /** AWS's documented poll cadence (250 ms) and an assumed 10 ms per fan-out and route invocation. */
        public static Timing awsLike() {
            return new Timing(AWS_STREAM_POLL_INTERVAL, AWS_INVOKE_OVERHEAD, AWS_INVOKE_OVERHEAD);
        }

        /**
         * {@code DS_AWS_TIMING=1} selects {@link #awsLike()} (unset, empty or 0: {@link #local()});
         * {@code DS_STREAM_POLL_MS}, {@code DS_FANOUT_INVOKE_OVERHEAD_MS} and {@code DS_ROUTE_INVOKE_OVERHEAD_MS}
         * override one figure of either. Anything else is refused with a message naming the variable.
         */
        public static Timing fromEnvironment(Map<String, String> env) {
            String aws = env.getOrDefault("DS_AWS_TIMING", "").trim();
            Timing t = switch (aws) {
                case "", "0", "false" -> local();
                case "1", "true" -> awsLike();
                default -> throw new IllegalArgumentException("DS_AWS_TIMING must be 1 or 0, not '" + aws + "'");
            };
            return new Timing(
                    millis(env, "DS_STREAM_POLL_MS", t.streamPollInterval()),
                    millis(env, "DS_FANOUT_INVOKE_OVERHEAD_MS", t.fanoutInvokeOverhead()),
                    millis(env, "DS_ROUTE_INVOKE_OVERHEAD_MS", t.routeInvokeOverhead()));
        }

        public boolean isLocal() {
            return equals(local());
        }

        /** e.g. "stream poll 250 ms, +10 ms per fan-out invocation, +10 ms per route invocation". */
        public String describe() {
            return "stream poll " + streamPollInterval.toMillis() + " ms, +" + fanoutInvokeOverhead.toMillis()
                    + " ms per fan-out invocation, +" + routeInvokeOverhead.toMillis() + " ms per route invocation";
        }

        private static Duration millis(Map<String, String> env, String name, Duration fallback) {
            String v = env.get(name);
            if (v == null || v.isBlank()) return fallback;
            try {
                long ms = Long.parseLong(v.trim());
                if (ms < 0) throw new NumberFormatException("negative");
                return Duration.ofMillis(ms);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        name + " must be a whole number of milliseconds >= 0, not '" + v + "'");
            }
        }
    }

    /**
     * Knobs of the local stack; {@link #defaults()} are AWS's limits, tests shorten the timeouts. Built
     * with {@link #builder()} or changed with {@link #toBuilder()}: every value has a name.
     */
    public record Config(
            int port,
            String stage,
            Duration idleTimeout,
            Duration maxConnectionDuration,
            Timing timing,
            int streamShards,
            StoreSettings store,
            Duration sweepInterval,
            AuthConfig auth,
            Services.Limits limits,
            Services.Features features,
            URI externalDynamo,
            Path dataDir,
            RequestLog requestLog,
            Map<String, Handler> httpRoutes) {
        public Config {
            httpRoutes = Map.copyOf(httpRoutes);
        }

        /**
         * AWS's defaults; the DynamoDB endpoint is the embedded one unless {@code -Ddynamo.endpoint=URL}
         * or {@code DS_DYNAMO_ENDPOINT=URL} names another (moto, LocalStack, a real table's region). The
         * timing is {@link Timing#local()} whatever the environment; scripts/local applies
         * {@link Timing#fromEnvironment}.
         */
        public static Config defaults() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            Builder b = new Builder();
            b.port = port;
            b.stage = stage;
            b.idleTimeout = idleTimeout;
            b.maxConnectionDuration = maxConnectionDuration;
            b.timing = timing;
            b.streamShards = streamShards;
            b.store = store;
            b.sweepInterval = sweepInterval;
            b.auth = auth;
            b.limits = limits;
            b.features = features;
            b.externalDynamo = externalDynamo;
            b.dataDir = dataDir;
            b.requestLog = requestLog;
            b.httpRoutes.putAll(httpRoutes);
            return b;
        }

        /** {@code -Ddynamo.endpoint}, else {@code DS_DYNAMO_ENDPOINT}, else null (the embedded DynamoDB). */
        public static URI configuredDynamoEndpoint() {
            String v = System.getProperty("dynamo.endpoint", System.getenv("DS_DYNAMO_ENDPOINT"));
            return v == null || v.isBlank() ? null : URI.create(v.trim());
        }

        public Duration streamPollInterval() {
            return timing.streamPollInterval();
        }

        /** Keep the embedded DynamoDB's data in this directory across restarts (null: in memory only). */
        public Config withDataDir(Path dir) {
            return toBuilder().dataDir(dir).build();
        }

        /** A line per message and HTTP request served ({@link RequestLog#OFF} by default). */
        public Config withRequestLog(RequestLog log) {
            return toBuilder().requestLog(log).build();
        }

        /**
         * Serves {@code handler} under {@code pathPrefix} on the stack's port, next to the APIs (e.g. the demo
         * page at {@code /demo}); the handler sees the full path.
         */
        public Config withHttpRoute(String pathPrefix, Handler handler) {
            return toBuilder().httpRoute(pathPrefix, handler).build();
        }

        /** Use another DynamoDB + Streams endpoint (e.g. LocalStack's) instead of the embedded one. */
        public Config withExternalDynamo(URI endpoint) {
            return toBuilder().externalDynamo(endpoint).build();
        }

        public Config withLimits(Services.Limits l) {
            return toBuilder().limits(l).build();
        }

        public Config withPort(int p) {
            return toBuilder().port(p).build();
        }

        public Config withTimeouts(Duration idle, Duration max) {
            return toBuilder().idleTimeout(idle).maxConnectionDuration(max).build();
        }

        /** Liveness, stop-ack and presence-grace timeouts, and how often the sweeper runs. */
        public Config withStore(StoreSettings settings, Duration sweep) {
            return toBuilder().store(settings).sweepInterval(sweep).build();
        }

        /** Stream polling and invoke overheads (e.g. {@link Timing#awsLike()}). */
        public Config withTiming(Timing t) {
            return toBuilder().timing(t).build();
        }

        /** A {@link Config} by name; each setter documents its default. */
        public static final class Builder {
            private int port = 0;
            private String stage = "local";
            private Duration idleTimeout = Duration.ofMinutes(10);
            private Duration maxConnectionDuration = Duration.ofHours(2);
            private Timing timing = Timing.local();
            private int streamShards = 4;
            private StoreSettings store =
                    HandlerSettings.fromEnvironment(System.getenv()).store();
            private Duration sweepInterval = Duration.ofSeconds(1);
            private AuthConfig auth = System.getenv().containsKey(AuthConfig.ENV_ISSUER)
                    ? AuthConfig.fromEnvironment(System.getenv())
                    : AuthConfig.localDevelopment();
            private Services.Limits limits =
                    HandlerSettings.fromEnvironment(System.getenv()).limits();
            private Services.Features features =
                    HandlerSettings.fromEnvironment(System.getenv()).features();
            private URI externalDynamo = configuredDynamoEndpoint();
            private Path dataDir = null;
            private RequestLog requestLog = RequestLog.OFF;
            private final Map<String, Handler> httpRoutes = new LinkedHashMap<>();

            private Builder() {}

            /** 0 (default): a free port. */
            public Builder port(int port) {
                this.port = port;
                return this;
            }

            /** "local" by default: the path segment of the WebSocket URL. */
            public Builder stage(String stage) {
                this.stage = stage;
                return this;
            }

            /** API Gateway's 10 minutes by default. */
            public Builder idleTimeout(Duration d) {
                this.idleTimeout = d;
                return this;
            }

            /** API Gateway's 2 hours by default. */
            public Builder maxConnectionDuration(Duration d) {
                this.maxConnectionDuration = d;
                return this;
            }

            /** {@link Timing#local()} by default. */
            public Builder timing(Timing t) {
                this.timing = t;
                return this;
            }

            /** 4 by default. */
            public Builder streamShards(int n) {
                this.streamShards = n;
                return this;
            }

            /** From the environment (LIVENESS_TIMEOUT_SECONDS, …) by default. */
            public Builder store(StoreSettings s) {
                this.store = s;
                return this;
            }

            /** 1 second by default (EventBridge's minute in AWS). */
            public Builder sweepInterval(Duration d) {
                this.sweepInterval = d;
                return this;
            }

            /** The local development issuer by default, or JWT_* from the environment when JWT_ISSUER is set. */
            public Builder auth(AuthConfig a) {
                this.auth = a;
                return this;
            }

            /** From the environment (RATE_LIMIT_PER_SECOND, …) by default. */
            public Builder limits(Services.Limits l) {
                this.limits = l;
                return this;
            }

            /** From the environment (DIRECT_DELIVERY, REVOCATION_CACHE_SECONDS) by default: direct delivery on. */
            public Builder features(Services.Features f) {
                this.features = f;
                return this;
            }

            /** The embedded DynamoDB by default, unless -Ddynamo.endpoint / DS_DYNAMO_ENDPOINT names another. */
            public Builder externalDynamo(URI endpoint) {
                this.externalDynamo = endpoint;
                return this;
            }

            /** In memory by default. */
            public Builder dataDir(Path dir) {
                this.dataDir = dir;
                return this;
            }

            /** Off by default. */
            public Builder requestLog(RequestLog log) {
                this.requestLog = log;
                return this;
            }

            /** None by default: only the WebSocket API, {@code @connections} and the HTTP APIs are served. */
            public Builder httpRoute(String pathPrefix, Handler handler) {
                if (pathPrefix.equals("/v1") || pathPrefix.equals(IAM_BASE_PATH)) {
                    throw new IllegalArgumentException(pathPrefix + " is the HTTP API's");
                }
                this.httpRoutes.put(pathPrefix, handler);
                return this;
            }

            public Config build() {
                return new Config(
                        port,
                        stage,
                        idleTimeout,
                        maxConnectionDuration,
                        timing,
                        streamShards,
                        store,
                        sweepInterval,
                        auth,
                        limits,
                        features,
                        externalDynamo,
                        dataDir,
                        requestLog,
                        httpRoutes);
            }
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
    private final StreamEventSource fanout;
    private final List<FailedBatch> failedBatches = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService scheduler;
    private static final Logger LOG = Logger.getLogger(EmbeddedStack.class.getName());

    private EmbeddedStack(Config config) {
        int port = config.port() == 0 ? freePort() : requireFreePort(config.port());
        // whatever started before a failure is stopped again, so a failed start leaves no thread behind
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Options options =
                    Options.defaults().withStreamShards(config.streamShards()).withDataDir(config.dataDir());
            dynamo = config.externalDynamo() != null ? null : LocalDynamoDb.start(options);
            if (dynamo != null) opened.add(dynamo);
            dynamoEndpoint = dynamo != null ? dynamo.endpoint() : config.externalDynamo();
            tables = TableNames.fromEnvironment(System.getenv());
            dynamoClient = Clients.dynamo(Region.US_EAST_1, dynamoEndpoint);
            opened.add(dynamoClient);
            TableProvisioner.createAll(dynamoClient, tables);
            URI management = URI.create("http://127.0.0.1:" + port + "/" + config.stage());
            services = Services.local(
                    dynamoEndpoint,
                    management,
                    tables,
                    config.store(),
                    config.limits(),
                    config.features(),
                    Clock.systemUTC());

            // one verifier for both authorizers: in AWS each is its own function with the same settings
            TokenVerifier verifier = new TokenVerifier(config.auth());
            WebSocketApiEmulator.Builder b = WebSocketApiEmulator.builder()
                    .stage(config.stage())
                    .port(port)
                    .idleTimeout(config.idleTimeout())
                    .maxConnectionDuration(config.maxConnectionDuration())
                    // one endpoint serves Java clients (?token=) and browsers (subprotocol); AWS configures one source
                    .authorizer(new LocalAuthorizer(
                            new ConnectAuthorizer(verifier, ConnectAuthorizer.TokenSource.EITHER), config.stage()))
                    .requestLog(config.requestLog());
            for (Routes.Route route : Routes.ALL) {
                var handler = withOverhead(
                        route.factory().apply(services), config.timing().routeInvokeOverhead());
                if (route.key().equals("$default")) b.defaultRoute(handler);
                else b.route(route.key(), handler);
            }
            config.httpRoutes().forEach(b::httpRoute); // e.g. the lab's demo chat at /demo/
            // the HTTP API for agents and back ends, same port, as deployed: http://127.0.0.1:PORT/v1/... behind the
            // JWT Lambda authorizer, and http://127.0.0.1:PORT/iam/v1/... under IAM (SigV4, see LocalIam)
            var httpApi = new HttpApiHandler(services, verifier, LocalIam.principals());
            b.httpRoute(
                    "/v1",
                    new HttpApiBridge(
                            httpApi,
                            new HttpApiBridge.LambdaAuthorizer(new HttpAuthorizer(verifier)),
                            "",
                            config.requestLog()));
            b.httpRoute(
                    IAM_BASE_PATH,
                    new HttpApiBridge(
                            httpApi,
                            new HttpApiBridge.Iam(LocalIam.verifier(Clock.systemUTC())),
                            IAM_BASE_PATH,
                            config.requestLog()));
            gateway = b.build().start();
            opened.add(gateway);

            StreamEventSource.Config mapping = StreamEventSource.Config.builder(tables.events())
                    .functionName("fanout")
                    .batchSize(FanoutMapping.BATCH_SIZE)
                    .maximumBatchingWindow(FanoutMapping.MAX_BATCHING_WINDOW)
                    .pollInterval(config.streamPollInterval())
                    .startingPosition(StreamEventSource.StartingPosition.TRIM_HORIZON)
                    .reportBatchItemFailures(FanoutMapping.REPORT_BATCH_ITEM_FAILURES)
                    .bisectBatchOnFunctionError(FanoutMapping.BISECT_ON_ERROR)
                    .maximumRetryAttempts(FanoutMapping.MAX_RETRY_ATTEMPTS)
                    .maximumRecordAge(FanoutMapping.MAX_RECORD_AGE)
                    .filterInsertsOnly(true)
                    .onFailure(failedBatches::add)
                    .invokeOverhead(config.timing().fanoutInvokeOverhead())
                    .build();
            fanout = (dynamo != null
                            ? StreamEventSource.create(dynamo, mapping, new FanoutHandler(services))
                            : StreamEventSource.create(
                                    streamsClient(dynamoEndpoint), mapping, new FanoutHandler(services)))
                    .start();
            opened.add(fanout);

            // EventBridge's schedule in AWS; the same handler class here
            SweeperHandler sweeper = new SweeperHandler(new Sweeper(services));
            scheduler = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("sweeper").daemon().factory());
            long every = config.sweepInterval().toMillis();
            scheduler.scheduleWithFixedDelay(
                    () -> {
                        try {
                            sweeper.handleRequest(new ScheduledEvent(), null);
                        } catch (RuntimeException e) {
                            LOG.warning("sweeper run failed: " + e);
                        }
                    },
                    every,
                    every,
                    TimeUnit.MILLISECONDS);
        } catch (RuntimeException | Error e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Thrown when the port the stack should listen on is taken. */
    public static final class PortInUseException extends RuntimeException {
        public PortInUseException(int port, IOException cause) {
            super(
                    "port " + port
                            + " on 127.0.0.1 is already in use (another local stack?); stop it or pick another port "
                            + "with DS_LOCAL_PORT=<port>",
                    cause);
        }
    }

    private static int requireFreePort(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return port;
        } catch (IOException e) {
            throw new PortInUseException(port, e);
        }
    }

    /** {@code handler} behind an invoke overhead (the Lambda service's share of an invocation), or itself for none. */
    static <I, O> RequestHandler<I, O> withOverhead(RequestHandler<I, O> handler, Duration overhead) {
        if (overhead.isZero()) return handler;
        return (input, context) -> {
            try {
                Thread.sleep(overhead);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("invocation interrupted", e);
            }
            return handler.handleRequest(input, context);
        };
    }

    /** A token for the local stack's development issuer: full rights of {@code role} on every session. */
    public static String devToken(String subject, String role) {
        Capability[] caps = switch (role) {
            case "agent" -> new Capability[] {Capability.READ, Capability.APPEND, Capability.AGENT, Capability.CONTROL};
            case "viewer" -> new Capability[] {Capability.READ};
            default -> new Capability[] {Capability.READ, Capability.APPEND, Capability.CONTROL};
        };
        return DevTokens.mint(
                AuthConfig.localDevelopment(), subject, role, List.of(Grant.all(caps)), Duration.ofHours(12));
    }

    public static EmbeddedStack start(Config config) {
        return new EmbeddedStack(config);
    }

    public static EmbeddedStack start() {
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
        fanout.close();
        gateway.close();
        dynamoClient.close();
        if (dynamo != null) dynamo.close();
    }

    private static DynamoDbStreamsClient streamsClient(URI endpoint) {
        return DynamoDbStreamsClient.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(BufferedBodyHttpClient.create())
                .build();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
