package io.durablesessions.functions.testing;

import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import java.util.UUID;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** One embedded DynamoDB per test class, with the service's tables created from the layout. */
public final class TestDynamo implements AutoCloseable {
    public final LocalDynamoDb server;
    public final DynamoDbClient client;
    public final TableNames tables;

    private TestDynamo() {
        server = LocalDynamoDb.start();
        client = Clients.dynamo(Region.US_EAST_1, server.endpoint());
        tables = TableNames.withPrefix("t" + UUID.randomUUID().toString().substring(0, 8) + "-");
        TableProvisioner.createAll(client, tables);
    }

    public static TestDynamo start() {
        return new TestDynamo();
    }

    @Override
    public void close() {
        client.close();
        server.close();
    }
}
