package io.durablesessions.functions.store;

import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamSpecification;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;

/** Creates the tables of {@link TableLayout} (local stack and tests; AWS gets them from CDK). */
public final class TableProvisioner {
    private TableProvisioner() {}

    public static void createAll(DynamoDbClient ddb, TableNames names) {
        for (TableLayout t : TableLayout.ALL) {
            try {
                ddb.createTable(request(t, names.nameOf(t)));
                // a real table is CREATING for a while and refuses UpdateTimeToLive until ACTIVE
                ddb.waiter().waitUntilTableExists(r -> r.tableName(names.nameOf(t)));
                t.ttlAttribute()
                        .ifPresent(attr -> ddb.updateTimeToLive(r -> r.tableName(names.nameOf(t))
                                .timeToLiveSpecification(s -> s.enabled(true).attributeName(attr))));
            } catch (ResourceInUseException exists) {
                // already there: provisioning is idempotent
            }
        }
    }

    static CreateTableRequest request(TableLayout t, String name) {
        List<AttributeDefinition> defs = new ArrayList<>();
        List<KeySchemaElement> keys = new ArrayList<>();
        addKey(defs, keys, t.partitionKey(), KeyType.HASH);
        t.sortKey().ifPresent(k -> addKey(defs, keys, k, KeyType.RANGE));
        List<GlobalSecondaryIndex> gsis = new ArrayList<>();
        for (TableLayout.Index idx : t.indexes()) {
            List<KeySchemaElement> ik = new ArrayList<>();
            addKey(defs, ik, idx.partitionKey(), KeyType.HASH);
            idx.sortKey().ifPresent(k -> addKey(defs, ik, k, KeyType.RANGE));
            gsis.add(GlobalSecondaryIndex.builder()
                    .indexName(idx.name())
                    .keySchema(ik)
                    .projection(Projection.builder()
                            .projectionType(
                                    ProjectionType.fromValue(idx.projection().name()))
                            .build())
                    .build());
        }
        CreateTableRequest.Builder b = CreateTableRequest.builder()
                .tableName(name)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(defs)
                .keySchema(keys);
        if (!gsis.isEmpty()) b.globalSecondaryIndexes(gsis);
        t.stream()
                .ifPresent(v -> b.streamSpecification(StreamSpecification.builder()
                        .streamEnabled(true)
                        .streamViewType(StreamViewType.fromValue(v.name()))
                        .build()));
        return b.build();
    }

    private static void addKey(
            List<AttributeDefinition> defs, List<KeySchemaElement> keys, TableLayout.KeyAttr k, KeyType type) {
        if (defs.stream().noneMatch(d -> d.attributeName().equals(k.name()))) {
            defs.add(AttributeDefinition.builder()
                    .attributeName(k.name())
                    .attributeType(ScalarAttributeType.fromValue(k.type().name()))
                    .build());
        }
        keys.add(
                KeySchemaElement.builder().attributeName(k.name()).keyType(type).build());
    }
}
