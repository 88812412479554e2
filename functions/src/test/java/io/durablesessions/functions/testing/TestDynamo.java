package io.durablesessions.functions.testing;

import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.store.TableLayout;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * A DynamoDB for one test class, with the service's tables created from the layout:
 * <ul>
 *   <li>the embedded one by default; {@code -Ddynamo.conflicts=P} makes it inject transaction
 *       conflicts with probability P on items a transaction held in the last 50 ms
 *       (see {@code Faults.transactionConflicts}), and the run fails if none was injected;</li>
 *   <li>any endpoint with {@code -Ddynamo.endpoint=URL} or {@code DS_DYNAMO_ENDPOINT=URL} (moto,
 *       LocalStack, or a real DynamoDB: {@code https://dynamodb.REGION.amazonaws.com} with
 *       {@code AWS_REGION} and credentials from the default chain); tables get a random prefix and are
 *       deleted at the end;</li>
 *   <li>LocalStack's (Testcontainers) with {@code -Ddynamo.target=localstack}: then the tests are
 *       skipped, not failed, where no Docker engine runs.</li>
 * </ul>
 */
public final class TestDynamo implements AutoCloseable {
    public static final String LOCALSTACK_IMAGE = "localstack/localstack:4.4";
    static final Duration CONFLICT_HOLD = Duration.ofMillis(50);

    public final DynamoDbClient client;
    public final TableNames tables;
    private final URI endpoint;
    private final Region region;
    private final AutoCloseable backend;
    private final LocalDynamoDb embedded;
    private final boolean external;

    private TestDynamo(URI endpoint, Region region, AutoCloseable backend, LocalDynamoDb embedded, boolean external) {
        this.backend = backend;
        this.embedded = embedded;
        this.external = external;
        this.endpoint = endpoint;
        this.region = region;
        client = Clients.dynamo(region, endpoint);
        tables = TableNames.withPrefix("t" + UUID.randomUUID().toString().substring(0, 8) + "-");
        TableProvisioner.createAll(client, tables);
    }

    /** Another client of the same tables, its requests seen by {@code interceptor} (a test's probe). */
    public DynamoDbClient clientWith(ExecutionInterceptor interceptor) {
        return Clients.dynamo(region, endpoint, List.of(interceptor));
    }

    /** For {@code @EnabledIf}: false only for the LocalStack target on a machine without Docker. */
    public static boolean available() {
        return !"localstack".equals(System.getProperty("dynamo.target"))
                || DockerClientFactory.instance().isDockerAvailable();
    }

    /** {@code -Ddynamo.endpoint}, else {@code DS_DYNAMO_ENDPOINT}, else null (the embedded one). */
    public static URI externalEndpoint() {
        String v = System.getProperty("dynamo.endpoint", System.getenv("DS_DYNAMO_ENDPOINT"));
        return v == null || v.isBlank() ? null : URI.create(v.trim());
    }

    public static TestDynamo start() {
        if ("localstack".equals(System.getProperty("dynamo.target"))) {
            LocalStackContainer container = new LocalStackContainer(DockerImageName.parse(LOCALSTACK_IMAGE))
                    .withServices(LocalStackContainer.Service.DYNAMODB);
            container.start();
            return new TestDynamo(container.getEndpoint(), Region.US_EAST_1, container::stop, null, false);
        }
        URI external = externalEndpoint();
        if (external != null) {
            Region region = Region.of(System.getenv().getOrDefault("AWS_REGION", "us-east-1"));
            return new TestDynamo(external, region, () -> {}, null, true);
        }
        LocalDynamoDb server = LocalDynamoDb.start();
        String conflicts = System.getProperty("dynamo.conflicts");
        if (conflicts != null && !conflicts.isBlank()) {
            server.faults()
                    .transactionConflicts(
                            Double.parseDouble(conflicts),
                            CONFLICT_HOLD,
                            Long.getLong("dynamo.conflicts.seed", 20261129L));
        }
        return new TestDynamo(server.endpoint(), Region.US_EAST_1, server::close, server, false);
    }

    @Override
    public void close() {
        try {
            if (external) {
                for (TableLayout t : TableLayout.ALL) {
                    try {
                        client.deleteTable(d -> d.tableName(tables.nameOf(t)));
                    } catch (RuntimeException e) {
                        System.err.println("could not delete test table " + tables.nameOf(t) + ": " + e);
                    }
                }
            }
            if (embedded != null && System.getProperty("dynamo.conflicts") != null) {
                long single = embedded.faults().transactionConflictExceptions();
                long cancelled = embedded.faults().transactionConflictCancellations();
                System.out.printf(
                        "[conflicts] injected: %d TransactionConflictException, %d transactions cancelled "
                                + "with TransactionConflict%n",
                        single, cancelled);
                if (single == 0 || cancelled == 0) {
                    throw new AssertionError("the conflict run injected " + single + " single-item conflicts and "
                            + cancelled + " transaction conflicts: it tested nothing");
                }
            }
        } finally {
            client.close();
            try {
                backend.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
