package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.local.dynamodb.Values.Key;
import io.durablesessions.local.dynamodb.Values.KeyPart;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/** One table: schema, items ordered by key, and its global secondary indexes. Guarded by the server lock. */
final class Table {
    static final long MAX_ITEM_SIZE = 400 * 1024;

    /** A key schema (table or index): hash attribute and optional range attribute. */
    record Schema(String hash, String range) {
        List<String> names() {
            return range == null ? List.of(hash) : List.of(hash, range);
        }

        ArrayNode json() {
            ArrayNode arr = Json.array();
            arr.addObject().put("AttributeName", hash).put("KeyType", "HASH");
            if (range != null) arr.addObject().put("AttributeName", range).put("KeyType", "RANGE");
            return arr;
        }
    }

    /** A global secondary index; entries are keyed by (index key, table key) so they are unique. */
    static final class Index {
        final String name;
        final Schema schema;
        final String projectionType;
        final Set<String> nonKeyAttributes;
        final TreeMap<Key, ObjectNode> entries = new TreeMap<>();
        long sizeBytes;

        Index(String name, Schema schema, String projectionType, Set<String> nonKeyAttributes) {
            this.name = name;
            this.schema = schema;
            this.projectionType = projectionType;
            this.nonKeyAttributes = nonKeyAttributes;
        }
    }

    final String name;
    final String arn;
    final String id;
    final long createdMillis;
    final Schema schema;
    final Map<String, String> attributeTypes; // from AttributeDefinitions
    final List<Index> indexes = new ArrayList<>();
    final TreeMap<Key, ObjectNode> items = new TreeMap<>();
    String billingMode;
    Streams.Stream stream; // current stream, null when disabled
    private String ttlAttribute; // non-null when TTL is enabled
    /** When TTL is on: the keys of the items by their TTL value (epoch s), so a sweep reads only what expired. */
    private final TreeMap<Long, Set<Key>> byExpiry = new TreeMap<>();

    long sizeBytes;

    Table(String name, String arn, Schema schema, Map<String, String> attributeTypes, String billingMode) {
        this.name = name;
        this.arn = arn;
        this.id = UUID.nameUUIDFromBytes(arn.getBytes()).toString();
        this.createdMillis = System.currentTimeMillis();
        this.schema = schema;
        this.attributeTypes = attributeTypes;
        this.billingMode = billingMode;
    }

    Index index(String indexName) {
        for (Index i : indexes) if (i.name.equals(indexName)) return i;
        throw ApiError.validation("The table does not have the specified index: " + indexName);
    }

    Set<String> keyNames() {
        return Set.copyOf(schema.names());
    }

    // ---------------------------------------------------------------- keys

    Key keyOf(JsonNode item) {
        return keyOf(item, schema);
    }

    static Key keyOf(JsonNode item, Schema s) {
        return s.range == null
                ? new Key(new KeyPart[] {KeyPart.of(item.get(s.hash))})
                : new Key(new KeyPart[] {KeyPart.of(item.get(s.hash)), KeyPart.of(item.get(s.range))});
    }

    /** The index entry key: index key then table key (makes entries unique). */
    Key indexKey(Index idx, JsonNode item) {
        List<KeyPart> parts = new ArrayList<>();
        for (String n : idx.schema.names()) parts.add(KeyPart.of(item.get(n)));
        for (String n : schema.names()) parts.add(KeyPart.of(item.get(n)));
        return new Key(parts.toArray(KeyPart[]::new));
    }

    ObjectNode keyAttributes(JsonNode item) {
        ObjectNode k = Json.object();
        for (String n : schema.names()) k.set(n, item.get(n));
        return k;
    }

    /** Validates a Key parameter: exactly the key attributes, of the right types. */
    ObjectNode validKey(JsonNode keyParam) {
        if (!(keyParam instanceof ObjectNode obj))
            throw ApiError.validation(
                    "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
        ObjectNode key = Values.validItem(obj);
        if (key.size() != schema.names().size())
            throw ApiError.validation("The provided key element does not match the schema");
        for (String n : schema.names()) {
            JsonNode v = key.get(n);
            if (v == null || !Values.type(v).equals(attributeTypes.get(n)))
                throw ApiError.validation("The provided key element does not match the schema");
            checkNotEmpty(n, v);
        }
        return key;
    }

    /** Validates key attributes (table and index) of an item that is about to be stored. */
    void validateItem(ObjectNode item) {
        for (String n : schema.names()) {
            JsonNode v = item.get(n);
            if (v == null)
                throw ApiError.validation(
                        "One or more parameter values were invalid: Missing the key " + n + " in the item");
            String expected = attributeTypes.get(n);
            if (!Values.type(v).equals(expected)) {
                throw ApiError.validation("One or more parameter values were invalid: Type mismatch for key " + n
                        + " expected: " + expected + " actual: " + Values.type(v));
            }
            checkNotEmpty(n, v);
        }
        for (Index idx : indexes) {
            for (String n : idx.schema.names()) {
                JsonNode v = item.get(n);
                if (v == null) continue;
                String expected = attributeTypes.get(n);
                if (!Values.type(v).equals(expected)) {
                    throw ApiError.validation("One or more parameter values were invalid: Type mismatch for Index Key "
                            + n + " Expected: " + expected + " Actual: " + Values.type(v) + " IndexName: " + idx.name);
                }
                if (Values.size(v) == 0) {
                    throw ApiError.validation(
                            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: "
                                    + idx.name + ", IndexKey: " + n);
                }
            }
        }
        if (Values.itemSize(item) > MAX_ITEM_SIZE)
            throw ApiError.validation("Item size has exceeded the maximum allowed size");
    }

    private static void checkNotEmpty(String name, JsonNode v) {
        if (Values.size(v) == 0) {
            throw ApiError.validation(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty "
                            + (Values.type(v).equals("S") ? "string" : "binary") + " value. Key: " + name);
        }
    }

    // ---------------------------------------------------------------- storage

    ObjectNode get(Key key) {
        return items.get(key);
    }

    /** The item as stored in the index, or null when the item is not in that (possibly sparse) index. */
    ObjectNode projectForIndex(Index idx, ObjectNode item) {
        if (item == null) return null;
        for (String n : idx.schema.names()) if (item.get(n) == null) return null;
        if (idx.projectionType.equals("ALL")) return item;
        Set<String> keep = new LinkedHashSet<>(schema.names());
        keep.addAll(idx.schema.names());
        if (idx.projectionType.equals("INCLUDE")) keep.addAll(idx.nonKeyAttributes);
        ObjectNode out = Json.object();
        for (String n : keep) if (item.get(n) != null) out.set(n, item.get(n));
        return out;
    }

    /**
     * Replaces {@code old} by {@code next} (either may be null) in the table and its indexes and
     * meters the write. Returns nothing; the caller emits the stream record.
     */
    void write(ObjectNode old, ObjectNode next, Capacity.Meter meter, double multiplier) {
        Key key = keyOf(old != null ? old : next);
        long oldSize = Values.itemSize(old), newSize = Values.itemSize(next);
        if (next == null) items.remove(key);
        else items.put(key, next);
        if (ttlAttribute != null) {
            untrack(key, old);
            track(key, next);
        }
        sizeBytes += newSize - oldSize;
        if (meter != null) meter.table(name, Capacity.writeUnits(Math.max(oldSize, newSize)) * multiplier);
        for (Index idx : indexes) {
            ObjectNode before = projectForIndex(idx, old), after = projectForIndex(idx, next);
            if (before == null && after == null) continue;
            double units = 0;
            if (before != null) {
                idx.entries.remove(indexKey(idx, old));
                idx.sizeBytes -= Values.itemSize(before);
            }
            if (after != null) {
                idx.entries.put(indexKey(idx, next), after);
                idx.sizeBytes += Values.itemSize(after);
            }
            if (before == null) units = Capacity.writeUnits(Values.itemSize(after));
            else if (after == null) units = Capacity.writeUnits(Values.itemSize(before));
            else if (!indexKey(idx, old).equals(indexKey(idx, next))) {
                units = Capacity.writeUnits(Values.itemSize(before)) + Capacity.writeUnits(Values.itemSize(after));
            } else if (!Values.itemsEqual(before, after)) {
                units = Capacity.writeUnits(Math.max(Values.itemSize(before), Values.itemSize(after)));
            }
            if (meter != null && units > 0) meter.index(name, idx.name, units * multiplier);
        }
    }

    // ---------------------------------------------------------------- time to live

    String ttlAttribute() {
        return ttlAttribute;
    }

    /** Turns TTL on for {@code attribute} (null: off), indexing the items already stored. */
    void ttl(String attribute) {
        ttlAttribute = attribute;
        byExpiry.clear();
        if (attribute != null) items.forEach(this::track);
    }

    /**
     * The items whose TTL value is at or before {@code nowSeconds}; DynamoDB ignores values more than five
     * years in the past (likely milliseconds, or bugs), and so does this.
     */
    List<ObjectNode> expired(long nowSeconds) {
        List<ObjectNode> out = new ArrayList<>();
        long ignoredBefore = nowSeconds - 5L * 365 * 24 * 3600;
        for (Set<Key> keys :
                byExpiry.subMap(ignoredBefore, false, nowSeconds, true).values()) {
            for (Key k : keys) out.add(items.get(k));
        }
        return out;
    }

    private void track(Key key, ObjectNode item) {
        Long at = expiry(item);
        if (at != null) byExpiry.computeIfAbsent(at, k -> new LinkedHashSet<>()).add(key);
    }

    private void untrack(Key key, ObjectNode item) {
        Long at = expiry(item);
        if (at == null) return;
        Set<Key> keys = byExpiry.get(at);
        if (keys != null && keys.remove(key) && keys.isEmpty()) byExpiry.remove(at);
    }

    private Long expiry(ObjectNode item) {
        JsonNode v = item == null ? null : item.get(ttlAttribute);
        if (v == null || !"N".equals(Values.type(v))) return null;
        try {
            return Values.number(v).longValue();
        } catch (ArithmeticException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- description

    ObjectNode describe(String status, String accountArnPrefix) {
        ObjectNode d = Json.object();
        ArrayNode defs = d.putArray("AttributeDefinitions");
        attributeTypes.forEach(
                (n, t) -> defs.addObject().put("AttributeName", n).put("AttributeType", t));
        d.put("TableName", name);
        d.set("KeySchema", schema.json());
        d.put("TableStatus", status);
        d.put("CreationDateTime", createdMillis / 1000.0);
        d.putObject("ProvisionedThroughput")
                .put("NumberOfDecreasesToday", 0)
                .put("ReadCapacityUnits", 0)
                .put("WriteCapacityUnits", 0);
        d.put("TableSizeBytes", sizeBytes);
        d.put("ItemCount", items.size());
        d.put("TableArn", arn);
        d.put("TableId", id);
        d.putObject("BillingModeSummary").put("BillingMode", billingMode);
        if (!indexes.isEmpty()) {
            ArrayNode gsis = d.putArray("GlobalSecondaryIndexes");
            for (Index idx : indexes) {
                ObjectNode g = gsis.addObject();
                g.put("IndexName", idx.name);
                g.set("KeySchema", idx.schema.json());
                ObjectNode p = g.putObject("Projection").put("ProjectionType", idx.projectionType);
                if (idx.projectionType.equals("INCLUDE"))
                    idx.nonKeyAttributes.forEach(p.withArray("NonKeyAttributes")::add);
                g.put("IndexStatus", "ACTIVE");
                g.putObject("ProvisionedThroughput")
                        .put("NumberOfDecreasesToday", 0)
                        .put("ReadCapacityUnits", 0)
                        .put("WriteCapacityUnits", 0);
                g.put("IndexSizeBytes", idx.sizeBytes);
                g.put("ItemCount", idx.entries.size());
                g.put("IndexArn", arn + "/index/" + idx.name);
            }
        }
        if (stream != null) {
            d.putObject("StreamSpecification").put("StreamEnabled", true).put("StreamViewType", stream.viewType);
            d.put("LatestStreamLabel", stream.label);
            d.put("LatestStreamArn", stream.arn);
        }
        d.put("DeletionProtectionEnabled", false);
        return d;
    }
}
