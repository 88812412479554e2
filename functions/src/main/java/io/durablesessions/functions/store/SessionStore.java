package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.AppendResult.Contention;
import io.durablesessions.events.AppendResult.Duplicate;
import io.durablesessions.events.AppendResult.InvalidTransition;
import io.durablesessions.events.AppendResult.MessageFenced;
import io.durablesessions.events.AppendResult.ProducerGap;
import io.durablesessions.events.AppendResult.RunExists;
import io.durablesessions.events.AppendResult.RunFenced;
import io.durablesessions.events.AppendResult.RunNotFound;
import io.durablesessions.events.AppendResult.StaleEpoch;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.RunState;
import io.durablesessions.events.RunStateMachine;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * The session log on DynamoDB. Every guarantee is decided by one conditional
 * {@code TransactWriteItems}: the head row makes seqs gapless, the producer row makes retries
 * idempotent, the run row fences a stopped run. Nothing is locked in memory; a lost race is read
 * from the cancellation reasons and either retried or turned into an {@link AppendResult}.
 */
public final class SessionStore {
    public static final String SESSION_SK = "SESSION";
    static final String RUN_PREFIX = "RUN#";
    static final String PRODUCER_PREFIX = "PRODUCER#";

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final Clock clock;
    private final StoreSettings settings;
    private final int maxAttempts;
    private final Compactor compactor;

    public SessionStore(DynamoDbClient ddb, TableNames tables, Clock clock) {
        this(ddb, tables, clock, StoreSettings.DEFAULTS);
    }

    public SessionStore(DynamoDbClient ddb, TableNames tables, Clock clock, StoreSettings settings) {
        this.ddb = ddb;
        this.tables = tables;
        this.clock = clock;
        this.settings = settings;
        this.maxAttempts = 64;
        this.compactor = new Compactor(ddb, tables, this);
    }

    public StoreSettings settings() {
        return settings;
    }

    /** What a writer asks to append; {@code agentId} comes from its connection, never from the frame. */
    public record AppendRequest(String sessionId, String agentId, Producer producer, List<EventInput> events) {
        public AppendRequest {
            events = List.copyOf(events);
        }
    }

    // ---------------------------------------------------------------- append

    /**
     * Appends the events atomically with consecutive seqs. Bad input throws
     * {@link ProtocolException} before anything is read or written.
     */
    public AppendResult append(AppendRequest req) {
        checkSizes(req);
        List<Draft> drafts = new ArrayList<>(req.events().size());
        for (EventInput in : req.events()) drafts.add(new Draft(in.type(), in.runId(), req.agentId(), in.data()));
        Map<String, RunChange> runs = new LinkedHashMap<>();
        for (int i = 0; i < drafts.size(); i++) {
            Draft d = drafts.get(i);
            if (d.runId() == null) continue;
            RunChange prev = runs.get(d.runId());
            if (prev == null) {
                runs.put(d.runId(), RunChange.first(d, i));
            } else {
                var next = RunStateMachine.next(prev.newState(), d.type());
                if (next.isEmpty()) return refusalWithinBatch(d, prev.newState());
                runs.put(d.runId(), prev.then(d, i, next.get()));
            }
        }
        return commit(req.sessionId(), drafts, req.producer(), runs);
    }

    /**
     * A stop (cancel) recorded by the service: the run goes to {@code stop_requested} and is fenced
     * in the same transaction that appends {@code run.stop_requested} naming the run's last seq.
     */
    public AppendResult requestStop(String sessionId, String runId, String command, String by, String reason) {
        // 1. claim the stop: from here on no append of the run can commit, so its last seq is final
        //    (without the claim, an agent appending in a tight loop could starve the stop forever)
        // 2. record the stop at that seq, fenced, in one transaction that also releases the claim
        String claim = UUID.randomUUID().toString();
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            RunRow run = run(sessionId, runId);
            if (run == null) return new RunNotFound(runId);
            if (run.state().fenced()) return new RunFenced(runId, run.state(), run.stoppedAtSeq());
            if (!claim.equals(run.stopPending())) {
                boolean abandoned = run.stopPending() != null
                        && clock.millis() - run.stopPendingAt() > STOP_CLAIM_TIMEOUT.toMillis();
                if (run.stopPending() != null && !abandoned) {
                    backoff(attempt); // another cancel is recording its stop; it will fence the run
                    continue;
                }
                if (!claimStop(sessionId, runId, run.stopPending(), claim)) continue;
                run = run(sessionId, runId);
            }
            ObjectNode data = Json.object().put("command", command).put("by", by).put("stoppedAtSeq", run.lastSeq());
            if (reason != null) data.put("reason", reason);
            Draft stop = new Draft(EventType.RUN_STOP_REQUESTED, runId, by, data);
            AppendResult r = commit(sessionId, List.of(stop), null,
                    Map.of(runId, RunChange.first(stop, 0).guardedStop(run.lastSeq(), claim)));
            if (r instanceof InvalidTransition) continue; // the claim was taken over; read again
            return r;
        }
        return new Contention(maxAttempts);
    }

    /** A claim left by a cancel that died before recording its stop is taken over after this. */
    static final java.time.Duration STOP_CLAIM_TIMEOUT = java.time.Duration.ofSeconds(5);

    private boolean claimStop(String sessionId, String runId, String previousClaim, String claim) {
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":claim", s(claim), ":now", n(clock.millis()),
                ":running", s(RunState.RUNNING.wire())));
        String condition = "#state = :running AND ";
        if (previousClaim == null) {
            condition += "attribute_not_exists(stopPending)";
        } else {
            condition += "stopPending = :previous";
            values.put(":previous", s(previousClaim));
        }
        String cond = condition;
        try {
            ddb.updateItem(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(RUN_PREFIX + runId)))
                    .updateExpression("SET stopPending = :claim, stopPendingAt = :now").conditionExpression(cond)
                    .expressionAttributeNames(Map.of("#state", "state")).expressionAttributeValues(values));
            return true;
        } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException lost) {
            return false;
        }
    }

    /**
     * Interrupt: records {@code run.interrupted} and fences the reply in progress (or the one
     * named), so no more events of that message are accepted; the run itself keeps running.
     */
    public AppendResult interrupt(String sessionId, String runId, String messageId, String by) {
        RunRow run = run(sessionId, runId);
        if (run == null) return new RunNotFound(runId);
        if (run.state().fenced()) return new RunFenced(runId, run.state(), run.stoppedAtSeq());
        String target = messageId != null ? messageId : run.currentMessageId();
        ObjectNode data = Json.object().put("by", by);
        if (target != null) data.put("messageId", target);
        Draft d = new Draft(EventType.RUN_INTERRUPTED, runId, by, data);
        RunChange change = RunChange.first(d, 0);
        return commit(sessionId, List.of(d), null, Map.of(runId, target == null ? change : change.fencing(target)));
    }

    /** Keeps a running run alive without an event; only its own agent may. */
    public AppendResult heartbeat(String sessionId, String runId, String agentId) {
        long now = clock.millis();
        String sk = RUN_PREFIX + runId;
        try {
            ddb.updateItem(u -> u.tableName(tables.sessions())
                    .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk)))
                    .updateExpression("SET heartbeatAt = :now")
                    .conditionExpression("#state = :running AND attribute_not_exists(stopPending) AND agentId = :agent")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":now", n(now), ":running", s(RunState.RUNNING.wire()),
                            ":agent", s(agentId))));
            return null;
        } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException e) {
            RunRow run = run(sessionId, runId);
            if (run == null) return new RunNotFound(runId);
            if (!agentId.equals(run.agentId())) return new AppendResult.NotRunAgent(runId);
            // as appends report it
            if (run.stopBeingRecorded()) return new RunFenced(runId, RunState.STOP_REQUESTED, null);
            return new RunFenced(runId, run.state(), run.stoppedAtSeq());
        }
    }

    /**
     * The sweeper's verdict on a run whose deadline passed: a running run lost its heartbeat and
     * fails; a stop nobody acknowledged becomes stopped. Conditioned on the deadline it read, so a
     * heartbeat that arrives meanwhile wins.
     */
    public AppendResult expireRun(String sessionId, String runId, long dueAt) {
        RunRow run = run(sessionId, runId);
        if (run == null || run.state() == null) return new RunNotFound(runId);
        long now = clock.millis();
        if (run.state() == RunState.RUNNING && now - run.heartbeatAt() < settings.livenessTimeout().toMillis()) {
            // alive: appends and heartbeats only touch heartbeatAt, so the deadline moves here, at
            // most once per timeout period, instead of on every append
            long next = run.heartbeatAt() + settings.livenessTimeout().toMillis();
            try {
                ddb.updateItem(u -> u.tableName(tables.sessions())
                        .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(RUN_PREFIX + runId)))
                        .updateExpression("SET #due = :next").conditionExpression("#due = :read")
                        .expressionAttributeNames(Map.of("#due", Attrs.DUE_AT))
                        .expressionAttributeValues(Map.of(":next", n(next), ":read", n(dueAt))));
            } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException moved) {
                // someone else moved or removed the deadline: nothing to do
            }
            return new AppendResult.PreconditionFailed();
        }
        Draft d = switch (run.state()) {
            case RUNNING -> new Draft(EventType.RUN_FAILED, runId, "service",
                    Json.object().put("reason", "heartbeat lost: no sign of the agent for "
                            + settings.livenessTimeout().toSeconds() + " s"));
            case STOP_REQUESTED -> new Draft(EventType.RUN_STOPPED, runId, "service",
                    Json.object().put("stoppedAtSeq", run.stoppedAtSeq()).put("reason", "stop not acknowledged"));
            default -> null;
        };
        if (d == null) return new RunFenced(runId, run.state(), run.stoppedAtSeq());
        RunChange change = RunChange.first(d, 0);
        // a heartbeat or append that lands between the read and this write wins
        if (run.state() == RunState.RUNNING) change = change.noHeartbeatSince(run.heartbeatAt());
        return commit(sessionId, List.of(d), null, Map.of(runId, change));
    }

    /** Runs of a session (for cascading a cancel to sub-runs and for control checks). */
    public List<RunRow> runs(String sessionId) {
        return rowsWithPrefix(sessionId, RUN_PREFIX).stream().map(RunRow::of).toList();
    }

    /** Every sessions-table row of the session whose sort key starts with {@code prefix}: one paged Query. */
    List<Map<String, AttributeValue>> rowsWithPrefix(String sessionId, String prefix) {
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        ddb.queryPaginator(q -> q.tableName(tables.sessions()).consistentRead(true)
                .keyConditionExpression("#sid = :sid AND begins_with(#sk, :p)")
                .expressionAttributeNames(Map.of("#sid", Attrs.SESSION_ID, "#sk", Attrs.SK))
                .expressionAttributeValues(Map.of(":sid", s(sessionId), ":p", s(prefix)))).items().forEach(out::add);
        return out;
    }

    /**
     * Appends an event written by the service itself (run.stopped, run.failed by the sweeper,
     * run.interrupted, run.steered), with the same run checks as an agent's append.
     */
    public AppendResult appendServiceEvent(String sessionId, String agentId, EventType type, String runId,
                                           ObjectNode data) {
        Draft d = new Draft(type, runId, agentId, data);
        Map<String, RunChange> runs = runId == null ? Map.of() : Map.of(runId, RunChange.first(d, 0));
        return commit(sessionId, List.of(d), null, runs);
    }

    /**
     * Appends a service event (no run) together with one more conditional write on another row,
     * atomically; {@link AppendResult.PreconditionFailed} when that write's condition fails.
     */
    AppendResult appendWith(String sessionId, EventType type, String agentId, ObjectNode data, TransactWriteItem extra) {
        return commit(sessionId, List.of(new Draft(type, null, agentId, data)), null, Map.of(), extra);
    }

    private AppendResult commit(String sessionId, List<Draft> drafts, Producer producer, Map<String, RunChange> runs) {
        return commit(sessionId, drafts, producer, runs, null);
    }

    private AppendResult commit(String sessionId, List<Draft> drafts, Producer producer, Map<String, RunChange> runs,
                                TransactWriteItem extra) {
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            Map<String, Map<String, AttributeValue>> rows = readHeadAndProducer(sessionId, producer);
            Map<String, AttributeValue> session = rows.get(SESSION_SK);
            long head = Attrs.num(session, "head", 0);
            ProducerRow prow = producer == null ? null : ProducerRow.of(rows.get(PRODUCER_PREFIX + producer.id()));
            if (producer != null) {
                AppendResult refusal = prow.check(producer);
                if (refusal != null) return refusal;
            }
            long now = clock.millis();
            List<Event> events = new ArrayList<>(drafts.size());
            for (int i = 0; i < drafts.size(); i++) events.add(drafts.get(i).toEvent(head + 1 + i, sessionId, now));
            long first = head + 1;
            long last = head + drafts.size();

            List<TransactWriteItem> tx = new ArrayList<>();
            tx.add(headUpdate(sessionId, session == null, head, last, now));
            for (Event e : events) tx.add(eventPut(e));
            int producerIndex = -1;
            if (producer != null) {
                producerIndex = tx.size();
                tx.add(prow.put(tables.sessions(), sessionId, producer, first, last));
            }
            Map<Integer, RunChange> runIndex = new HashMap<>();
            for (RunChange rc : runs.values()) {
                runIndex.put(tx.size(), rc);
                tx.add(rc.toWrite(tables.sessions(), sessionId, first, now, settings));
            }
            int extraIndex = tx.size();
            if (extra != null) tx.add(extra);
            try {
                ddb.transactWriteItems(r -> r.transactItems(tx));
                compactor.maybeCompact(sessionId, session, drafts, last);
                return new Appended(first, last, events);
            } catch (TransactionCanceledException e) {
                List<CancellationReason> reasons = e.cancellationReasons();
                if (extra != null && failed(reasons, extraIndex)) return new AppendResult.PreconditionFailed();
                for (Map.Entry<Integer, RunChange> entry : runIndex.entrySet()) {
                    if (failed(reasons, entry.getKey())) {
                        AppendResult refusal = classifyRun(sessionId, entry.getValue());
                        if (refusal != null) return refusal;
                    }
                }
                // head or producer moved (another writer, or a concurrent retry): read again and retry
                backoff(attempt);
            }
        }
        return new Contention(maxAttempts);
    }

    private static boolean failed(List<CancellationReason> reasons, int index) {
        return reasons != null && index < reasons.size()
                && "ConditionalCheckFailed".equals(reasons.get(index).code());
    }

    /** Why a run condition failed, or null if it was a race worth retrying. */
    private AppendResult classifyRun(String sessionId, RunChange rc) {
        RunRow run = run(sessionId, rc.runId());
        if (rc.create()) return run == null ? null : new RunExists(rc.runId());
        if (run == null) return new RunNotFound(rc.runId());
        if (run.stopBeingRecorded() && rc.stopClaim() == null && rc.requiredStates().contains(RunState.RUNNING)) {
            return new RunFenced(rc.runId(), RunState.STOP_REQUESTED, null); // a stop is being recorded
        }
        if (run.stopBeingRecorded() && rc.stopClaim() == null && rc.requiredStates().contains(RunState.STOP_REQUESTED)) {
            return null; // e.g. the agent acknowledging a stop that is still being recorded: retry shortly
        }
        if (rc.requiredStates().contains(run.state())) {
            for (String m : rc.messagesUsed()) {
                if (run.fencedMessages().contains(m)) return new MessageFenced(rc.runId(), m, null);
            }
            // a guard failed (the stop's last seq, the sweeper's deadline): the caller decides
            return new InvalidTransition(rc.runId(), run.state(), rc.firstType());
        }
        if (run.state().fenced() && rc.requiredStates().contains(RunState.RUNNING)) {
            return new RunFenced(rc.runId(), run.state(), run.stoppedAtSeq());
        }
        return new InvalidTransition(rc.runId(), run.state(), rc.firstType());
    }

    private static AppendResult refusalWithinBatch(Draft d, RunState state) {
        if (d.type() == EventType.RUN_STARTED) return new RunExists(d.runId());
        if (state.fenced() && RunStateMachine.allowedFrom(d.type()).contains(RunState.RUNNING)) {
            return new RunFenced(d.runId(), state, null);
        }
        return new InvalidTransition(d.runId(), state, d.type());
    }

    private void checkSizes(AppendRequest req) {
        if (req.events().isEmpty() || req.events().size() > Limits.MAX_EVENTS_PER_APPEND) {
            throw new ProtocolException(ErrorCode.TOO_MANY_EVENTS, "an append holds 1 to "
                    + Limits.MAX_EVENTS_PER_APPEND + " events");
        }
        for (int i = 0; i < req.events().size(); i++) {
            // measured with the largest possible seq and timestamp, so the stored form can never exceed it
            Event widest = req.events().get(i).toEvent(Limits.MAX_SAFE_INTEGER, req.sessionId(), req.agentId(),
                    Long.MAX_VALUE);
            int size = widest.toJson().getBytes(StandardCharsets.UTF_8).length;
            if (size > Limits.MAX_EVENT_BYTES) {
                throw new ProtocolException(ErrorCode.EVENT_TOO_LARGE, "events[" + i + "] is " + size
                        + " bytes stored; the limit is " + Limits.MAX_EVENT_BYTES + ": split it",
                        Json.object().put("field", "events[" + i + "]").put("size", size)
                                .put("limit", Limits.MAX_EVENT_BYTES));
            }
        }
    }

    /** The head seq of each session (0 when it has none yet), eventually consistent. */
    public Map<String, Long> heads(List<String> sessionIds) {
        Map<String, Long> heads = new HashMap<>();
        List<Map<String, AttributeValue>> keys = new ArrayList<>();
        for (String id : sessionIds) {
            heads.put(id, 0L);
            keys.add(Map.of(Attrs.SESSION_ID, s(id), Attrs.SK, s(SESSION_SK)));
        }
        for (var row : BatchReads.get(ddb, tables.sessions(), keys, false, "#sid, head", Map.of("#sid", Attrs.SESSION_ID))) {
            heads.put(Attrs.str(row, Attrs.SESSION_ID), Attrs.num(row, "head", 0));
        }
        return heads;
    }

    /** The head row and the producer row, strongly consistent, in one round trip. */
    private Map<String, Map<String, AttributeValue>> readHeadAndProducer(String sessionId, Producer producer) {
        Map<String, Map<String, AttributeValue>> rows = new HashMap<>();
        if (producer == null) {
            rows.put(SESSION_SK, getItem(tables.sessions(), sessionId, SESSION_SK));
            return rows;
        }
        List<Map<String, AttributeValue>> keys = List.of(
                Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(SESSION_SK)),
                Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(PRODUCER_PREFIX + producer.id())));
        for (var row : BatchReads.get(ddb, tables.sessions(), keys, true)) rows.put(Attrs.str(row, Attrs.SK), row);
        return rows;
    }

    private TransactWriteItem headUpdate(String sessionId, boolean create, long head, long last, long now) {
        return TransactWriteItem.builder().update(u -> u.tableName(tables.sessions())
                .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(SESSION_SK)))
                .updateExpression("SET head = :last, updatedAt = :now, createdAt = if_not_exists(createdAt, :now)")
                .conditionExpression(create ? "attribute_not_exists(head)" : "head = :head")
                .expressionAttributeValues(create
                        ? Map.of(":last", n(last), ":now", n(now))
                        : Map.of(":last", n(last), ":now", n(now), ":head", n(head)))).build();
    }

    private TransactWriteItem eventPut(Event e) {
        return TransactWriteItem.builder().put(p -> p.tableName(tables.events())
                .item(Map.of(Attrs.SESSION_ID, s(e.sessionId()), Attrs.SEQ, n(e.seq()), Attrs.EVENT_JSON, s(e.toJson())))
                .conditionExpression("attribute_not_exists(#seq)")
                .expressionAttributeNames(Map.of("#seq", Attrs.SEQ))).build();
    }

    private static void backoff(int attempt) {
        long capMs = Math.min(50, 1L << Math.min(attempt, 6));
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(capMs + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while retrying an append", e);
        }
    }

    // ---------------------------------------------------------------- reads

    /** The highest seq of the session (0 when it has no events). */
    public long head(String sessionId) {
        return Attrs.num(getItem(tables.sessions(), sessionId, SESSION_SK), "head", 0);
    }

    /** Events with seq > {@code afterSeq}, in order, at most {@code limit} of them. */
    public EventPage readAfter(String sessionId, long afterSeq, int limit) {
        QueryResponse r = ddb.query(q -> q.tableName(tables.events()).consistentRead(true).limit(limit)
                .keyConditionExpression("#sid = :sid AND #seq > :after")
                .expressionAttributeNames(Map.of("#sid", Attrs.SESSION_ID, "#seq", Attrs.SEQ))
                .expressionAttributeValues(Map.of(":sid", s(sessionId), ":after", n(afterSeq))));
        List<StoredEvent> out = new ArrayList<>(r.count());
        for (Map<String, AttributeValue> item : r.items()) {
            out.add(new StoredEvent(Attrs.num(item, Attrs.SEQ, 0), Attrs.str(item, Attrs.EVENT_JSON)));
        }
        return new EventPage(out, r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty());
    }

    /**
     * Every event with seq > {@code afterSeq}, in order, page by page (the one paging loop over the
     * log); returns how many it read.
     */
    public int forEachAfter(String sessionId, long afterSeq, java.util.function.Consumer<StoredEvent> consumer) {
        int read = 0;
        long after = afterSeq;
        EventPage page;
        do {
            page = readAfter(sessionId, after, 1000);
            page.events().forEach(consumer);
            read += page.events().size();
            after = page.lastSeq(after);
        } while (page.more());
        return read;
    }

    /** The assembled state at the current head; its cost is the stored items plus uncompacted events. */
    public Hydration hydrate(String sessionId) {
        return compactor.hydrate(sessionId);
    }

    /** Fold whatever is not yet compacted into stored items (normally triggered by appends). */
    public void compact(String sessionId) {
        compactor.compact(sessionId);
    }

    /** The run row's state, for control and tests; null when the run does not exist. */
    public RunRow run(String sessionId, String runId) {
        Map<String, AttributeValue> r = getItem(tables.sessions(), sessionId, RUN_PREFIX + runId);
        return r == null ? null : RunRow.of(r);
    }

    public record RunRow(String runId, String agentId, String parentRunId, RunState state, long startedSeq,
                         long lastSeq, Long stoppedAtSeq, String currentMessageId, Set<String> fencedMessages,
                         long heartbeatAt, String stopPending, long stopPendingAt) {
        static RunRow of(Map<String, AttributeValue> r) {
            AttributeValue fenced = r.get("fencedMessages");
            return new RunRow(Attrs.str(r, "runId"), Attrs.str(r, "agentId"), Attrs.str(r, "parentRunId"),
                    RunState.fromWire(Attrs.str(r, "state")), Attrs.num(r, "startedSeq", 0), Attrs.num(r, "lastSeq", 0),
                    Attrs.num(r, "stoppedAtSeq"), Attrs.str(r, "currentMessageId"),
                    fenced == null || !fenced.hasSs() ? Set.of() : Set.copyOf(fenced.ss()), Attrs.num(r, "heartbeatAt", 0),
                    Attrs.str(r, "stopPending"), Attrs.num(r, "stopPendingAt", 0));
        }

        /** A cancel has claimed the run and is recording its stop: to its agent it is already stop_requested. */
        boolean stopBeingRecorded() {
            return state == RunState.RUNNING && stopPending != null;
        }
    }

    Map<String, AttributeValue> getItem(String table, String sessionId, String sk) {
        var r = ddb.getItem(g -> g.tableName(table).consistentRead(true)
                .key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk))));
        return r.hasItem() && !r.item().isEmpty() ? r.item() : null;
    }

    // ---------------------------------------------------------------- plan values

    /** An event before its seq is known. */
    record Draft(EventType type, String runId, String agentId, ObjectNode data) {
        Event toEvent(long seq, String sessionId, long ts) {
            return new Event(seq, sessionId, type, agentId, runId, ts, data);
        }
    }
}
