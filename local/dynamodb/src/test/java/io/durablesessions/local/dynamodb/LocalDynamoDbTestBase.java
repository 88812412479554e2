package io.durablesessions.local.dynamodb;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/** One server per test class, used through the real AWS SDK v2 clients. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LocalDynamoDbTestBase {
    LocalDynamoDb server;
    DynamoDbClient ddb;
    DynamoDbStreamsClient streams;

    Options options() {
        return Options.defaults().withTtlSweepInterval(null);
    }

    @BeforeAll
    void startServer() {
        server = LocalDynamoDb.start(options());
        ddb = client(true);
        streams = DynamoDbStreamsClient.builder()
                .endpointOverride(server.endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    DynamoDbClient client(boolean retries) {
        return DynamoDbClient.builder()
                .endpointOverride(server.endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(c -> {
                    if (!retries) c.retryPolicy(RetryPolicy.none());
                })
                .build();
    }

    @AfterAll
    void stopServer() {
        ddb.close();
        streams.close();
        server.close();
    }

    void createTable(String name, boolean withSortKey) {
        CreateTableRequest.Builder b =
                CreateTableRequest.builder().tableName(name).billingMode(BillingMode.PAY_PER_REQUEST);
        if (withSortKey) {
            b.attributeDefinitions(attr("pk", ScalarAttributeType.S), attr("sk", ScalarAttributeType.N))
                    .keySchema(key("pk", KeyType.HASH), key("sk", KeyType.RANGE));
        } else {
            b.attributeDefinitions(attr("pk", ScalarAttributeType.S)).keySchema(key("pk", KeyType.HASH));
        }
        ddb.createTable(b.build());
    }

    static AttributeDefinition attr(String name, ScalarAttributeType type) {
        return AttributeDefinition.builder()
                .attributeName(name)
                .attributeType(type)
                .build();
    }

    static KeySchemaElement key(String name, KeyType type) {
        return KeySchemaElement.builder().attributeName(name).keyType(type).build();
    }

    static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    static AttributeValue n(long v) {
        return AttributeValue.fromN(Long.toString(v));
    }

    /** item("pk", s("a"), "n", n(1)) */
    static Map<String, AttributeValue> item(Object... kv) {
        Map<String, AttributeValue> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (AttributeValue) kv[i + 1]);
        return m;
    }

    static String repeat(char c, int n) {
        char[] a = new char[n];
        Arrays.fill(a, c);
        return new String(a);
    }
}
