package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.Assembler;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import io.durablesessions.events.SessionState.AgentView;
import io.durablesessions.events.SessionState.Custom;
import io.durablesessions.events.SessionState.Item;
import io.durablesessions.events.SessionState.Message;
import io.durablesessions.events.SessionState.RunView;
import io.durablesessions.events.SessionState.ToolCall;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
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
    static final String ITEM_PREFIX = "ITEM#";
    static final String VIEW_SK = "VIEW";
    /** Compact at least this often even without a message end, so an endless reply stays cheap. */
    static final int COMPACT_EVERY = 256;
    private static final int MAX_ITEMS_PER_TX = 90;
    private static final int MAX_EVENTS_PER_PASS = 1000;
    private static final int MAX_ITEM_BYTES = 350 * 1024;
    private static final int MAX_TX_BYTES = 3_500_000;

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final SessionStore store;

    Compactor(DynamoDbClient ddb, TableNames tables, SessionStore store) {
        this.ddb = ddb;
        this.tables = tables;
        this.store = store;
    }

    void maybeCompact(String sessionId, Map<String, AttributeValue> sessionBefore, List<SessionStore.Draft> drafts,
                      long last) {
        long watermark = Attrs.num(sessionBefore, "compactedSeq", 0);
        boolean boundary = drafts.stream().anyMatch(d -> d.type() == EventType.MESSAGE_END
                || d.type() == EventType.TOOL_RESULT || (d.type().isRunTransition() && d.type() != EventType.RUN_STARTED));
        if (!boundary && last - watermark < COMPACT_EVERY) return;
        try {
            compact(sessionId);
        } catch (RuntimeException e) {
            // compaction is an optimisation re-derivable from the log; the append already committed
            LOG.warning("compaction of a session failed and will be retried on a later append: " + e);
        }
    }

    void compact(String sessionId) {
        for (int pass = 0; pass < 8; pass++) {
            Map<String, AttributeValue> session = store.getItem(tables.sessions(), sessionId, SessionStore.SESSION_SK);
            long watermark = Attrs.num(session, "compactedSeq", 0);
            long head = Attrs.num(session, "head", 0);
            if (head <= watermark) return;
            EventPage page = store.readAfter(sessionId, watermark, MAX_EVENTS_PER_PASS);
            List<Event> chunk = new ArrayList<>();
            Set<String> touched = new LinkedHashSet<>();
            for (StoredEvent se : page.events()) {
                Event e = Event.fromJson(se.json());
                Set<String> keys = keysOf(e);
                Set<String> union = new LinkedHashSet<>(touched);
                union.addAll(keys);
                if (union.size() > MAX_ITEMS_PER_TX) break;
                touched = union;
                chunk.add(e);
            }
            if (chunk.isEmpty()) return;
            long newWatermark = chunk.get(chunk.size() - 1).seq();

            Assembler a = Assembler.from(load(sessionId, touched, watermark));
            chunk.forEach(a::apply);
            SessionState folded = a.state();

            List<TransactWriteItem> tx = new ArrayList<>();
            int bytes = 0;
            for (Item item : folded.items()) {
                String key = keyOf(item);
                if (!touched.contains(key)) continue;
                String json = Json.write(item.toNode());
                int size = json.getBytes(StandardCharsets.UTF_8).length;
                if (size > MAX_ITEM_BYTES) {
                    LOG.warning("a session item exceeds " + MAX_ITEM_BYTES + " bytes; hydration reads its events");
                    return;
                }
                bytes += size;
                tx.add(itemPut(sessionId, key, json, item.lastSeq()));
            }
            if (touched.contains(VIEW_SK)) {
                String view = new SessionState(newWatermark, List.of(), folded.runs(), folded.agents(), folded.presence()).toJson();
                bytes += view.length();
                tx.add(itemPut(sessionId, VIEW_SK, view, newWatermark));
            }
            if (bytes > MAX_TX_BYTES) {
                LOG.warning("compaction pass too large for one transaction; hydration reads the events instead");
                return;
            }
            tx.add(TransactWriteItem.builder().update(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(SessionStore.SESSION_SK)))
                    .updateExpression("SET compactedSeq = :w")
                    .conditionExpression(watermark == 0 ? "attribute_not_exists(compactedSeq)" : "compactedSeq = :old")
                    .expressionAttributeValues(watermark == 0 ? Map.of(":w", n(newWatermark))
                            : Map.of(":w", n(newWatermark), ":old", n(watermark)))).build());
            try {
                ddb.transactWriteItems(r -> r.transactItems(tx));
            } catch (TransactionCanceledException lost) {
                return; // another compactor moved the watermark; its result is as good as ours
            }
            if (newWatermark >= head) return;
        }
    }

    Hydration hydrate(String sessionId) {
        Map<String, AttributeValue> session = store.getItem(tables.sessions(), sessionId, SessionStore.SESSION_SK);
        long watermark = Attrs.num(session, "compactedSeq", 0);
        List<Item> items = new ArrayList<>();
        for (Map<String, AttributeValue> row : store.rowsWithPrefix(sessionId, ITEM_PREFIX)) {
            items.add(SessionState.itemFromNode(Json.parseObject(Attrs.str(row, "v"))));
        }
        Map<String, AttributeValue> viewRow = store.getItem(tables.sessions(), sessionId, VIEW_SK);
        SessionState view = viewRow == null ? SessionState.EMPTY : SessionState.fromNode(Json.parseObject(Attrs.str(viewRow, "v")));
        Assembler a = Assembler.from(new SessionState(watermark, items, view.runs(), view.agents(), view.presence()));
        int eventsRead = store.forEachAfter(sessionId, watermark, se -> a.apply(Event.fromJson(se.json())));
        return new Hydration(a.state(), items.size() + (viewRow == null ? 0 : 1), eventsRead);
    }

    /** Loads the stored items named by {@code keys} as a partial state at the watermark. */
    private SessionState load(String sessionId, Set<String> keys, long watermark) {
        List<Item> items = new ArrayList<>();
        List<RunView> runs = List.of();
        List<AgentView> agents = List.of();
        List<SessionState.PresenceView> presence = List.of();
        List<Map<String, AttributeValue>> wanted = new ArrayList<>();
        for (String k : keys) wanted.add(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(k)));
        for (Map<String, AttributeValue> row : BatchReads.get(ddb, tables.sessions(), wanted, true)) {
            var node = Json.parseObject(Attrs.str(row, "v"));
            if (VIEW_SK.equals(Attrs.str(row, Attrs.SK))) {
                SessionState v = SessionState.fromNode(node);
                runs = v.runs();
                agents = v.agents();
                presence = v.presence();
            } else {
                items.add(SessionState.itemFromNode(node));
            }
        }
        return new SessionState(watermark, items, runs, agents, presence);
    }

    private TransactWriteItem itemPut(String sessionId, String sk, String json, long lastSeq) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(Attrs.SESSION_ID, s(sessionId));
        item.put(Attrs.SK, s(sk));
        item.put("v", s(json));
        item.put("lastSeq", n(lastSeq));
        return TransactWriteItem.builder().put(p -> p.tableName(tables.sessions()).item(item)).build();
    }

    static Set<String> keysOf(Event e) {
        Set<String> keys = new LinkedHashSet<>();
        switch (e.type()) {
            case MESSAGE_START, TEXT_DELTA, MESSAGE_END -> keys.add(ITEM_PREFIX + "m#" + e.dataText("messageId"));
            case TOOL_CALL, TOOL_RESULT -> keys.add(ITEM_PREFIX + "t#" + e.dataText("toolCallId"));
            case CUSTOM -> keys.add(customKey(e.seq()));
            case RUN_INTERRUPTED -> {
                if (e.dataText("messageId") != null) keys.add(ITEM_PREFIX + "m#" + e.dataText("messageId"));
            }
            default -> { }
        }
        if (e.runId() != null || e.type() == EventType.AGENT_JOINED || e.type() == EventType.AGENT_LEFT
                || e.type() == EventType.PRESENCE_JOINED || e.type() == EventType.PRESENCE_LEFT) {
            keys.add(VIEW_SK);
        }
        return keys;
    }

    static String keyOf(Item item) {
        return switch (item) {
            case Message m -> ITEM_PREFIX + "m#" + m.messageId();
            case ToolCall t -> ITEM_PREFIX + "t#" + t.toolCallId();
            case Custom c -> customKey(c.firstSeq());
        };
    }

    private static String customKey(long seq) {
        return ITEM_PREFIX + "c#" + String.format("%020d", seq);
    }
}
