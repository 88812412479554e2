package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.zip.CRC32;

/**
 * An in-process, in-memory DynamoDB + DynamoDB Streams endpoint speaking the AWS JSON 1.0 wire
 * protocol, for unmodified AWS SDK clients ({@code endpointOverride(server.endpoint())}).
 *
 * <p>Every operation runs under one lock, so requests are serializable and transactions atomic.
 */
public final class LocalDynamoDb implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LocalDynamoDb.class.getName());
    private static final String DYNAMODB = "DynamoDB_20120810.";
    private static final String STREAMS = "DynamoDBStreams_20120810.";

    static {
        // The JDK server leaves Nagle on by default, which costs milliseconds per small response on
        // loopback. It reads this property once, when its configuration class loads.
        if (System.getProperty("sun.net.httpserver.nodelay") == null)
            System.setProperty("sun.net.httpserver.nodelay", "true");
        // bursts of concurrent clients (the local stack runs every WebSocket message concurrently):
        // keep their idle keep-alive connections instead of closing them under the client
        if (System.getProperty("sun.net.httpserver.maxIdleConnections") == null) {
            System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");
        }
    }

    private static final Set<String> WRITES =
            Set.of("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems");

    private final Options options;
    private final HttpServer server;
    private final ExecutorService executor;
    private final ReentrantLock lock = new ReentrantLock();
    private final Stats stats = new Stats();
    private final Faults faults = new Faults();
    private final Database db;
    private final Map<String, Function<JsonNode, ObjectNode>> dynamoOps;
    private final Map<String, Function<JsonNode, ObjectNode>> streamOps;
    private final Thread sweeper;
    private final Journal journal;
    private volatile boolean closed;
    /** Set when the journal could not be written: from then on every request fails (nothing half-kept). */
    private volatile RuntimeException journalFailure;

    private LocalDynamoDb(Options options) throws IOException {
        this.options = options;
        this.db = new Database(options, stats, faults);
        this.journal = options.dataDir() == null ? null : Journal.open(options.dataDir(), db);
        db.journal(journal);
        this.dynamoOps = Map.ofEntries(
                Map.entry("CreateTable", db::createTable),
                Map.entry("DescribeTable", db::describeTable),
                Map.entry("DeleteTable", db::deleteTable),
                Map.entry("ListTables", db::listTables),
                Map.entry("UpdateTable", db::updateTable),
                Map.entry("UpdateTimeToLive", db::updateTimeToLive),
                Map.entry("DescribeTimeToLive", db::describeTimeToLive),
                Map.entry("PutItem", db::putItem),
                Map.entry("GetItem", db::getItem),
                Map.entry("UpdateItem", db::updateItem),
                Map.entry("DeleteItem", db::deleteItem),
                Map.entry("Query", db::query),
                Map.entry("Scan", db::scan),
                Map.entry("BatchGetItem", db::batchGetItem),
                Map.entry("BatchWriteItem", db::batchWriteItem),
                Map.entry("TransactWriteItems", req -> db.transactWriteItems(req, null)),
                Map.entry("TransactGetItems", db::transactGetItems));
        this.streamOps = Map.of(
                "ListStreams", db.streams::listStreams,
                "DescribeStream", db.streams::describeStream,
                "GetShardIterator", db.streams::getShardIterator,
                "GetRecords", db.streams::getRecords);
        try {
            this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 256);
        } catch (IOException e) {
            if (journal != null) journal.close();
            throw e;
        }
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        this.sweeper = options.ttlSweepInterval() == null
                ? null
                : Thread.ofVirtual().name("local-dynamodb-ttl").start(this::sweepLoop);
    }

    public static LocalDynamoDb start() {
        return start(Options.defaults());
    }

    public static LocalDynamoDb start(Options options) {
        try {
            return new LocalDynamoDb(options);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot start LocalDynamoDb on " + options.host() + ":" + options.port()
                            + (options.dataDir() != null ? " with data directory " + options.dataDir() : "") + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /** {@code http://host:port}; use it as the SDK's endpointOverride for both DynamoDB and Streams clients. */
    public URI endpoint() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return URI.create("http://" + host + ":" + server.getAddress().getPort());
    }

    public Options options() {
        return options;
    }

    public Faults faults() {
        return faults;
    }

    public Stats stats() {
        return stats;
    }

    /**
     * A count that moves whenever the stream shard gains a record (or its stream is disabled); 0 for a
     * shard it does not know. Not part of any AWS API: an in-process poller reads it (without a request)
     * to skip GetRecords calls that would return nothing, which keeps an idle local stack nearly free;
     * it still polls at its cadence and reads the records through the Streams API.
     */
    public long shardChanges(String streamArn, String shardId) {
        return db.streams.changes(streamArn, shardId);
    }

    /** Runs one TTL sweep now (tests use this instead of waiting for the background sweeper). */
    public int sweepExpiredItems() {
        lock.lock();
        try {
            int deleted = db.sweepExpired(System.currentTimeMillis());
            if (journal != null) journal.flush();
            return deleted;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (sweeper != null) sweeper.interrupt();
        server.stop(0);
        executor.shutdownNow();
        if (journal != null) {
            lock.lock();
            try {
                journal.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing the journal failed", e);
            } finally {
                lock.unlock();
            }
        }
    }

    private void sweepLoop() {
        Duration interval = options.ttlSweepInterval();
        while (!closed) {
            try {
                Thread.sleep(interval);
                sweepExpiredItems();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "TTL sweep failed", e);
            }
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange exchange) {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Response r = dispatch(
                    exchange.getRequestMethod(), exchange.getRequestHeaders().getFirst("X-Amz-Target"), body);
            byte[] out = r.body.getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(out);
            var headers = exchange.getResponseHeaders();
            headers.set("Content-Type", "application/x-amz-json-1.0");
            headers.set("x-amzn-RequestId", UUID.randomUUID().toString());
            headers.set("x-amz-crc32", Long.toString(crc.getValue()));
            exchange.sendResponseHeaders(r.status, out.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(out);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "client connection failed", e);
        }
    }

    private record Response(int status, String body) {}

    private Response dispatch(String method, String target, byte[] body) {
        try {
            if (!"POST".equals(method)) throw new ApiError("UnknownOperationException", "Only POST / is supported");
            Function<JsonNode, ObjectNode> op = null;
            String name = null;
            if (target != null && target.startsWith(DYNAMODB)) {
                name = target.substring(DYNAMODB.length());
                op = dynamoOps.get(name);
            } else if (target != null && target.startsWith(STREAMS)) {
                name = target.substring(STREAMS.length());
                op = streamOps.get(name);
            }
            if (op == null) throw new ApiError("UnknownOperationException", null);
            stats.request(name);
            Duration latency = faults.latency();
            if (!latency.isZero()) Thread.sleep(latency);
            if (WRITES.contains(name) && faults.throttleNextWrite()) {
                throw new ApiError(
                        "ProvisionedThroughputExceededException",
                        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.");
            }
            JsonNode req;
            try {
                req = body.length == 0 ? Json.object() : Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new ApiError("SerializationException", "Start of structure or map found where not expected.");
            }
            if (!(req instanceof ObjectNode))
                throw new ApiError("SerializationException", "Start of structure or map found where not expected.");
            ObjectNode result;
            lock.lock();
            try {
                if (journalFailure != null) throw journalFailure;
                result = op.apply(req);
                if (journal != null) {
                    if (Journal.CONTROL.contains(name)) journal.control(name, req);
                    try {
                        journal.flush();
                    } catch (RuntimeException e) {
                        journalFailure = e; // memory and disk may differ now: serve nothing more
                        throw e;
                    }
                }
            } catch (ApiError e) {
                if (journal != null) journal.discard();
                throw e;
            } finally {
                lock.unlock();
            }
            return new Response(200, result.toString());
        } catch (ApiError e) {
            return new Response(e.status, errorBody(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Response(500, errorBody(new ApiError("InternalServerError", "Server shutting down", 500, null)));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "internal error in LocalDynamoDb", e);
            return new Response(
                    500, errorBody(new ApiError("InternalServerError", "Internal server error", 500, null)));
        }
    }

    private static String errorBody(ApiError e) {
        ObjectNode err = Json.object();
        err.put("__type", e.qualifiedType());
        // DynamoDB spells the member "Message" for TransactionCanceledException and "message" elsewhere.
        if (e.getMessage() != null)
            err.put(e.type.equals("TransactionCanceledException") ? "Message" : "message", e.getMessage());
        if (e.extra != null) err.setAll(e.extra);
        return err.toString();
    }
}
