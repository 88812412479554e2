package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.Assembler;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SessionState.Custom;
import io.durablesessions.events.SessionState.Item;
import io.durablesessions.events.SessionState.Message;
import io.durablesessions.events.SessionState.ToolCall;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Keeps hydration bounded: folds the log into one stored item per message, tool call and custom
 * event plus a VIEW row (runs, agents), and moves the session's {@code compactedSeq} watermark,
 * all in one conditional transaction. A hydrate reads the items and only the events above the
 * watermark. Items remember the last seq folded into them, and the {@link Assembler} ignores
 * events at or below it, so a hydrate that races a compaction still folds each event once.
 */
final class Compactor {
    private static final Logger LOG = Logger.getLogger(Compactor.class.getName());
    /** Compact at least this often even without a message end, so an endless reply stays cheap. */
    static final int COMPACT_EVERY = 256;

    private static final int MAX_KEYS_PER_PASS = 40;
    private static final int MAX_EVENTS_PER_PASS = 1000;
    private static final int MAX_PASSES = 16;
    /** DynamoDB: at most 100 items and 4 MB per transaction; the watermark update is one of them. */
    private static final int MAX_TX_ITEMS = 99;

    private static final int MAX_TX_BYTES = 3_500_000;
    private static final int HYDRATE_ATTEMPTS = 5;

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final SessionStore store;

    Compactor(DynamoDbClient ddb, TableNames tables, SessionStore store) {
        this.ddb = ddb;
        this.tables = tables;
        this.store = store;
    }

    /**
     * After an append: compacts when it ended a message, tool call or run, or crossed a multiple of
     * {@link #COMPACT_EVERY} seqs. A failed pass is therefore not retried on every later append, only
     * at the next such point; the append itself has committed either way.
     */
    void maybeCompact(String sessionId, List<SessionStore.Draft> drafts, long last) {
        long first = last - drafts.size() + 1;
        boolean boundary = drafts.stream()
                .anyMatch(d -> d.type() == EventType.MESSAGE_END
                        || d.type() == EventType.TOOL_RESULT
                        || (d.type().isRunTransition() && d.type() != EventType.RUN_STARTED));
        boolean crossed = last / COMPACT_EVERY > (first - 1) / COMPACT_EVERY;
        if (!boundary && !crossed) return;
        try {
            compact(sessionId);
        } catch (RuntimeException e) {
            // compaction is an optimisation re-derivable from the log; the append already committed
            LOG.warning("compaction of session " + sessionId + " failed; it is tried again at its next boundary: " + e);
        }
    }

    /** Folds everything above the watermark into stored items, pass by pass; every pass moves the watermark. */
    void compact(String sessionId) {
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            Map<String, AttributeValue> session = store.getItem(tables.sessions(), sessionId, Keys.SESSION);
            long watermark = Attrs.num(session, SessionRow.COMPACTED_SEQ, 0);
            long head = Attrs.num(session, SessionRow.HEAD, 0);
            if (head <= watermark) return;
            List<Event> events = new ArrayList<>();
            Set<String> keys = new LinkedHashSet<>();
            for (StoredEvent se :
                    store.readAfter(sessionId, watermark, MAX_EVENTS_PER_PASS).events()) {
                Event e = Event.fromJson(se.json());
                Set<String> union = new LinkedHashSet<>(keys);
                union.addAll(keysOf(e));
                if (union.size() > MAX_KEYS_PER_PASS && !events.isEmpty()) break;
                keys = union;
                events.add(e);
            }
            if (events.isEmpty()) return;
            // fewer events until the pass fits one transaction; one event always does (its item's changed chunks)
            int count = events.size();
            List<TransactWriteItem> tx;
            while (true) {
                tx = pass(sessionId, watermark, events.subList(0, count));
                if (tx.size() <= MAX_TX_ITEMS + 1 && Chunks.bytes(tx) <= MAX_TX_BYTES) break;
                if (count == 1) throw new IllegalStateException("one event's compaction exceeds a transaction");
                count = Math.max(1, count / 2);
            }
            try {
                List<TransactWriteItem> items = tx;
                ddb.transactWriteItems(r -> r.transactItems(items));
            } catch (TransactionCanceledException lost) {
                if (!Conflicts.isConflict(lost))
                    return; // another compactor moved the watermark; its result is as good as ours
                BatchReads.backoff(pass + 1); // an append's transaction held the head row: read again, try again
                continue;
            }
            if (events.get(count - 1).seq() >= head) return;
        }
    }

    /** The writes of one pass: the changed chunks of every item (and VIEW) the events touch, then the watermark. */
    private List<TransactWriteItem> pass(String sessionId, long watermark, List<Event> events) {
        Set<String> touched = new LinkedHashSet<>();
        for (Event e : events) touched.addAll(keysOf(e));
        Map<String, Chunks.Stored> before = load(sessionId, touched);
        Assembler a = Assembler.from(state(before, watermark));
        events.forEach(a::apply);
        SessionState folded = a.state();
        long newWatermark = events.get(events.size() - 1).seq();
        List<TransactWriteItem> tx = new ArrayList<>();
        for (Item item : folded.items()) {
            String key = keyOf(item);
            if (!touched.contains(key)) continue;
            tx.addAll(Chunks.writes(
                    tables.sessions(), sessionId, key, before.get(key), Json.write(item.toNode()), item.lastSeq()));
        }
        if (touched.contains(Keys.VIEW)) {
            String view = new SessionState(newWatermark, List.of(), folded.runs(), folded.agents(), folded.presence())
                    .toJson();
            tx.addAll(
                    Chunks.writes(tables.sessions(), sessionId, Keys.VIEW, before.get(Keys.VIEW), view, newWatermark));
        }
        Update mark = new Update(tables.sessions(), Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.SESSION)));
        String w = mark.name(SessionRow.COMPACTED_SEQ);
        mark.set(w, n(newWatermark));
        mark.condition(watermark == 0 ? "attribute_not_exists(" + w + ")" : w + " = " + mark.value(n(watermark)));
        tx.add(mark.transactItem());
        return tx;
    }

    /**
     * The assembled state at the current head. It reads the stored items and VIEW, then the events
     * above the watermark; when a rewrite raced the read (a torn document), it reads again, and after
     * a few tries folds the whole log instead.
     */
    Hydration hydrate(String sessionId) {
        for (int attempt = 0; attempt < HYDRATE_ATTEMPTS; attempt++) {
            Map<String, AttributeValue> session = store.getItem(tables.sessions(), sessionId, Keys.SESSION);
            long watermark = Attrs.num(session, SessionRow.COMPACTED_SEQ, 0);
            List<Map<String, AttributeValue>> rows = new ArrayList<>(store.rowsWithPrefix(sessionId, Keys.ITEM));
            rows.addAll(store.rowsWithPrefix(sessionId, Keys.VIEW));
            Chunks.Read read = Chunks.assemble(rows);
            if (read.torn()) continue;
            Assembler a = Assembler.from(state(read.documents(), watermark));
            int eventsRead = store.forEachAfter(sessionId, watermark, se -> a.apply(Event.fromJson(se.json())));
            return new Hydration(a.state(), rows.size(), eventsRead);
        }
        LOG.warning("hydrating session " + sessionId + " kept racing its compaction; folding the whole log");
        Assembler a = Assembler.empty();
        int eventsRead = store.forEachAfter(sessionId, 0, se -> a.apply(Event.fromJson(se.json())));
        return new Hydration(a.state(), 0, eventsRead);
    }

    /** The stored documents as a partial state at the watermark. */
    private static SessionState state(Map<String, Chunks.Stored> docs, long watermark) {
        List<Item> items = new ArrayList<>();
        SessionState view = SessionState.EMPTY;
        for (Chunks.Stored doc : docs.values()) {
            var node = Json.parseStored(doc.text());
            if (Keys.VIEW.equals(doc.key())) view = SessionState.fromNode(node);
            else items.add(SessionState.itemFromNode(node));
        }
        return new SessionState(watermark, items, view.runs(), view.agents(), view.presence());
    }

    /** The stored documents named by {@code keys}, consistently: their head rows, then the chunks they name. */
    private Map<String, Chunks.Stored> load(String sessionId, Set<String> keys) {
        List<Map<String, AttributeValue>> wanted = new ArrayList<>();
        for (String k : keys) wanted.add(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(k)));
        List<Map<String, AttributeValue>> rows = new ArrayList<>(BatchReads.get(ddb, tables.sessions(), wanted, true));
        List<Map<String, AttributeValue>> parts = new ArrayList<>();
        for (Map<String, AttributeValue> head : rows) {
            AttributeValue vs = head.get("vs");
            int n = vs == null || !vs.hasL() ? 0 : vs.l().size();
            for (int i = 1; i <= n; i++) {
                parts.add(Map.of(
                        Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Chunks.partKey(Attrs.str(head, Attrs.SK), i))));
            }
        }
        if (!parts.isEmpty()) rows.addAll(BatchReads.get(ddb, tables.sessions(), parts, true));
        // a torn read here is harmless: this pass's commit is conditioned on the watermark it read,
        // and only a compactor that moved it could have rewritten these rows
        return Chunks.assemble(rows).documents();
    }

    static Set<String> keysOf(Event e) {
        Set<String> keys = new LinkedHashSet<>();
        switch (e.type()) {
            case MESSAGE_START, TEXT_DELTA, MESSAGE_END, REASONING_DELTA, MESSAGE_PART ->
                keys.add(messageKey(e.dataText("messageId")));
            case TOOL_CALL, TOOL_RESULT, TOOL_INPUT_START, TOOL_INPUT_DELTA -> {
                keys.add(Keys.ITEM + "t#" + e.dataText("toolCallId"));
                // a tool event that names its message also lists the call among the message's parts
                if (e.dataText("messageId") != null) keys.add(messageKey(e.dataText("messageId")));
            }
            case CUSTOM -> keys.add(customKey(e.seq()));
            case RUN_INTERRUPTED -> {
                if (e.dataText("messageId") != null) keys.add(messageKey(e.dataText("messageId")));
            }
            default -> {}
        }
        if (e.runId() != null
                || e.type() == EventType.AGENT_JOINED
                || e.type() == EventType.AGENT_LEFT
                || e.type() == EventType.PRESENCE_JOINED
                || e.type() == EventType.PRESENCE_LEFT) {
            keys.add(Keys.VIEW);
        }
        return keys;
    }

    static String keyOf(Item item) {
        return switch (item) {
            case Message m -> messageKey(m.messageId());
            case ToolCall t -> Keys.ITEM + "t#" + t.toolCallId();
            case Custom c -> customKey(c.firstSeq());
        };
    }

    private static String messageKey(String messageId) {
        return Keys.ITEM + "m#" + messageId;
    }

    private static String customKey(long seq) {
        return Keys.ITEM + "c#" + String.format("%020d", seq);
    }
}
