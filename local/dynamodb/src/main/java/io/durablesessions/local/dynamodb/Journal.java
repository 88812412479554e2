package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Durability for the embedded DynamoDB ({@link Options#dataDir()}): a journal of JSON lines in
 * {@code dataDir/dynamodb.journal}, one line per request that changed something, written under
 * the server lock after the change and before the answer is sent. So the journal's order is the
 * order requests took effect, every acknowledged change is in the file (it reaches the operating
 * system before the client hears of it, so it survives the process being killed at any point),
 * and a transaction is one line: all of it or none of it comes back.
 *
 * <p>Lines: {@code {"c":"CreateTable","r":{…request…}}} for table changes (CreateTable,
 * UpdateTable, DeleteTable, UpdateTimeToLive, replayed through the same code), and
 * {@code {"w":[{"t":table,"i":item} | {"t":table,"k":key}, …]}} for item changes (the item as it
 * became, or the key of a deleted item; TTL deletions included). Recovery replays the lines; a last
 * line cut short by a crash was never acknowledged and is dropped. Then the journal is rewritten
 * compactly (table changes, then the current items) and appended to from there.
 *
 * <p>Not kept: DynamoDB Streams records (a restarted stream starts empty; the local stack's
 * clients reconnect and catch up from the table), TransactWriteItems idempotency tokens, and
 * consumed-capacity counters. Writes are not fsynced one by one: a power failure (not a killed
 * process) can lose the last ones. One process at a time may use a data directory.
 */
final class Journal implements AutoCloseable {
    static final String FILE = "dynamodb.journal";
    static final Set<String> CONTROL = Set.of("CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive");
    private static final int ITEMS_PER_LINE = 100;

    private final Path file;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final FileChannel out;
    private final List<ObjectNode> controls;
    private ArrayNode pendingWrites;
    private ObjectNode pendingControl;

    private Journal(Path file, FileChannel lockChannel, FileLock lock, FileChannel out, List<ObjectNode> controls) {
        this.file = file;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.out = out;
        this.controls = controls;
    }

    /** Replays {@code dir}'s journal into {@code db} (empty on a first start), compacts it, opens it for appending. */
    static Journal open(Path dir, Database db) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockChannel =
                FileChannel.open(dir.resolve("dynamodb.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("data directory " + dir + " is in use by another process");
        }
        try {
            Path file = dir.resolve(FILE);
            List<ObjectNode> controls = new ArrayList<>();
            if (Files.exists(file)) replay(file, db, controls);
            Path tmp = dir.resolve(FILE + ".tmp");
            try (OutputStream os = Files.newOutputStream(tmp)) {
                for (ObjectNode c : controls) writeLine(os, c);
                for (Table t : db.tables()) {
                    ArrayNode batch = Json.array();
                    for (ObjectNode item : t.items.values()) {
                        batch.addObject().put("t", t.name).set("i", item);
                        if (batch.size() == ITEMS_PER_LINE) {
                            writeLine(os, Json.object().set("w", batch));
                            batch = Json.array();
                        }
                    }
                    if (!batch.isEmpty()) writeLine(os, Json.object().set("w", batch));
                }
            }
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            return new Journal(file, lockChannel, lock, out, controls);
        } catch (IOException | RuntimeException e) {
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    private static void replay(Path file, Database db, List<ObjectNode> controls) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int start = 0, lineNo = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            lineNo++;
            String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
            start = i + 1;
            if (line.isBlank()) continue;
            JsonNode rec;
            try {
                rec = Json.MAPPER.readTree(line);
            } catch (IOException e) {
                throw new IOException(
                        file + " line " + lineNo + " is not a journal record; refusing to start on damaged data", e);
            }
            try {
                if (rec.has("c")) {
                    db.control(rec.get("c").asText(), rec.get("r"));
                    controls.add((ObjectNode) rec);
                } else {
                    for (JsonNode w : rec.path("w")) {
                        if (w.has("i")) db.replayPut(w.get("t").asText(), (ObjectNode) w.get("i"));
                        else db.replayDelete(w.get("t").asText(), (ObjectNode) w.get("k"));
                    }
                }
            } catch (ApiError e) {
                throw new IOException(
                        file + " line " + lineNo + " does not apply (" + e.type + ": " + e.getMessage() + ")", e);
            }
        }
        // bytes after the last newline: a line cut short by a crash, never acknowledged
    }

    // ---------------------------------------------------------------- recording (under the server lock)

    void control(String operation, JsonNode request) {
        pendingControl = Json.object().put("c", operation);
        pendingControl.set("r", request);
    }

    void put(String table, ObjectNode item) {
        pending().addObject().put("t", table).set("i", item);
    }

    void delete(String table, ObjectNode key) {
        pending().addObject().put("t", table).set("k", key);
    }

    private ArrayNode pending() {
        if (pendingWrites == null) pendingWrites = Json.array();
        return pendingWrites;
    }

    /** Writes what the request changed, before its answer goes out. */
    void flush() {
        try {
            if (pendingControl != null) {
                write(pendingControl);
                controls.add(pendingControl);
            }
            if (pendingWrites != null) write(Json.object().set("w", pendingWrites));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the journal " + file, e);
        } finally {
            discard();
        }
    }

    /** The request failed: it changed nothing. */
    void discard() {
        pendingControl = null;
        pendingWrites = null;
    }

    private void write(ObjectNode record) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap((record.toString() + "\n").getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) out.write(buf);
    }

    private static void writeLine(OutputStream os, JsonNode record) throws IOException {
        os.write((record.toString() + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        try {
            out.force(true);
            out.close();
        } finally {
            lock.release();
            lockChannel.close();
        }
    }
}
