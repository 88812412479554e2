package io.durablesessions.local.dynamodb;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

/**
 * Throughput/latency of the emulator through the real AWS SDK v2 client (UrlConnectionHttpClient),
 * plus a bare HttpURLConnection client for comparison. Disabled unless {@code -Dbench=true}:
 *
 * <pre>
 * ./mvnw -q -B -o -pl local/dynamodb test -Dtest=EmulatorThroughputBench -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * Optional: {@code -Dbench.seconds=4 -Dbench.warmupSeconds=2 -Dbench.threads=1,8}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class EmulatorThroughputBench {
    private static final int SECONDS = Integer.getInteger("bench.seconds", 4);
    private static final int WARMUP = Integer.getInteger("bench.warmupSeconds", 2);
    private static final int[] THREADS = Arrays.stream(
                    System.getProperty("bench.threads", "1,8").split(","))
            .mapToInt(s -> Integer.parseInt(s.trim()))
            .toArray();

    interface Op {
        void run(int thread, long i) throws Exception;
    }

    @Test
    void bench() throws Exception {
        try (LocalDynamoDb db = LocalDynamoDb.start(Options.defaults().withTtlSweepInterval(null))) {
            DynamoDbClient admin = client(db);
            admin.createTable(CreateTableRequest.builder()
                    .tableName("bench")
                    .billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(AttributeDefinition.builder()
                            .attributeName("pk")
                            .attributeType(ScalarAttributeType.S)
                            .build())
                    .keySchema(KeySchemaElement.builder()
                            .attributeName("pk")
                            .keyType(KeyType.HASH)
                            .build())
                    .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES))
                    .build());
            String payload = "x".repeat(180);
            for (int k = 0; k < 1000; k++)
                admin.putItem(PutItemRequest.builder()
                        .tableName("bench")
                        .item(item("k" + k, payload))
                        .build());
            int maxThreads = Arrays.stream(THREADS).max().orElse(1);
            DynamoDbClient[] clients = new DynamoDbClient[maxThreads];
            for (int t = 0; t < maxThreads; t++) clients[t] = client(db);

            System.out.printf(
                    Locale.ROOT, "%n%-34s %7s %10s %9s %9s%n", "scenario", "threads", "req/s", "p50 ms", "p99 ms");
            String rawGet = "{\"TableName\":\"bench\",\"Key\":{\"pk\":{\"S\":\"k1\"}}}";
            DynamoDbClient noNetwork = DynamoDbClient.builder()
                    .endpointOverride(db.endpoint())
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
                    .httpClient(new CannedHttpClient())
                    .build();
            for (int threads : THREADS) {
                if (threads == 1)
                    run(
                            "SDK GetItem, canned HTTP (no server)",
                            1,
                            (t, i) -> noNetwork.getItem(GetItemRequest.builder()
                                    .tableName("bench")
                                    .key(Map.of("pk", AttributeValue.fromS("k" + (i % 1000))))
                                    .build()));
                run("raw HttpURLConnection GetItem", threads, (t, i) -> raw(db.endpoint(), "GetItem", rawGet));
                run(
                        "SDK GetItem",
                        threads,
                        (t, i) -> clients[t].getItem(GetItemRequest.builder()
                                .tableName("bench")
                                .key(Map.of("pk", AttributeValue.fromS("k" + (i % 1000))))
                                .build()));
                run(
                        "SDK PutItem (200 B)",
                        threads,
                        (t, i) -> clients[t].putItem(PutItemRequest.builder()
                                .tableName("bench")
                                .item(item("k" + (i % 1000), payload))
                                .build()));
                run(
                        "SDK TransactWriteItems (3 puts)",
                        threads,
                        (t, i) -> clients[t].transactWriteItems(TransactWriteItemsRequest.builder()
                                .transactItems(
                                        put("t" + t + "a" + (i % 500), payload),
                                        put("t" + t + "b" + (i % 500), payload),
                                        put("t" + t + "c" + (i % 500), payload))
                                .build()));
            }
            for (DynamoDbClient c : clients) c.close();
            admin.close();
        }
    }

    /** Answers every request with a fixed GetItem response: the SDK's own per-request cost, without any server. */
    private static final class CannedHttpClient implements software.amazon.awssdk.http.SdkHttpClient {
        private static final byte[] BODY = ("{\"Item\":{\"pk\":{\"S\":\"k1\"},\"payload\":{\"S\":\"" + "x".repeat(180)
                        + "\"},\"n\":{\"N\":\"42\"}}}")
                .getBytes(StandardCharsets.UTF_8);

        @Override
        public software.amazon.awssdk.http.ExecutableHttpRequest prepareRequest(
                software.amazon.awssdk.http.HttpExecuteRequest request) {
            return new software.amazon.awssdk.http.ExecutableHttpRequest() {
                @Override
                public software.amazon.awssdk.http.HttpExecuteResponse call() throws java.io.IOException {
                    if (request.contentStreamProvider().isPresent()) {
                        try (InputStream in =
                                request.contentStreamProvider().get().newStream()) {
                            in.readAllBytes();
                        }
                    }
                    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                    crc.update(BODY);
                    return software.amazon.awssdk.http.HttpExecuteResponse.builder()
                            .response(software.amazon.awssdk.http.SdkHttpResponse.builder()
                                    .statusCode(200)
                                    .putHeader("Content-Type", "application/x-amz-json-1.0")
                                    .putHeader("Content-Length", Integer.toString(BODY.length))
                                    .putHeader("x-amz-crc32", Long.toString(crc.getValue()))
                                    .build())
                            .responseBody(software.amazon.awssdk.http.AbortableInputStream.create(
                                    new java.io.ByteArrayInputStream(BODY)))
                            .build();
                }

                @Override
                public void abort() {}
            };
        }

        @Override
        public void close() {}
    }

    private static TransactWriteItem put(String pk, String payload) {
        return TransactWriteItem.builder()
                .put(Put.builder().tableName("bench").item(item(pk, payload)).build())
                .build();
    }

    private static Map<String, AttributeValue> item(String pk, String payload) {
        return Map.of(
                "pk",
                AttributeValue.fromS(pk),
                "payload",
                AttributeValue.fromS(payload),
                "n",
                AttributeValue.fromN("42"));
    }

    private static void raw(URI endpoint, String op, String body) throws Exception {
        HttpURLConnection c = (HttpURLConnection) endpoint.toURL().openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("X-Amz-Target", "DynamoDB_20120810." + op);
        c.setRequestProperty("Content-Type", "application/x-amz-json-1.0");
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        c.setFixedLengthStreamingMode(b.length);
        try (OutputStream os = c.getOutputStream()) {
            os.write(b);
        }
        if (c.getResponseCode() != 200) throw new IllegalStateException("HTTP " + c.getResponseCode());
        try (InputStream in = c.getInputStream()) {
            in.readAllBytes();
        }
    }

    private static DynamoDbClient client(LocalDynamoDb db) {
        return DynamoDbClient.builder()
                .endpointOverride(db.endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    private static void run(String name, int threads, Op op) throws Exception {
        phase(threads, op, WARMUP, null);
        List<long[]> lat = new ArrayList<>();
        long count = phase(threads, op, SECONDS, lat);
        long[] all = lat.stream()
                .flatMapToLong(Arrays::stream)
                .filter(v -> v > 0)
                .sorted()
                .toArray();
        System.out.printf(
                Locale.ROOT,
                "%-34s %7d %10.0f %9.3f %9.3f%n",
                name,
                threads,
                count / (double) SECONDS,
                pct(all, 0.50) / 1e6,
                pct(all, 0.99) / 1e6);
    }

    private static double pct(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }

    private static long phase(int threads, Op op, int seconds, List<long[]> latencies) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicInteger total = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(threads);
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int id = t;
            long[] lat = new long[2_000_000];
            if (latencies != null) latencies.add(lat);
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    long i = 0;
                    while (System.nanoTime() < end) {
                        long s = System.nanoTime();
                        op.run(id, i);
                        long d = System.nanoTime() - s;
                        if (i < lat.length) lat[(int) i] = d;
                        i++;
                    }
                    total.addAndGet((int) i);
                } catch (Throwable e) {
                    failure[0] = e;
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        if (failure[0] != null) throw new AssertionError(failure[0]);
        return total.get();
    }
}
