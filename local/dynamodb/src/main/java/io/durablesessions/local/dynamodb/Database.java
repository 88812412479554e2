package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.local.dynamodb.Expr.And;
import io.durablesessions.local.dynamodb.Expr.Between;
import io.durablesessions.local.dynamodb.Expr.Compare;
import io.durablesessions.local.dynamodb.Expr.Cond;
import io.durablesessions.local.dynamodb.Expr.Function;
import io.durablesessions.local.dynamodb.Expr.In;
import io.durablesessions.local.dynamodb.Expr.Not;
import io.durablesessions.local.dynamodb.Expr.Operand;
import io.durablesessions.local.dynamodb.Expr.Or;
import io.durablesessions.local.dynamodb.Expr.Parsed;
import io.durablesessions.local.dynamodb.Expr.Path;
import io.durablesessions.local.dynamodb.Expr.PathOperand;
import io.durablesessions.local.dynamodb.Expr.Size;
import io.durablesessions.local.dynamodb.Expr.Update;
import io.durablesessions.local.dynamodb.Expr.ValueRef;
import io.durablesessions.local.dynamodb.Values.Key;
import io.durablesessions.local.dynamodb.Values.KeyPart;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The DynamoDB_20120810 operations over in-memory tables. Every public method is called with the
 * server lock held, so each request (including a whole transaction) is atomic and serializable.
 */
final class Database {
    private static final long PAGE_BYTES = 1024 * 1024;
    private static final long IDEMPOTENCY_WINDOW_MILLIS = 10 * 60 * 1000L;

    private final Options options;
    private final Stats stats;
    private final Faults faults;
    final Streams streams;
    private final Map<String, Table> tables = new TreeMap<>();
    /** ClientRequestTokens of the last 10 minutes, oldest first (insertion order): expiry looks only at the oldest. */
    private final LinkedHashMap<String, TokenUse> transactionTokens = new LinkedHashMap<>();
    /** Items a recent transaction still holds (see {@link Faults#transactionConflicts}), until System.nanoTime(). */
    private final Map<Target, Long> heldUntil = new HashMap<>();

    private record TokenUse(String requestFingerprint, ObjectNode response, long atMillis) {}

    /** One item of one table. */
    private record Target(String table, Key key) {}

    /** Where changes are recorded when the server has a data directory; null while replaying or in memory only. */
    private Journal journal;

    Database(Options options, Stats stats, Faults faults) {
        this.options = options;
        this.stats = stats;
        this.faults = faults;
        this.streams = new Streams(options, stats);
    }

    // ================================================================ durability (see Journal)

    void journal(Journal journal) {
        this.journal = journal;
    }

    Collection<Table> tables() {
        return tables.values();
    }

    /** A table change replayed from the journal, through the same code as the request. */
    void control(String operation, JsonNode req) {
        switch (operation) {
            case "CreateTable" -> createTable(req);
            case "UpdateTable" -> updateTable(req);
            case "DeleteTable" -> deleteTable(req);
            case "UpdateTimeToLive" -> updateTimeToLive(req);
            default -> throw ApiError.validation("not a table change: " + operation);
        }
    }

    /** An item as it was after a journaled change (no condition, no stream record, no metering). */
    void replayPut(String tableName, ObjectNode item) {
        Table t = table(tableName);
        t.write(t.get(t.keyOf(item)), item, null, 0);
    }

    void replayDelete(String tableName, ObjectNode key) {
        Table t = table(tableName);
        ObjectNode old = t.get(t.keyOf(key));
        if (old != null) t.write(old, null, null, 0);
    }

    private void journalChange(Table t, ObjectNode old, ObjectNode next) {
        if (journal == null) return;
        if (next != null) journal.put(t.name, next);
        else journal.delete(t.name, t.keyAttributes(old));
    }

    // ================================================================ control plane

    ObjectNode createTable(JsonNode req) {
        String name = Json.required(req, "TableName");
        if (!name.matches("[a-zA-Z0-9_.-]{3,255}")) {
            throw ApiError.validation(
                    "1 validation error detected: Value '" + name
                            + "' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255");
        }
        if (tables.containsKey(name)) throw new ApiError("ResourceInUseException", "Table already exists: " + name);
        if (req.has("LocalSecondaryIndexes"))
            throw ApiError.validation("LocalSecondaryIndexes are not supported by LocalDynamoDb");
        Map<String, String> types = new LinkedHashMap<>();
        for (JsonNode d : req.path("AttributeDefinitions")) {
            String t = d.path("AttributeType").asText();
            if (!List.of("S", "N", "B").contains(t))
                throw ApiError.validation("Member must satisfy enum value set: [B, N, S]");
            types.put(d.path("AttributeName").asText(), t);
        }
        Table.Schema schema = schema(req.get("KeySchema"), types);
        Set<String> used = new HashSet<>(schema.names());
        String billing = Json.textOr(req, "BillingMode", "PROVISIONED");
        Table t = new Table(name, arnPrefix() + "table/" + name, schema, types, billing);
        for (JsonNode g : req.path("GlobalSecondaryIndexes")) {
            Table.Index idx = index(g, types);
            if (t.indexes.stream().anyMatch(i -> i.name.equals(idx.name)))
                throw ApiError.validation(
                        "One or more parameter values were invalid: Duplicate index name: " + idx.name);
            used.addAll(idx.schema.names());
            t.indexes.add(idx);
        }
        if (!used.equals(types.keySet())) {
            throw ApiError.validation(
                    "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: "
                            + types.keySet() + ", keys used: " + used);
        }
        JsonNode spec = req.get("StreamSpecification");
        if (spec != null && spec.path("StreamEnabled").asBoolean())
            t.stream = streams.create(t, spec.path("StreamViewType").asText());
        tables.put(name, t);
        ObjectNode out = Json.object();
        out.set("TableDescription", t.describe("ACTIVE", arnPrefix()));
        return out;
    }

    private static Table.Schema schema(JsonNode keySchema, Map<String, String> types) {
        String hash = null, range = null;
        if (keySchema == null || !keySchema.isArray() || keySchema.isEmpty() || keySchema.size() > 2) {
            throw ApiError.validation(
                    "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2");
        }
        for (JsonNode k : keySchema) {
            String n = k.path("AttributeName").asText();
            if (!types.containsKey(n)) {
                throw ApiError.validation(
                        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: ["
                                + n + "], AttributeDefinitions: " + types.keySet());
            }
            switch (k.path("KeyType").asText()) {
                case "HASH" -> {
                    if (hash != null)
                        throw ApiError.validation("Invalid KeySchema: Some index key attribute have no definition");
                    hash = n;
                }
                case "RANGE" -> {
                    if (range != null)
                        throw ApiError.validation("Invalid KeySchema: Some index key attribute have no definition");
                    range = n;
                }
                default -> throw ApiError.validation("Invalid KeyType in KeySchema");
            }
        }
        if (hash == null)
            throw ApiError.validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
        return new Table.Schema(hash, range);
    }

    private static Table.Index index(JsonNode g, Map<String, String> types) {
        String name = Json.required(g, "IndexName");
        Table.Schema s = schema(g.get("KeySchema"), types);
        JsonNode p = g.path("Projection");
        String type = p.path("ProjectionType").asText("ALL");
        if (type.isEmpty()) type = "ALL";
        if (!List.of("ALL", "KEYS_ONLY", "INCLUDE").contains(type))
            throw ApiError.validation("Unknown ProjectionType: " + type);
        Set<String> nonKey = new LinkedHashSet<>();
        p.path("NonKeyAttributes").forEach(n -> nonKey.add(n.asText()));
        return new Table.Index(name, s, type, nonKey);
    }

    private String arnPrefix() {
        return "arn:aws:dynamodb:" + options.region() + ":" + options.accountId() + ":";
    }

    Table table(JsonNode req) {
        return table(Json.required(req, "TableName"));
    }

    Table table(String name) {
        if (name.startsWith("arn:")) name = name.substring(name.indexOf(":table/") + 7);
        Table t = tables.get(name);
        if (t == null) throw ApiError.notFound("Requested resource not found");
        return t;
    }

    ObjectNode describeTable(JsonNode req) {
        String name = Json.required(req, "TableName");
        Table t = tables.get(name);
        if (t == null) throw ApiError.notFound("Requested resource not found: Table: " + name + " not found");
        ObjectNode out = Json.object();
        out.set("Table", t.describe("ACTIVE", arnPrefix()));
        return out;
    }

    ObjectNode deleteTable(JsonNode req) {
        Table t = table(req);
        tables.remove(t.name);
        streams.disable(t.stream);
        ObjectNode out = Json.object();
        out.set("TableDescription", t.describe("DELETING", arnPrefix()));
        return out;
    }

    ObjectNode listTables(JsonNode req) {
        int limit = req.has("Limit") ? req.get("Limit").asInt() : 100;
        String start = Json.text(req, "ExclusiveStartTableName");
        ObjectNode out = Json.object();
        ArrayNode names = out.putArray("TableNames");
        String last = null;
        for (String n : tables.keySet()) {
            if (start != null && n.compareTo(start) <= 0) continue;
            if (names.size() == limit) {
                out.put("LastEvaluatedTableName", last);
                break;
            }
            names.add(n);
            last = n;
        }
        return out;
    }

    ObjectNode updateTable(JsonNode req) {
        Table t = table(req);
        if (req.has("BillingMode")) t.billingMode = req.get("BillingMode").asText();
        JsonNode spec = req.get("StreamSpecification");
        if (spec != null) {
            boolean enable = spec.path("StreamEnabled").asBoolean();
            if (enable && t.stream != null)
                throw ApiError.validation("Table already has an enabled stream: " + t.stream.arn);
            if (!enable && t.stream == null) throw ApiError.validation("Table already has no enabled stream");
            if (enable) t.stream = streams.create(t, spec.path("StreamViewType").asText());
            else {
                streams.disable(t.stream);
                t.stream = null;
            }
        }
        for (JsonNode u : req.path("GlobalSecondaryIndexUpdates")) {
            if (u.has("Create")) {
                Map<String, String> types = new LinkedHashMap<>(t.attributeTypes);
                for (JsonNode d : req.path("AttributeDefinitions"))
                    types.put(
                            d.path("AttributeName").asText(),
                            d.path("AttributeType").asText());
                Table.Index idx = index(u.get("Create"), types);
                if (t.indexes.stream().anyMatch(i -> i.name.equals(idx.name)))
                    throw ApiError.validation("Attempting to create an index which already exists");
                t.attributeTypes.putAll(types);
                t.indexes.add(idx);
                for (ObjectNode item : t.items.values()) { // backfill
                    ObjectNode projected = t.projectForIndex(idx, item);
                    if (projected != null
                            && idx.schema.names().stream()
                                    .allMatch(n -> Values.type(item.get(n)).equals(types.get(n)))) {
                        idx.entries.put(t.indexKey(idx, item), projected);
                        idx.sizeBytes += Values.itemSize(projected);
                    }
                }
            } else if (u.has("Delete")) {
                String n = u.get("Delete").path("IndexName").asText();
                if (!t.indexes.removeIf(i -> i.name.equals(n)))
                    throw ApiError.notFound("Requested resource not found: Index: " + n);
            }
        }
        ObjectNode out = Json.object();
        out.set("TableDescription", t.describe("ACTIVE", arnPrefix()));
        return out;
    }

    ObjectNode updateTimeToLive(JsonNode req) {
        Table t = table(req);
        JsonNode spec = req.get("TimeToLiveSpecification");
        if (spec == null)
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null");
        boolean enabled = spec.path("Enabled").asBoolean();
        String attr = Json.required(spec, "AttributeName");
        if (enabled && t.ttlAttribute() != null) throw ApiError.validation("TimeToLive is already enabled");
        if (!enabled && t.ttlAttribute() == null) throw ApiError.validation("TimeToLive is already disabled");
        t.ttl(enabled ? attr : null);
        ObjectNode out = Json.object();
        out.putObject("TimeToLiveSpecification").put("Enabled", enabled).put("AttributeName", attr);
        return out;
    }

    ObjectNode describeTimeToLive(JsonNode req) {
        Table t = table(req);
        ObjectNode out = Json.object();
        ObjectNode d = out.putObject("TimeToLiveDescription");
        d.put("TimeToLiveStatus", t.ttlAttribute() != null ? "ENABLED" : "DISABLED");
        if (t.ttlAttribute() != null) d.put("AttributeName", t.ttlAttribute());
        return out;
    }

    // ================================================================ expression plumbing

    /** Rejects pre-expression ("legacy") parameters rather than silently ignoring them. */
    private static void rejectLegacy(JsonNode req, String... params) {
        for (String p : params) {
            if (req.has(p))
                throw ApiError.validation(
                        "Legacy parameter " + p + " is not supported by LocalDynamoDb; use expressions");
        }
    }

    /**
     * Builds an evaluator for the given parsed expressions, enforcing DynamoDB's rules that every
     * placeholder used is defined and every one defined is used.
     */
    private static Evaluator evaluator(JsonNode req, Parsed<?>... parsed) {
        Set<String> usedNames = new HashSet<>(), usedValues = new HashSet<>();
        boolean any = false;
        for (Parsed<?> p : parsed) {
            if (p == null) continue;
            any = true;
            usedNames.addAll(p.names());
            usedValues.addAll(p.values());
        }
        JsonNode namesNode = req.get("ExpressionAttributeNames"), valuesNode = req.get("ExpressionAttributeValues");
        if (!any && namesNode != null && !namesNode.isEmpty())
            throw ApiError.validation("ExpressionAttributeNames can only be specified when using expressions");
        if (!any && valuesNode != null && !valuesNode.isEmpty())
            throw ApiError.validation("ExpressionAttributeValues can only be specified when using expressions");
        Map<String, String> names = new HashMap<>();
        Json.forEachField(namesNode, (k, v) -> names.put(k, v.asText()));
        Map<String, JsonNode> values = new HashMap<>();
        Json.forEachField(valuesNode, (k, v) -> values.put(k, Values.valid(v)));
        for (String n : usedNames) {
            if (!names.containsKey(n))
                throw ApiError.validation(
                        "An expression attribute name used in the document path is not defined; attribute name: " + n);
        }
        for (String v : usedValues) {
            if (!values.containsKey(v))
                throw ApiError.validation(
                        "An expression attribute value used in expression is not defined; attribute value: " + v);
        }
        Set<String> unusedNames = new TreeSet<>(names.keySet());
        unusedNames.removeAll(usedNames);
        if (!unusedNames.isEmpty())
            throw ApiError.validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {"
                    + String.join(", ", unusedNames) + "}");
        Set<String> unusedValues = new TreeSet<>(values.keySet());
        unusedValues.removeAll(usedValues);
        if (!unusedValues.isEmpty())
            throw ApiError.validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {"
                    + String.join(", ", unusedValues) + "}");
        return new Evaluator(names, values);
    }

    private static Parsed<Cond> condition(JsonNode req, String field) {
        String text = Json.text(req, field);
        return text == null ? null : ExpressionParser.condition(field, text);
    }

    private static Parsed<List<Path>> projection(JsonNode req) {
        String text = Json.text(req, "ProjectionExpression");
        return text == null ? null : ExpressionParser.projection(text);
    }

    private static ObjectNode project(Evaluator ev, Parsed<List<Path>> projection, ObjectNode item) {
        if (projection == null || item == null) return item;
        List<List<Object>> paths = new ArrayList<>();
        projection.ast().forEach(p -> paths.add(ev.resolve(p)));
        return Evaluator.project(item, paths);
    }

    private static boolean returnOldOnFailure(JsonNode req) {
        return "ALL_OLD".equals(Json.text(req, "ReturnValuesOnConditionCheckFailure"));
    }

    private static String returnValues(JsonNode req, String... allowed) {
        String rv = Json.textOr(req, "ReturnValues", "NONE");
        if (!Arrays.asList(allowed).contains(rv)) throw ApiError.validation("Return values set to invalid value");
        return rv;
    }

    // ================================================================ single-item writes

    /** A prepared single-item write: what the item becomes, and whether its condition holds. */
    private record Write(
            Table table,
            Key key,
            ObjectNode old,
            ObjectNode next,
            boolean conditionHolds,
            List<List<Object>> updatedPaths) {}

    private Write preparePut(JsonNode req) {
        rejectLegacy(req, "Expected", "ConditionalOperator");
        Table t = table(req);
        if (req.get("Item") == null)
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null");
        ObjectNode item = Values.validItem(req.get("Item"));
        t.validateItem(item);
        Parsed<Cond> cond = condition(req, "ConditionExpression");
        Evaluator ev = evaluator(req, cond);
        Key key = t.keyOf(item);
        ObjectNode old = t.get(key);
        return new Write(t, key, old, item, cond == null || ev.test(cond.ast(), old), null);
    }

    private Write prepareDelete(JsonNode req) {
        rejectLegacy(req, "Expected", "ConditionalOperator");
        Table t = table(req);
        ObjectNode key = t.validKey(req.get("Key"));
        Parsed<Cond> cond = condition(req, "ConditionExpression");
        Evaluator ev = evaluator(req, cond);
        ObjectNode old = t.get(t.keyOf(key));
        return new Write(t, t.keyOf(key), old, null, cond == null || ev.test(cond.ast(), old), null);
    }

    private Write prepareUpdate(JsonNode req) {
        rejectLegacy(req, "Expected", "ConditionalOperator", "AttributeUpdates");
        Table t = table(req);
        ObjectNode key = t.validKey(req.get("Key"));
        Parsed<Cond> cond = condition(req, "ConditionExpression");
        String ue = Json.text(req, "UpdateExpression");
        Parsed<Update> update = ue == null ? null : ExpressionParser.update(ue);
        Evaluator ev = evaluator(req, cond, update);
        ObjectNode old = t.get(t.keyOf(key));
        boolean holds = cond == null || ev.test(cond.ast(), old);
        if (!holds) return new Write(t, t.keyOf(key), old, old, false, List.of());
        ObjectNode next = update == null ? (old != null ? old : key) : ev.apply(update.ast(), old, key, t.keyNames());
        t.validateItem(next);
        return new Write(t, t.keyOf(key), old, next, true, update == null ? List.of() : ev.updatedPaths(update.ast()));
    }

    private Write prepareConditionCheck(JsonNode req) {
        Table t = table(req);
        ObjectNode key = t.validKey(req.get("Key"));
        Parsed<Cond> cond = condition(req, "ConditionExpression");
        if (cond == null) throw ApiError.validation("ConditionExpression is required for ConditionCheck");
        Evaluator ev = evaluator(req, cond);
        ObjectNode old = t.get(t.keyOf(key));
        return new Write(t, t.keyOf(key), old, old, ev.test(cond.ast(), old), null);
    }

    /** Stores the change, emits the stream record and meters it. */
    private void commit(Write w, Capacity.Meter meter, double multiplier) {
        if (w.next == w.old) { // condition checks and no-op writes still cost a write
            meter.table(w.table.name, Capacity.writeUnits(Values.itemSize(w.old)) * multiplier);
            return;
        }
        if (w.old == null && w.next == null) {
            meter.table(w.table.name, Capacity.writeUnits(0) * multiplier);
            return;
        }
        w.table.write(w.old, w.next, meter, multiplier);
        journalChange(w.table, w.old, w.next);
        streams.emit(w.table, w.old, w.next, false);
    }

    private ObjectNode finishWrite(JsonNode req, Write w, Capacity.Meter meter, String returnValues) {
        ObjectNode out = Json.object();
        JsonNode attrs = switch (returnValues) {
            case "ALL_OLD" -> w.old;
            case "ALL_NEW" -> w.next;
            case "UPDATED_OLD" -> Evaluator.project(w.old, w.updatedPaths);
            case "UPDATED_NEW" -> Evaluator.project(w.next, w.updatedPaths);
            default -> null;
        };
        if (attrs != null && !attrs.isEmpty()) out.set("Attributes", attrs);
        meter.record(stats);
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), false);
        return out;
    }

    ObjectNode putItem(JsonNode req) {
        String rv = returnValues(req, "NONE", "ALL_OLD");
        Write w = preparePut(req);
        rejectIfHeld(w);
        Capacity.Meter meter = new Capacity.Meter(true);
        if (!w.conditionHolds) failCondition(req, w, meter);
        commit(w, meter, 1);
        return finishWrite(req, w, meter, rv);
    }

    ObjectNode deleteItem(JsonNode req) {
        String rv = returnValues(req, "NONE", "ALL_OLD");
        Write w = prepareDelete(req);
        rejectIfHeld(w);
        Capacity.Meter meter = new Capacity.Meter(true);
        if (!w.conditionHolds) failCondition(req, w, meter);
        commit(w, meter, 1);
        return finishWrite(req, w, meter, rv);
    }

    ObjectNode updateItem(JsonNode req) {
        String rv = returnValues(req, "NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW");
        Write w = prepareUpdate(req);
        rejectIfHeld(w);
        Capacity.Meter meter = new Capacity.Meter(true);
        if (!w.conditionHolds) failCondition(req, w, meter);
        commit(w, meter, 1);
        return finishWrite(req, w, meter, rv);
    }

    /** A failed condition still consumes write capacity, as on DynamoDB. */
    private void failCondition(JsonNode req, Write w, Capacity.Meter meter) {
        meter.table(w.table.name, Capacity.writeUnits(Values.itemSize(w.old)));
        meter.record(stats);
        throw ApiError.conditionFailed(returnOldOnFailure(req) && w.old != null ? w.old : null);
    }

    // ================================================================ transaction conflicts

    /** DynamoDB refuses a single-item write to an item an in-flight transaction holds. */
    private void rejectIfHeld(Write w) {
        if (conflicts(w.table, w.key)) {
            faults.countConflictException();
            throw new ApiError("TransactionConflictException", "Transaction is ongoing for the item");
        }
    }

    private boolean conflicts(Table t, Key key) {
        if (heldUntil.isEmpty()) return false;
        Long until = heldUntil.get(new Target(t.name, key));
        return until != null && until - System.nanoTime() > 0 && faults.conflictOnHeldItem();
    }

    /** The items of a committed transaction stay held for a while, as if its commit were still in flight. */
    private void hold(Collection<Target> targets) {
        long hold = faults.conflictHoldNanos();
        if (hold <= 0) {
            heldUntil.clear();
            return;
        }
        long now = System.nanoTime();
        if (heldUntil.size() > 10_000) heldUntil.values().removeIf(until -> until - now <= 0);
        for (Target t : targets) heldUntil.put(t, now + hold);
    }

    private static ObjectNode conflictReason() {
        return Json.object().put("Code", "TransactionConflict").put("Message", "Transaction is ongoing for the item");
    }

    // ================================================================ reads

    ObjectNode getItem(JsonNode req) {
        rejectLegacy(req, "AttributesToGet");
        Table t = table(req);
        ObjectNode key = t.validKey(req.get("Key"));
        Parsed<List<Path>> proj = projection(req);
        Evaluator ev = evaluator(req, proj);
        boolean consistent = req.path("ConsistentRead").asBoolean(false);
        ObjectNode item = t.get(t.keyOf(key));
        Capacity.Meter meter = new Capacity.Meter(false);
        meter.table(t.name, Capacity.readUnits(Values.itemSize(item), consistent));
        meter.record(stats);
        ObjectNode out = Json.object();
        if (item != null) out.set("Item", project(ev, proj, item));
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), false);
        return out;
    }

    ObjectNode batchGetItem(JsonNode req) {
        JsonNode requestItems = req.get("RequestItems");
        if (requestItems == null || requestItems.isEmpty())
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1");
        int total = 0;
        for (JsonNode tr : requestItems) total += tr.path("Keys").size();
        if (total > 100) throw ApiError.validation("Too many items requested for the BatchGetItem call");
        ObjectNode out = Json.object();
        ObjectNode responses = out.putObject("Responses");
        Capacity.Meter meter = new Capacity.Meter(false);
        for (Map.Entry<String, JsonNode> e : requestItems.properties()) {
            JsonNode tr = e.getValue();
            rejectLegacy(tr, "AttributesToGet");
            Table t = table(e.getKey());
            Parsed<List<Path>> proj = projection(tr);
            Evaluator ev = evaluator(tr, proj);
            boolean consistent = tr.path("ConsistentRead").asBoolean(false);
            ArrayNode items = responses.putArray(e.getKey());
            Set<Key> seen = new HashSet<>();
            for (JsonNode k : tr.path("Keys")) {
                ObjectNode key = t.validKey(k);
                if (!seen.add(t.keyOf(key)))
                    throw ApiError.validation("Provided list of item keys contains duplicates");
                ObjectNode item = t.get(t.keyOf(key));
                meter.table(t.name, Capacity.readUnits(Values.itemSize(item), consistent));
                if (item != null) items.add(project(ev, proj, item));
            }
        }
        out.putObject("UnprocessedKeys");
        meter.record(stats);
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), true);
        return out;
    }

    ObjectNode query(JsonNode req) {
        rejectLegacy(req, "KeyConditions", "QueryFilter", "AttributesToGet", "ConditionalOperator");
        Table t = table(req);
        String indexName = Json.text(req, "IndexName");
        Table.Index idx = indexName == null ? null : t.index(indexName);
        Table.Schema schema = idx == null ? t.schema : idx.schema;
        String kce = Json.text(req, "KeyConditionExpression");
        if (kce == null)
            throw ApiError.validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
        Parsed<Cond> keyCond = ExpressionParser.condition("KeyConditionExpression", kce);
        Parsed<Cond> filter = condition(req, "FilterExpression");
        Parsed<List<Path>> proj = projection(req);
        Evaluator ev = evaluator(req, keyCond, filter, proj);

        // Split the key condition into "hash = :v" and an optional range condition.
        List<Cond> parts = new ArrayList<>();
        if (keyCond.ast() instanceof And a) {
            parts.add(a.left());
            parts.add(a.right());
        } else parts.add(keyCond.ast());
        Cond hashCond = null, rangeCond = null;
        for (Cond c : parts) {
            String attr = keyAttribute(c, ev);
            if (attr.equals(schema.hash())
                    && c instanceof Compare cmp
                    && cmp.op().equals("=")
                    && hashCond == null) hashCond = c;
            else if (attr.equals(schema.range()) && rangeCond == null) rangeCond = c;
            else if (!schema.names().contains(attr))
                throw ApiError.validation("Query condition missed key schema element: " + schema.hash());
            else throw ApiError.validation("Query key condition not supported");
        }
        if (hashCond == null) throw ApiError.validation("Query condition missed key schema element: " + schema.hash());
        JsonNode hashValue = ev.operand(
                ((Compare) hashCond).right() instanceof ValueRef
                        ? ((Compare) hashCond).right()
                        : ((Compare) hashCond).left(),
                null);
        checkKeyType(t, schema.hash(), hashValue);
        if (rangeCond != null) checkRangeCondition(t, schema.range(), rangeCond, ev);
        if (filter != null) {
            for (String k : conditionAttributes(filter.ast(), ev)) {
                if (schema.names().contains(k))
                    throw ApiError.validation(
                            "Filter Expression can only contain non-primary key attributes: Primary key attribute: "
                                    + k);
            }
        }
        boolean consistent = req.path("ConsistentRead").asBoolean(false);
        if (consistent && idx != null)
            throw ApiError.validation("Consistent reads are not supported on global secondary indexes");

        NavigableMap<Key, ObjectNode> source = idx == null ? t.items : idx.entries;
        KeyPart hp = KeyPart.of(hashValue);
        NavigableMap<Key, ObjectNode> partition = source.subMap(
                new Key(new KeyPart[] {hp, KeyPart.MIN}), true, new Key(new KeyPart[] {hp, KeyPart.MAX}), true);
        if (schema.range() == null && idx == null)
            partition = source.subMap(new Key(new KeyPart[] {hp}), true, new Key(new KeyPart[] {hp}), true);
        boolean forward = req.path("ScanIndexForward").asBoolean(true);
        if (!forward) partition = partition.descendingMap();
        Key start = startKey(req, t, idx);
        if (start != null) partition = partition.tailMap(start, false);
        final Cond rc = rangeCond;
        return page(
                req, t, idx, partition.values(), item -> rc == null || ev.test(rc, item), ev, filter, proj, consistent);
    }

    ObjectNode scan(JsonNode req) {
        rejectLegacy(req, "ScanFilter", "AttributesToGet", "ConditionalOperator");
        Table t = table(req);
        String indexName = Json.text(req, "IndexName");
        Table.Index idx = indexName == null ? null : t.index(indexName);
        Parsed<Cond> filter = condition(req, "FilterExpression");
        Parsed<List<Path>> proj = projection(req);
        Evaluator ev = evaluator(req, filter, proj);
        boolean consistent = req.path("ConsistentRead").asBoolean(false);
        if (consistent && idx != null)
            throw ApiError.validation("Consistent reads are not supported on global secondary indexes");
        int totalSegments = req.path("TotalSegments").asInt(1);
        int segment = req.path("Segment").asInt(0);
        if (totalSegments < 1 || segment < 0 || segment >= totalSegments)
            throw ApiError.validation("The Segment parameter must be less than the TotalSegments parameter");
        NavigableMap<Key, ObjectNode> source = idx == null ? t.items : idx.entries;
        Key start = startKey(req, t, idx);
        if (start != null) source = source.tailMap(start, false);
        String hash = t.schema.hash();
        return page(
                req,
                t,
                idx,
                source.values(),
                item -> totalSegments == 1
                        || Math.floorMod(item.get(hash).toString().hashCode(), totalSegments) == segment,
                ev,
                filter,
                proj,
                consistent);
    }

    /**
     * Shared Query/Scan paging: stops at Limit evaluated items or 1 MB read, and then returns the last
     * evaluated key, as DynamoDB does (even when no further items exist).
     */
    private ObjectNode page(
            JsonNode req,
            Table t,
            Table.Index idx,
            Collection<ObjectNode> candidates,
            Predicate<ObjectNode> keyMatch,
            Evaluator ev,
            Parsed<Cond> filter,
            Parsed<List<Path>> proj,
            boolean consistent) {
        int limit = req.has("Limit") ? req.get("Limit").asInt() : Integer.MAX_VALUE;
        if (limit < 1)
            throw ApiError.validation("1 validation error detected: Value '" + limit
                    + "' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1");
        String select = Json.textOr(req, "Select", proj != null ? "SPECIFIC_ATTRIBUTES" : "ALL_ATTRIBUTES");
        if (select.equals("COUNT") && proj != null)
            throw ApiError.validation("Cannot specify the ProjectionExpression when choosing to get only the Count");
        ObjectNode out = Json.object();
        ArrayNode items = Json.array();
        int scanned = 0;
        long bytes = 0;
        ObjectNode lastEvaluated = null;
        boolean stopped = false;
        for (ObjectNode item : candidates) {
            if (!keyMatch.test(item)) continue;
            scanned++;
            bytes += Values.itemSize(item);
            if (filter == null || ev.test(filter.ast(), item)) items.add(project(ev, proj, item));
            if (scanned >= limit || bytes >= PAGE_BYTES) {
                lastEvaluated = item;
                stopped = true;
                break;
            }
        }
        if (!select.equals("COUNT")) out.set("Items", items);
        out.put("Count", items.size());
        out.put("ScannedCount", scanned);
        if (stopped) {
            ObjectNode lek = t.keyAttributes(lastEvaluated);
            if (idx != null) for (String n : idx.schema.names()) lek.set(n, lastEvaluated.get(n));
            out.set("LastEvaluatedKey", lek);
        }
        Capacity.Meter meter = new Capacity.Meter(false);
        double units = Capacity.readUnits(bytes, consistent);
        if (idx == null) meter.table(t.name, units);
        else meter.index(t.name, idx.name, units);
        meter.record(stats);
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), false);
        return out;
    }

    private static Key startKey(JsonNode req, Table t, Table.Index idx) {
        JsonNode esk = req.get("ExclusiveStartKey");
        if (esk == null || esk.isNull()) return null;
        ObjectNode key = Values.validItem(esk);
        List<String> needed = new ArrayList<>(t.schema.names());
        if (idx != null)
            idx.schema.names().stream().filter(n -> !needed.contains(n)).forEach(needed::add);
        for (String n : needed) {
            if (key.get(n) == null || !Values.type(key.get(n)).equals(t.attributeTypes.get(n))) {
                throw ApiError.validation(
                        "The provided starting key is invalid: The provided key element does not match the schema");
            }
        }
        if (key.size() != needed.size())
            throw ApiError.validation(
                    "The provided starting key is invalid: The provided key element does not match the schema");
        return idx == null ? t.keyOf(key) : t.indexKey(idx, key);
    }

    /** The key attribute a key-condition part is about. */
    private static String keyAttribute(Cond c, Evaluator ev) {
        Operand subject = switch (c) {
            case Compare cmp -> cmp.left() instanceof PathOperand ? cmp.left() : cmp.right();
            case Between b -> b.value();
            case Function f when f.name().equals("begins_with") -> f.args().get(0);
            default ->
                throw ApiError.validation("Invalid operator used in KeyConditionExpression: "
                        + c.getClass().getSimpleName().toUpperCase(Locale.ROOT));
        };
        if (!(subject instanceof PathOperand p) || p.path().elements().size() != 1) {
            throw ApiError.validation(
                    "Invalid KeyConditionExpression: a key condition must compare a key attribute with a value");
        }
        return (String) ev.resolve(p.path()).get(0);
    }

    private static void checkKeyType(Table t, String attr, JsonNode v) {
        if (v == null || !Values.type(v).equals(t.attributeTypes.get(attr))) {
            throw ApiError.validation(
                    "One or more parameter values were invalid: Condition parameter type does not match schema type");
        }
    }

    private static void checkRangeCondition(Table t, String attr, Cond c, Evaluator ev) {
        List<Operand> operands = switch (c) {
            case Compare cmp -> {
                if (cmp.op().equals("<>"))
                    throw ApiError.validation("Unsupported operator on KeyConditionExpression: operator: <>");
                yield List.of(cmp.left() instanceof ValueRef ? cmp.left() : cmp.right());
            }
            case Between b -> List.of(b.low(), b.high());
            case Function f -> List.of(f.args().get(1));
            default -> List.of();
        };
        for (Operand o : operands) checkKeyType(t, attr, ev.operand(o, null));
    }

    /** Top-level attribute names referenced by a condition (for the "filter on key" check). */
    private static Set<String> conditionAttributes(Cond c, Evaluator ev) {
        Set<String> out = new HashSet<>();
        Consumer<Operand> add = o -> {
            if (o instanceof PathOperand p)
                out.add((String) ev.resolve(p.path()).get(0));
            if (o instanceof Size s) out.add((String) ev.resolve(s.path()).get(0));
        };
        switch (c) {
            case And a -> {
                out.addAll(conditionAttributes(a.left(), ev));
                out.addAll(conditionAttributes(a.right(), ev));
            }
            case Or o -> {
                out.addAll(conditionAttributes(o.left(), ev));
                out.addAll(conditionAttributes(o.right(), ev));
            }
            case Not n -> out.addAll(conditionAttributes(n.inner(), ev));
            case Compare cmp -> {
                add.accept(cmp.left());
                add.accept(cmp.right());
            }
            case Between b -> {
                add.accept(b.value());
                add.accept(b.low());
                add.accept(b.high());
            }
            case In in -> {
                add.accept(in.value());
                in.candidates().forEach(add);
            }
            case Function f -> f.args().forEach(add);
        }
        return out;
    }

    // ================================================================ batch and transactions

    ObjectNode batchWriteItem(JsonNode req) {
        JsonNode requestItems = req.get("RequestItems");
        if (requestItems == null || requestItems.isEmpty())
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1");
        int total = 0;
        for (JsonNode list : requestItems) total += list.size();
        if (total > 25)
            throw ApiError.validation(
                    "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]");
        // Validate everything first: a batch with an invalid request changes nothing.
        record BatchWrite(Table table, Key key, ObjectNode next) {}
        List<BatchWrite> writes = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : requestItems.properties()) {
            Table t = table(e.getKey());
            Set<Key> seen = new HashSet<>();
            for (JsonNode r : e.getValue()) {
                ObjectNode next = null;
                Key key;
                if (r.has("PutRequest")) {
                    next = Values.validItem(r.get("PutRequest").get("Item"));
                    t.validateItem(next);
                    key = t.keyOf(next);
                } else if (r.has("DeleteRequest")) {
                    key = t.keyOf(t.validKey(r.get("DeleteRequest").get("Key")));
                } else {
                    throw ApiError.validation("A WriteRequest must contain exactly one of PutRequest or DeleteRequest");
                }
                if (!seen.add(key)) throw ApiError.validation("Provided list of item keys contains duplicates");
                writes.add(new BatchWrite(t, key, next));
            }
        }
        Capacity.Meter meter = new Capacity.Meter(true);
        for (BatchWrite w : writes) commit(new Write(w.table, w.key, w.table.get(w.key), w.next, true, null), meter, 1);
        ObjectNode out = Json.object();
        out.putObject("UnprocessedItems");
        meter.record(stats);
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), true);
        return out;
    }

    ObjectNode transactWriteItems(JsonNode req, String rawBody) {
        JsonNode items = req.get("TransactItems");
        if (items == null || !items.isArray() || items.isEmpty())
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null");
        if (items.size() > 100) {
            throw ApiError.validation(
                    "1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100");
        }
        String token = Json.text(req, "ClientRequestToken");
        long now = System.currentTimeMillis();
        // oldest first: stop at the first token still inside the window (a scan of every token per transaction
        // made each one cost more the longer the process ran)
        for (var oldest = transactionTokens.values().iterator();
                oldest.hasNext() && now - oldest.next().atMillis > IDEMPOTENCY_WINDOW_MILLIS; ) {
            oldest.remove();
        }
        if (token != null) {
            TokenUse used = transactionTokens.get(token);
            if (used != null) {
                if (!used.requestFingerprint.equals(fingerprint(req))) {
                    throw new ApiError(
                            "IdempotentParameterMismatchException",
                            "Request has a different set of parameters than the original request with the same ClientRequestToken");
                }
                return used.response.deepCopy();
            }
        }
        // Phase 1: validate every item and check there is at most one operation per item.
        record Op(String kind, JsonNode body, Target target) {}
        List<Op> ops = new ArrayList<>();
        Set<Target> targets = new LinkedHashSet<>();
        for (JsonNode ti : items) {
            if (ti.size() != 1)
                throw ApiError.validation("TransactItems can only contain one of Check, Put, Update or Delete");
            String kind = ti.fieldNames().next();
            JsonNode body = ti.get(kind);
            if (!List.of("Put", "Update", "Delete", "ConditionCheck").contains(kind))
                throw ApiError.validation("Invalid transact item: " + kind);
            Table t = table(body);
            ObjectNode key = kind.equals("Put") ? t.keyAttributes(validPutItem(t, body)) : t.validKey(body.get("Key"));
            Target target = new Target(t.name, t.keyOf(key));
            if (!targets.add(target)) {
                throw ApiError.validation("Transaction request cannot include multiple operations on one item");
            }
            ops.add(new Op(kind, body, target));
        }
        // Phase 2: evaluate all conditions against the current state; collect cancellation reasons.
        List<Write> writes = new ArrayList<>();
        ArrayNode reasons = Json.array();
        boolean cancelled = false, conflicted = false;
        for (Op op : ops) {
            if (conflicts(table(op.target.table), op.target.key)) {
                reasons.add(conflictReason());
                writes.add(null);
                cancelled = conflicted = true;
                continue;
            }
            ObjectNode reason = reasons.addObject();
            try {
                Write w = switch (op.kind) {
                    case "Put" -> preparePut(op.body);
                    case "Delete" -> prepareDelete(op.body);
                    case "Update" -> prepareUpdate(op.body);
                    default -> prepareConditionCheck(op.body);
                };
                writes.add(w);
                if (w.conditionHolds) {
                    reason.put("Code", "None");
                } else {
                    cancelled = true;
                    reason.put("Code", "ConditionalCheckFailed").put("Message", "The conditional request failed");
                    if (returnOldOnFailure(op.body) && w.old != null) reason.set("Item", w.old);
                }
            } catch (ApiError e) {
                if (!e.type.equals("ValidationException") || !isDataDependent(e)) throw e;
                cancelled = true;
                reason.put("Code", "ValidationError").put("Message", e.getMessage());
                writes.add(null);
            }
        }
        Capacity.Meter meter = new Capacity.Meter(true);
        if (cancelled) {
            if (conflicted) faults.countConflictCancellation();
            List<String> codes = new ArrayList<>();
            reasons.forEach(r -> codes.add(r.get("Code").asText()));
            ObjectNode extra = Json.object();
            extra.set("CancellationReasons", reasons);
            throw new ApiError(
                    "TransactionCanceledException",
                    "Transaction cancelled, please refer cancellation reasons for specific reasons " + codes.toString(),
                    400,
                    extra);
        }
        // Phase 3: apply. Nothing can fail from here on, so the transaction is all-or-nothing.
        for (Write w : writes) commit(w, meter, 2);
        hold(targets);
        ObjectNode out = Json.object();
        meter.record(stats);
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), true);
        if (token != null) transactionTokens.put(token, new TokenUse(fingerprint(req), out.deepCopy(), now));
        return out;
    }

    private static ObjectNode validPutItem(Table t, JsonNode body) {
        if (body.get("Item") == null)
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null");
        ObjectNode item = Values.validItem(body.get("Item"));
        for (String n : t.schema.names()) {
            if (item.get(n) == null)
                throw ApiError.validation(
                        "One or more parameter values were invalid: Missing the key " + n + " in the item");
        }
        t.validKey(t.keyAttributes(item));
        return item;
    }

    /** Validation errors that depend on the stored item (reported as cancellation reasons, not as a request error). */
    private static boolean isDataDependent(ApiError e) {
        String m = e.getMessage();
        return m.contains("incorrect data type")
                || m.contains("Item size has exceeded")
                || m.contains("does not exist in the item")
                || m.contains("invalid for update")
                || m.contains("Type mismatch for Index Key")
                || m.startsWith("Number overflow")
                || m.startsWith("Number underflow")
                || m.contains("38 significant digits");
    }

    private static String fingerprint(JsonNode req) {
        ObjectNode copy = ((ObjectNode) req).deepCopy();
        copy.remove("ReturnConsumedCapacity");
        return copy.toString();
    }

    ObjectNode transactGetItems(JsonNode req) {
        JsonNode items = req.get("TransactItems");
        if (items == null || !items.isArray() || items.isEmpty())
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null");
        if (items.size() > 100)
            throw ApiError.validation(
                    "1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100");
        ObjectNode out = Json.object();
        ArrayNode responses = out.putArray("Responses");
        Capacity.Meter meter = new Capacity.Meter(false);
        Set<String> targets = new HashSet<>();
        List<ObjectNode> results = new ArrayList<>();
        ArrayNode reasons = Json.array();
        boolean conflicted = false;
        for (JsonNode ti : items) {
            JsonNode get = ti.get("Get");
            if (get == null) throw ApiError.validation("TransactGetItems only supports Get");
            Table t = table(get);
            ObjectNode key = t.validKey(get.get("Key"));
            if (!targets.add(t.name + "\u0000" + key))
                throw ApiError.validation("Transaction request cannot include multiple operations on one item");
            boolean conflict = conflicts(t, t.keyOf(key));
            reasons.add(conflict ? conflictReason() : Json.object().put("Code", "None"));
            conflicted |= conflict;
            Parsed<List<Path>> proj = projection(get);
            Evaluator ev = evaluator(get, proj);
            ObjectNode item = t.get(t.keyOf(key));
            meter.table(t.name, Capacity.readUnits(Values.itemSize(item), true) * 2);
            ObjectNode r = Json.object();
            if (item != null) r.set("Item", project(ev, proj, item));
            results.add(r);
        }
        if (conflicted) {
            faults.countConflictCancellation();
            List<String> codes = new ArrayList<>();
            reasons.forEach(r -> codes.add(r.get("Code").asText()));
            ObjectNode extra = Json.object();
            extra.set("CancellationReasons", reasons);
            throw new ApiError(
                    "TransactionCanceledException",
                    "Transaction cancelled, please refer cancellation reasons for specific reasons " + codes,
                    400,
                    extra);
        }
        results.forEach(responses::add);
        meter.record(stats);
        meter.render(out, Json.text(req, "ReturnConsumedCapacity"), true);
        return out;
    }

    // ================================================================ TTL

    /** Deletes expired items (TTL attribute, epoch seconds, in the past) and emits service REMOVE records. */
    int sweepExpired(long nowMillis) {
        int deleted = 0;
        long nowSeconds = nowMillis / 1000;
        for (Table t : tables.values()) {
            if (t.ttlAttribute() == null) continue;
            for (ObjectNode item : t.expired(nowSeconds)) {
                t.write(item, null, null, 0);
                journalChange(t, item, null);
                streams.emit(t, item, null, true);
                deleted++;
            }
        }
        streams.trim(nowMillis);
        return deleted;
    }
}
