package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * DynamoDB Streams: per-table streams split into shards by partition key, records kept 24 hours,
 * and the DynamoDBStreams_20120810 read API. Guarded by the server lock; records are appended in the
 * same critical section as the data change they describe.
 */
final class Streams {
    static final long RETENTION_MILLIS = 24 * 3600 * 1000L;
    static final long ITERATOR_TTL_MILLIS = 15 * 60 * 1000L;
    private static final DateTimeFormatter LABEL =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    record Rec(long seq, long createdMillis, ObjectNode json) {}

    static final class Shard {
        final String id;
        final long startSeq;
        final TreeMap<Long, Rec> records = new TreeMap<>();
        long trimmedThrough; // highest sequence number removed by retention (0 = none)
        /** Moves whenever the shard gains a record or its stream is disabled (read without the lock). */
        final AtomicLong changes = new AtomicLong();

        Shard(String id, long startSeq) {
            this.id = id;
            this.startSeq = startSeq;
        }
    }

    static final class Stream {
        final String arn, label, tableName, viewType;
        final Table.Schema keySchema;
        final List<Shard> shards = new ArrayList<>();
        final long createdMillis;
        boolean enabled = true;

        Stream(
                String arn,
                String label,
                String tableName,
                String viewType,
                Table.Schema keySchema,
                long createdMillis) {
            this.arn = arn;
            this.label = label;
            this.tableName = tableName;
            this.viewType = viewType;
            this.keySchema = keySchema;
            this.createdMillis = createdMillis;
        }
    }

    private final Options options;
    private final Stats stats;
    private final List<Stream> streams = new ArrayList<>();
    /**
     * Each shard's {@link Shard#changes} by {@link #changeKey}: an in-process poller reads it without the server
     * lock to skip reads that would find nothing.
     */
    private final Map<String, AtomicLong> changes = new ConcurrentHashMap<>();

    private long nextSeq = 100_000_000_000L; // DynamoDB's are long decimal strings; start wide

    Streams(Options options, Stats stats) {
        this.options = options;
        this.stats = stats;
    }

    static String seq(long n) {
        return String.format("%021d", n);
    }

    Stream create(Table table, String viewType) {
        if (!List.of("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
                .contains(viewType)) {
            throw ApiError.validation(
                    "1 validation error detected: Value '" + viewType
                            + "' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]");
        }
        long now = System.currentTimeMillis();
        // Labels must be unique per table even when streams are re-enabled within the same millisecond.
        for (Stream s : streams)
            if (s.tableName.equals(table.name) && s.createdMillis >= now) now = s.createdMillis + 1;
        String label = LABEL.format(Instant.ofEpochMilli(now));
        Stream s = new Stream(table.arn + "/stream/" + label, label, table.name, viewType, table.schema, now);
        for (int i = 0; i < options.streamShards(); i++) {
            Shard sh = new Shard(String.format("shardId-%020d-%08x", now, i + 1), nextSeq);
            s.shards.add(sh);
            changes.put(changeKey(s.arn, sh.id), sh.changes);
        }
        streams.add(s);
        return s;
    }

    void disable(Stream s) {
        if (s == null) return;
        s.enabled = false;
        for (Shard sh : s.shards) sh.changes.incrementAndGet();
    }

    /** See {@link LocalDynamoDb#shardChanges}. */
    long changes(String streamArn, String shardId) {
        AtomicLong n = changes.get(changeKey(streamArn, shardId));
        return n == null ? 0 : n.get();
    }

    private static String changeKey(String streamArn, String shardId) {
        return streamArn + '|' + shardId;
    }

    /** Appends one record for a change of one item; no record when nothing changed. */
    void emit(Table table, ObjectNode old, ObjectNode next, boolean byTtl) {
        Stream s = table.stream;
        if (s == null || !s.enabled || (old == null && next == null) || Values.itemsEqual(old, next)) return;
        String eventName = old == null ? "INSERT" : next == null ? "REMOVE" : "MODIFY";
        ObjectNode keys = table.keyAttributes(next != null ? next : old);
        long now = System.currentTimeMillis();
        long seqNo = nextSeq++;

        ObjectNode ddb = Json.object();
        ddb.put("ApproximateCreationDateTime", now / 1000);
        ddb.set("Keys", keys);
        long size = Values.itemSize(keys);
        if (next != null && (s.viewType.equals("NEW_IMAGE") || s.viewType.equals("NEW_AND_OLD_IMAGES"))) {
            ddb.set("NewImage", next);
            size += Values.itemSize(next);
        }
        if (old != null && (s.viewType.equals("OLD_IMAGE") || s.viewType.equals("NEW_AND_OLD_IMAGES"))) {
            ddb.set("OldImage", old);
            size += Values.itemSize(old);
        }
        ddb.put("SequenceNumber", seq(seqNo));
        ddb.put("SizeBytes", size);
        ddb.put("StreamViewType", s.viewType);

        ObjectNode rec = Json.object();
        rec.put("eventID", randomHex(32));
        rec.put("eventName", eventName);
        rec.put("eventVersion", "1.1");
        rec.put("eventSource", "aws:dynamodb");
        rec.put("awsRegion", options.region());
        rec.set("dynamodb", ddb);
        if (byTtl)
            rec.putObject("userIdentity")
                    .put("Type", "Service")
                    .put("PrincipalId", "dynamodb.amazonaws.com"); // the Streams API spells these in PascalCase

        Shard shard = shardFor(s, keys.get(table.schema.hash()));
        shard.records.put(seqNo, new Rec(seqNo, now, rec));
        shard.changes.incrementAndGet(); // after the record is readable: whoever sees the count move finds it
        stats.streamRecord();
    }

    /** Stable hash of the partition key, so one key's records stay in order in one shard. */
    private static Shard shardFor(Stream s, JsonNode partitionKey) {
        int h = partitionKey.toString().hashCode();
        return s.shards.get(Math.floorMod(h, s.shards.size()));
    }

    private static String randomHex(int len) {
        StringBuilder sb = new StringBuilder(len);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < len; i++) sb.append(Character.forDigit(r.nextInt(16), 16));
        return sb.toString();
    }

    void trim(long nowMillis) {
        for (Stream s : streams) {
            for (Shard sh : s.shards) {
                while (!sh.records.isEmpty()
                        && sh.records.firstEntry().getValue().createdMillis() < nowMillis - RETENTION_MILLIS) {
                    sh.trimmedThrough = sh.records.pollFirstEntry().getKey();
                }
            }
        }
        streams.removeIf(s -> {
            boolean gone = !s.enabled
                    && s.createdMillis < nowMillis - RETENTION_MILLIS
                    && s.shards.stream().allMatch(sh -> sh.records.isEmpty());
            if (gone) s.shards.forEach(sh -> changes.remove(changeKey(s.arn, sh.id)));
            return gone;
        });
    }

    // ---------------------------------------------------------------- API

    private Stream stream(String arn) {
        for (Stream s : streams) if (s.arn.equals(arn)) return s;
        throw ApiError.notFound("Requested resource not found: Stream: " + arn + " not found");
    }

    private static Shard shard(Stream s, String shardId) {
        for (Shard sh : s.shards) if (sh.id.equals(shardId)) return sh;
        throw ApiError.notFound(
                "Requested resource not found: Shard: " + shardId + " in Stream: " + s.arn + " not found");
    }

    ObjectNode listStreams(JsonNode req) {
        String table = Json.text(req, "TableName");
        ObjectNode out = Json.object();
        ArrayNode arr = out.putArray("Streams");
        for (Stream s : streams) {
            if (table == null || s.tableName.equals(table)) {
                arr.addObject()
                        .put("StreamArn", s.arn)
                        .put("TableName", s.tableName)
                        .put("StreamLabel", s.label);
            }
        }
        return out;
    }

    ObjectNode describeStream(JsonNode req) {
        Stream s = stream(Json.required(req, "StreamArn"));
        ObjectNode out = Json.object();
        ObjectNode d = out.putObject("StreamDescription");
        d.put("StreamArn", s.arn);
        d.put("StreamLabel", s.label);
        d.put("StreamStatus", s.enabled ? "ENABLED" : "DISABLED");
        d.put("StreamViewType", s.viewType);
        d.put("CreationRequestDateTime", s.createdMillis / 1000.0);
        d.put("TableName", s.tableName);
        d.set("KeySchema", s.keySchema.json());
        ArrayNode shards = d.putArray("Shards");
        for (Shard sh : s.shards) {
            ObjectNode o = shards.addObject();
            o.put("ShardId", sh.id);
            o.putObject("SequenceNumberRange").put("StartingSequenceNumber", seq(sh.startSeq));
        }
        return out;
    }

    ObjectNode getShardIterator(JsonNode req) {
        Stream s = stream(Json.required(req, "StreamArn"));
        Shard sh = shard(s, Json.required(req, "ShardId"));
        String type = Json.required(req, "ShardIteratorType");
        String seqText = Json.text(req, "SequenceNumber");
        long position = switch (type) {
            case "TRIM_HORIZON" -> Math.max(sh.startSeq, sh.trimmedThrough + 1);
            case "LATEST" -> nextSeq;
            case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER" -> {
                if (seqText == null) throw ApiError.validation("Must specify a SequenceNumber for " + type);
                long n;
                try {
                    n = Long.parseLong(seqText);
                } catch (NumberFormatException e) {
                    throw ApiError.validation("Invalid SequenceNumber: " + seqText);
                }
                if (n <= sh.trimmedThrough) {
                    throw new ApiError(
                            "TrimmedDataAccessException", "The requested sequence number is beyond the trim horizon");
                }
                if (n < sh.startSeq || n >= nextSeq) {
                    throw ApiError.validation("Invalid SequenceNumber for ShardIteratorType " + type + ": " + seqText);
                }
                yield type.equals("AT_SEQUENCE_NUMBER") ? n : n + 1;
            }
            default ->
                throw ApiError.validation(
                        "1 validation error detected: Value '" + type
                                + "' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
        };
        ObjectNode out = Json.object();
        out.put("ShardIterator", iterator(s, sh, position));
        return out;
    }

    private static String iterator(Stream s, Shard sh, long position) {
        String raw = s.arn + "|" + sh.id + "|" + position + "|" + System.currentTimeMillis();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    ObjectNode getRecords(JsonNode req) {
        String it = Json.required(req, "ShardIterator");
        int limit = req.has("Limit") ? req.get("Limit").asInt() : 1000;
        if (limit < 1 || limit > 1000) {
            throw ApiError.validation("1 validation error detected: Value '" + limit
                    + "' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000");
        }
        String[] parts;
        try {
            parts = new String(Base64.getUrlDecoder().decode(it), StandardCharsets.UTF_8).split("\\|");
        } catch (IllegalArgumentException e) {
            parts = new String[0];
        }
        if (parts.length != 4) throw ApiError.validation("Invalid ShardIterator");
        Stream s = stream(parts[0]);
        Shard sh = shard(s, parts[1]);
        long position = Long.parseLong(parts[2]);
        if (System.currentTimeMillis() - Long.parseLong(parts[3]) > ITERATOR_TTL_MILLIS) {
            throw new ApiError(
                    "ExpiredIteratorException",
                    "Iterator expired. The iterator was created at time "
                            + Instant.ofEpochMilli(Long.parseLong(parts[3])) + " while right now it is " + Instant.now()
                            + " which is further in the future than the tolerated delay of 900000 milliseconds.");
        }
        if (position <= sh.trimmedThrough) {
            throw new ApiError(
                    "TrimmedDataAccessException",
                    "The operation attempted to read past the oldest stream record in a shard.");
        }
        ObjectNode out = Json.object();
        ArrayNode records = out.putArray("Records");
        long next = position;
        for (Map.Entry<Long, Rec> e : sh.records.tailMap(position, true).entrySet()) {
            if (records.size() >= limit) break;
            records.add(e.getValue().json());
            next = e.getKey() + 1;
        }
        out.put("NextShardIterator", iterator(s, sh, next));
        return out;
    }
}
