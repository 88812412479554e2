package io.durablesessions.functions.testing;

import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import java.net.URI;
import java.util.UUID;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * A DynamoDB for one test class, with the service's tables created from the layout: the
 * embedded one by default, or LocalStack's (Testcontainers) with {@code -Ddynamo.target=localstack}
 * — then the tests are skipped, not failed, where no Docker engine runs.
 */
public final class TestDynamo implements AutoCloseable {
    public static final String LOCALSTACK_IMAGE = "localstack/localstack:4.4";

    public final DynamoDbClient client;
    public final TableNames tables;
    private final AutoCloseable backend;

    private TestDynamo(URI endpoint, AutoCloseable backend) {
        this.backend = backend;
        client = Clients.dynamo(Region.US_EAST_1, endpoint);
        tables = TableNames.withPrefix("t" + UUID.randomUUID().toString().substring(0, 8) + "-");
        TableProvisioner.createAll(client, tables);
    }

    /** For {@code @EnabledIf}: false only for the LocalStack target on a machine without Docker. */
    public static boolean available() {
        return !"localstack".equals(System.getProperty("dynamo.target"))
                || DockerClientFactory.instance().isDockerAvailable();
    }

    public static TestDynamo start() {
        if ("localstack".equals(System.getProperty("dynamo.target"))) {
            LocalStackContainer container = new LocalStackContainer(DockerImageName.parse(LOCALSTACK_IMAGE))
                    .withServices(LocalStackContainer.Service.DYNAMODB);
            container.start();
            return new TestDynamo(container.getEndpoint(), container::stop);
        }
        LocalDynamoDb server = LocalDynamoDb.start();
        return new TestDynamo(server.endpoint(), server::close);
    }

    @Override
    public void close() {
        client.close();
        try {
            backend.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
