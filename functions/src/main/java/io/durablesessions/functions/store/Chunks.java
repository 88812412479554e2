package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * A JSON document of any length kept in the sessions table as one or more rows: the document's
 * row {@code key} holds its first chunk ({@code v}), the last seq folded into it and the version of
 * every other chunk ({@code vs}); rows {@code key#p0001}, {@code key#p0002}, … hold the rest, each
 * with the version it was written at ({@code w}). A completed message of any length stays
 * hydratable without any row nearing DynamoDB's 400 KB item limit, and since text only grows at its
 * end, a rewrite touches the changed chunks only. A reader that meets a chunk of another version
 * than its head names (a rewrite raced the read) knows the document is torn and reads again.
 */
final class Chunks {
    /** UTF-8 bytes of document text per row, well under the item limit. */
    static final int CHUNK_BYTES = 256 * 1024;

    static final String PART = "#p";

    private Chunks() {}

    /** A stored document: its chunks in order, each chunk's version (0 for the first) and the last seq folded into it. */
    record Stored(String key, List<String> chunks, List<Long> versions, long lastSeq) {
        String text() {
            return String.join("", chunks);
        }
    }

    /** Splits {@code text} into chunks of at most {@link #CHUNK_BYTES} UTF-8 bytes, never inside a surrogate pair. */
    static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int bytes = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int b = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + b > CHUNK_BYTES) {
                out.add(text.substring(start, i));
                start = i;
                bytes = 0;
            }
            bytes += b;
            i += Character.charCount(cp);
        }
        out.add(text.substring(start));
        return out;
    }

    static String partKey(String key, int index) {
        return key + PART + String.format("%04d", index);
    }

    /**
     * The writes that turn {@code before} (null: none stored) into {@code text}: only chunks whose
     * content changed, plus the head row whenever the chunk count or last seq moved.
     */
    static List<TransactWriteItem> writes(
            String table, String sessionId, String key, Stored before, String text, long lastSeq) {
        List<String> chunks = split(text);
        List<TransactWriteItem> out = new ArrayList<>();
        List<String> old = before == null ? List.of() : before.chunks();
        List<AttributeValue> versions = new ArrayList<>();
        for (int i = 1; i < chunks.size(); i++) {
            boolean same = i < old.size() && old.get(i).equals(chunks.get(i));
            long version = same ? before.versions().get(i) : lastSeq;
            versions.add(n(version));
            if (same) continue;
            Map<String, AttributeValue> item = row(sessionId, partKey(key, i));
            item.put("v", s(chunks.get(i)));
            item.put("w", n(version));
            out.add(TransactWriteItem.builder()
                    .put(p -> p.tableName(table).item(item))
                    .build());
        }
        // the head row changes with every rewrite: its last seq moved
        Map<String, AttributeValue> head = row(sessionId, key);
        head.put("v", s(chunks.get(0)));
        head.put("vs", AttributeValue.fromL(versions));
        head.put("lastSeq", n(lastSeq));
        out.add(
                0,
                TransactWriteItem.builder()
                        .put(p -> p.tableName(table).item(head))
                        .build());
        for (int i = chunks.size(); i < old.size(); i++) {
            String sk = partKey(key, i);
            out.add(TransactWriteItem.builder()
                    .delete(d -> d.tableName(table).key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk))))
                    .build());
        }
        return out;
    }

    /** UTF-8 bytes a list of writes puts (for the transaction size bound). */
    static int bytes(List<TransactWriteItem> writes) {
        int total = 0;
        for (TransactWriteItem w : writes) {
            if (w.put() != null && w.put().item().get("v") != null) {
                total += w.put().item().get("v").s().getBytes(StandardCharsets.UTF_8).length + 128;
            } else {
                total += 128;
            }
        }
        return total;
    }

    /** Documents read by key prefix, and whether any was torn (a chunk of another version than its head names). */
    record Read(Map<String, Stored> documents, boolean torn) {}

    /** Groups rows read by key prefix into documents. */
    static Read assemble(List<Map<String, AttributeValue>> rows) {
        Map<String, Map<String, AttributeValue>> heads = new TreeMap<>();
        Map<String, Map<Integer, Map<String, AttributeValue>>> parts = new HashMap<>();
        for (Map<String, AttributeValue> row : rows) {
            String sk = Attrs.str(row, Attrs.SK);
            int p = sk.lastIndexOf(PART);
            if (p > 0
                    && sk.length() == p + PART.length() + 4
                    && sk.substring(p + PART.length()).chars().allMatch(Character::isDigit)) {
                parts.computeIfAbsent(sk.substring(0, p), k -> new HashMap<>())
                        .put(Integer.parseInt(sk.substring(p + PART.length())), row);
            } else {
                heads.put(sk, row);
            }
        }
        Map<String, Stored> out = new TreeMap<>();
        boolean torn = false;
        for (var e : heads.entrySet()) {
            Map<String, AttributeValue> head = e.getValue();
            AttributeValue vs = head.get("vs");
            List<AttributeValue> wanted = vs == null || !vs.hasL() ? List.of() : vs.l();
            List<String> chunks = new ArrayList<>(wanted.size() + 1);
            List<Long> versions = new ArrayList<>(wanted.size() + 1);
            chunks.add(Attrs.str(head, "v"));
            versions.add(0L);
            Map<Integer, Map<String, AttributeValue>> mine = parts.getOrDefault(e.getKey(), Map.of());
            for (int i = 1; i <= wanted.size(); i++) {
                Map<String, AttributeValue> part = mine.get(i);
                long version = Long.parseLong(wanted.get(i - 1).n());
                if (part == null || Attrs.num(part, "w", -1) != version) {
                    torn = true;
                    break;
                }
                chunks.add(Attrs.str(part, "v"));
                versions.add(version);
            }
            if (chunks.size() == wanted.size() + 1) {
                out.put(e.getKey(), new Stored(e.getKey(), chunks, versions, Attrs.num(head, "lastSeq", 0)));
            }
        }
        return new Read(out, torn);
    }

    private static Map<String, AttributeValue> row(String sessionId, String sk) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(sk));
        return item;
    }
}
