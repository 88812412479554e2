package io.durablesessions.infra;

import io.durablesessions.functions.store.TableLayout;
import io.durablesessions.functions.store.TableNames;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.dynamodb.Attribute;
import software.amazon.awscdk.services.dynamodb.AttributeType;
import software.amazon.awscdk.services.dynamodb.BillingMode;
import software.amazon.awscdk.services.dynamodb.GlobalSecondaryIndexProps;
import software.amazon.awscdk.services.dynamodb.PointInTimeRecoverySpecification;
import software.amazon.awscdk.services.dynamodb.ProjectionType;
import software.amazon.awscdk.services.dynamodb.StreamViewType;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.dynamodb.TableEncryption;
import software.constructs.Construct;

/**
 * The DynamoDB tables, built from {@link TableLayout#ALL} and nothing else: keys, key types, TTL
 * attribute, stream view and indexes all come from that one definition. On-demand, point-in-time
 * recovery everywhere. The event log and session state are the product's data: they are retained
 * when the stack is deleted and protected against deletion; connection rows are ephemeral (they
 * expire within hours) and go with the stack.
 */
public final class SessionTables extends Construct {
    private final Map<TableLayout, Table> tables = new LinkedHashMap<>();

    public SessionTables(Construct scope, String id, String tableNamePrefix) {
        super(scope, id);
        for (TableLayout layout : TableLayout.ALL) {
            tables.put(layout, table(layout, tableNamePrefix));
        }
    }

    private Table table(TableLayout layout, String prefix) {
        boolean durable = isDurable(layout);
        var b = Table.Builder.create(this, layout.id())
                .partitionKey(attribute(layout.partitionKey()))
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .encryption(TableEncryption.AWS_MANAGED)
                .pointInTimeRecoverySpecification(PointInTimeRecoverySpecification.builder()
                        .pointInTimeRecoveryEnabled(true)
                        .build())
                .deletionProtection(durable)
                .removalPolicy(durable ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
        layout.sortKey().ifPresent(k -> b.sortKey(attribute(k)));
        layout.ttlAttribute().ifPresent(b::timeToLiveAttribute);
        layout.stream().ifPresent(v -> b.stream(streamView(v)));
        if (prefix != null && !prefix.isBlank())
            b.tableName(TableNames.withPrefix(prefix).nameOf(layout));
        Table table = b.build();
        for (TableLayout.Index index : layout.indexes()) {
            var gsi = GlobalSecondaryIndexProps.builder()
                    .indexName(index.name())
                    .partitionKey(attribute(index.partitionKey()))
                    // as the layout says: the due index is keys-only so per-append run updates cost no index write
                    .projectionType(ProjectionType.valueOf(index.projection().name()));
            index.sortKey().ifPresent(k -> gsi.sortKey(attribute(k)));
            table.addGlobalSecondaryIndex(gsi.build());
        }
        return table;
    }

    /** The event log and the session state outlive the stack; connection rows are disposable. */
    static boolean isDurable(TableLayout layout) {
        return layout != TableLayout.CONNECTIONS;
    }

    static Attribute attribute(TableLayout.KeyAttr key) {
        return Attribute.builder()
                .name(key.name())
                .type(
                        switch (key.type()) {
                            case S -> AttributeType.STRING;
                            case N -> AttributeType.NUMBER;
                        })
                .build();
    }

    static StreamViewType streamView(TableLayout.StreamView view) {
        return switch (view) {
            case NEW_IMAGE -> StreamViewType.NEW_IMAGE;
            case NEW_AND_OLD_IMAGES -> StreamViewType.NEW_AND_OLD_IMAGES;
            case KEYS_ONLY -> StreamViewType.KEYS_ONLY;
        };
    }

    public Table table(TableLayout layout) {
        Table t = tables.get(layout);
        if (t == null) throw new IllegalArgumentException("no table for " + layout.id());
        return t;
    }

    public Table events() {
        return table(TableLayout.EVENTS);
    }

    public Map<TableLayout, Table> all() {
        return Map.copyOf(tables);
    }

    /** The environment every handler reads its table names from (TableNames.fromEnvironment). */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        tables.forEach((layout, table) -> env.put(layout.envVar(), table.getTableName()));
        return env;
    }
}
