package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.AppendResult.Contention;
import io.durablesessions.events.AppendResult.EntityTransition;
import io.durablesessions.events.AppendResult.InvalidTransition;
import io.durablesessions.events.AppendResult.MessageFenced;
import io.durablesessions.events.AppendResult.NotOwner;
import io.durablesessions.events.AppendResult.ProducerGap;
import io.durablesessions.events.AppendResult.RunExists;
import io.durablesessions.events.AppendResult.RunFenced;
import io.durablesessions.events.AppendResult.RunNotFound;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.EventType.Phase;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.RunState;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.TransactionConflictException;

/**
 * The session log on DynamoDB. Every guarantee is decided by one conditional
 * {@code TransactWriteItems}: the head row makes seqs gapless, the producer row makes retries
 * idempotent, the run row fences a stopped run and admits only its own agent, the owner rows of
 * messages and tool calls admit only their writer. A lost race is read from the cancellation
 * reasons and either retried or turned into an {@link AppendResult}. Appends to one session from one
 * process take turns ({@link SessionTurns}) so they do not race each other; that saves work and
 * decides nothing.
 */
public final class SessionStore {

    private final DynamoDbClient ddb;
    private final TableNames tables;
    private final Clock clock;
    private final StoreSettings settings;
    private final int maxAttempts;
    private final Compactor compactor;
    private final SessionTurns turns = new SessionTurns();
    private final KnownHeads heads = new KnownHeads();

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

    /** Sessions whose turn someone holds or awaits right now (tests: none once all appends returned). */
    int turnsInUse() {
        return turns.active();
    }

    /**
     * What a writer asks to append; {@code agentId} comes from its connection, never from the frame.
     * {@code traceparent}: the writer's W3C trace context, stored with every event (null: none).
     */
    public record AppendRequest(
            String sessionId, String agentId, Producer producer, List<EventInput> events, String traceparent) {
        public AppendRequest {
            events = List.copyOf(events);
        }

        public AppendRequest(String sessionId, String agentId, Producer producer, List<EventInput> events) {
            this(sessionId, agentId, producer, events, null);
        }
    }

    // ---------------------------------------------------------------- append

    /**
     * Appends the events atomically with consecutive seqs. Bad input throws
     * {@link ProtocolException} before anything is read or written. The writer owns what it starts
     * (runs, messages, tool calls) and nobody else may write to them (docs/protocol.md §6.3); an
     * acknowledged stop is recorded with its {@code run.stopped} in the same transaction.
     */
    public AppendResult append(AppendRequest req) {
        return append(req, null);
    }

    /**
     * As {@link #append(AppendRequest)}; {@code afterCommit} (if not null) gets the {@code Appended}
     * right after the commit, before the compaction the append may trigger: direct delivery goes
     * there, so readers never wait for a compaction pass.
     */
    public AppendResult append(AppendRequest req, Consumer<AppendResult.Appended> afterCommit) {
        checkSizes(req);
        for (int attempt = 1; ; attempt++) {
            List<Draft> drafts = new ArrayList<>(req.events().size() + 1);
            AppendResult unrecordable = null;
            boolean stopInFlight = false;
            for (EventInput in : req.events()) {
                drafts.add(new Draft(in.type(), in.runId(), req.agentId(), in.data(), req.traceparent()));
                if (in.type() == EventType.RUN_STOP_ACKNOWLEDGED) {
                    RunRow run = run(req.sessionId(), in.runId());
                    Draft stopped = stoppedAfterAcknowledgement(run, in.runId(), req.agentId(), req.traceparent());
                    if (stopped != null) {
                        drafts.add(stopped);
                    } else if (run != null
                            && run.stopBeingRecorded()
                            && req.agentId().equals(run.agentId())) {
                        stopInFlight = true; // the agent learnt of it from a RUN_FENCED: wait for the stop
                    } else if (unrecordable == null) {
                        unrecordable = ackRefusal(run, in.runId(), req.agentId());
                    }
                }
            }
            if (stopInFlight) {
                if (attempt >= maxAttempts) return new Contention(maxAttempts);
                backoff(attempt);
                continue;
            }
            AppendPlan.Planned planned = AppendPlan.of(drafts, req.agentId());
            if (planned.refusal() != null) return planned.refusal();
            // an acknowledgement is only ever written with its run.stopped: one that cannot be is
            // refused, after the producer check (a retry of one that was recorded is a Duplicate)
            planned.plan().refuseAfterProducerCheck = unrecordable;
            return commit(req.sessionId(), planned.plan(), req.producer(), req.agentId(), null, afterCommit);
        }
    }

    /**
     * The {@code run.stopped} that ends a run with its agent's acknowledgement, so every stopped run
     * ends with the same event whichever way it got there (§6). Its {@code stoppedAtSeq} is read from
     * the run (fixed since the stop was recorded); null when the run is not awaiting an
     * acknowledgement from this writer.
     */
    private static Draft stoppedAfterAcknowledgement(RunRow run, String runId, String writer, String traceparent) {
        if (run == null
                || run.state() != RunState.STOP_REQUESTED
                || !writer.equals(run.agentId())
                || run.stoppedAtSeq() == null) {
            return null;
        }
        // one of the append's events: it carries the append's trace context too
        return new Draft(
                EventType.RUN_STOPPED,
                runId,
                SERVICE,
                Json.object().put("stoppedAtSeq", run.stoppedAtSeq()).put("reason", STOPPED_ACKNOWLEDGED),
                traceparent);
    }

    /** Why an acknowledgement of a run that awaits none from this writer is refused. */
    private static AppendResult ackRefusal(RunRow run, String runId, String writer) {
        if (run == null) return new RunNotFound(runId);
        if (!writer.equals(run.agentId())) return new NotOwner("runId", runId);
        return new InvalidTransition(runId, run.state(), EventType.RUN_STOP_ACKNOWLEDGED);
    }

    /** The writer id of events the service writes on its own (liveness, timeouts, presence leaves). */
    public static final String SERVICE = Assembler.SERVICE;
    /** {@code run.stopped} reasons (docs/protocol.md §6). */
    public static final String STOPPED_ACKNOWLEDGED = "acknowledged";

    public static final String STOPPED_NOT_ACKNOWLEDGED = "stop not acknowledged";
    /** {@code run.failed} reason of the liveness sweeper (docs/protocol.md §6.1). */
    public static final String HEARTBEAT_LOST = "heartbeat lost";

    /**
     * A stop (cancel) recorded by the service: the run goes to {@code stop_requested} and is fenced
     * in the same transaction that appends {@code run.stop_requested} naming the run's last seq.
     * {@code afterCommit} (if not null) gets the recorded stop right after its commit, before any
     * compaction (direct delivery goes there).
     */
    public AppendResult requestStop(
            String sessionId,
            String runId,
            String command,
            String by,
            String reason,
            Consumer<AppendResult.Appended> afterCommit) {
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
                if (!claimStop(sessionId, runId, run.stopPending(), claim)) {
                    backoff(attempt); // another cancel claimed it, or the agent's appends hold the row
                    continue;
                }
                run = run(sessionId, runId);
            }
            ObjectNode data =
                    Json.object().put("command", command).put("by", by).put("stoppedAtSeq", run.lastSeq());
            if (reason != null) data.put("reason", reason);
            Draft stop = new Draft(EventType.RUN_STOP_REQUESTED, runId, by, data);
            AppendResult r = commit(
                    sessionId,
                    AppendPlan.service(
                            stop, RunWrite.first(runId, stop.type(), 0).guardedStop(run.lastSeq(), claim)),
                    null,
                    null,
                    null,
                    afterCommit);
            if (r instanceof InvalidTransition) continue; // the claim was taken over; read again
            return r;
        }
        return new Contention(maxAttempts);
    }

    /** A claim left by a cancel that died before recording its stop is taken over after this. */
    static final Duration STOP_CLAIM_TIMEOUT = Duration.ofSeconds(5);

    private boolean claimStop(String sessionId, String runId, String previousClaim, String claim) {
        Update u = new Update(tables.sessions(), runKey(sessionId, runId));
        String pending = u.name(RunRow.STOP_PENDING);
        u.set(pending, s(claim)).set(u.name(RunRow.STOP_PENDING_AT), n(clock.millis()));
        u.condition(u.name(RunRow.STATE) + " = " + u.value(s(RunState.RUNNING.wire())));
        u.condition(
                previousClaim == null
                        ? "attribute_not_exists(" + pending + ")"
                        : pending + " = " + u.value(s(previousClaim)));
        try {
            ddb.updateItem(u.request());
            return true;
        } catch (ConditionalCheckFailedException lost) {
            return false;
        } catch (TransactionConflictException busy) {
            // an agent streaming into the run holds its row in one transaction after another; the
            // client's own retries can all meet one, so the stop's loop reads again and retries
            return false;
        }
    }

    /**
     * Interrupt: records {@code run.interrupted} and fences the reply in progress (or the one
     * named), so no more events of that message are accepted; the run itself keeps running.
     * {@code afterCommit} (if not null) as for {@link #requestStop}.
     */
    public AppendResult interrupt(
            String sessionId, String runId, String messageId, String by, Consumer<AppendResult.Appended> afterCommit) {
        RunRow run = run(sessionId, runId);
        if (run == null) return new RunNotFound(runId);
        if (run.stopBeingRecorded()) return new RunFenced(runId, RunState.STOP_REQUESTED, run.lastSeq());
        if (run.state().fenced()) return new RunFenced(runId, run.state(), run.stoppedAtSeq());
        String target = messageId != null ? messageId : run.currentMessageId();
        ObjectNode data = Json.object().put("by", by);
        if (target != null) data.put("messageId", target);
        Draft d = new Draft(EventType.RUN_INTERRUPTED, runId, by, data);
        RunWrite change = RunWrite.first(runId, d.type(), 0);
        return commit(
                sessionId,
                AppendPlan.service(d, target == null ? change : change.fencing(target)),
                null,
                null,
                null,
                afterCommit);
    }

    /** Keeps a running run alive without an event; only its own agent may. */
    public AppendResult heartbeat(String sessionId, String runId, String agentId) {
        Update u = new Update(tables.sessions(), runKey(sessionId, runId));
        u.set(u.name(RunRow.HEARTBEAT_AT), n(clock.millis()));
        u.condition(RunRow.RUNNING);
        u.condition(u.name(RunRow.AGENT_ID) + " = " + u.value(s(agentId)));
        try {
            ddb.updateItem(u.request());
            return new AppendResult.Noted(runId);
        } catch (ConditionalCheckFailedException e) {
            RunRow run = run(sessionId, runId);
            if (run == null) return new RunNotFound(runId);
            if (!agentId.equals(run.agentId())) return new NotOwner("runId", runId);
            // as appends report it
            if (run.stopBeingRecorded()) return new RunFenced(runId, RunState.STOP_REQUESTED, run.lastSeq());
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
        if (run.state() == RunState.RUNNING
                && now - run.heartbeatAt() < settings.livenessTimeout().toMillis()) {
            // alive: appends and heartbeats only touch heartbeatAt, so the deadline moves here, at
            // most once per timeout period, instead of on every append
            Update u = new Update(tables.sessions(), runKey(sessionId, runId));
            String due = u.name(Attrs.DUE_AT);
            u.set(due, n(run.heartbeatAt() + settings.livenessTimeout().toMillis()));
            u.condition(due + " = " + u.value(n(dueAt)));
            try {
                ddb.updateItem(u.request());
            } catch (ConditionalCheckFailedException moved) {
                // someone else moved or removed the deadline: nothing to do
            }
            return new AppendResult.PreconditionFailed();
        }
        Draft d = switch (run.state()) {
            case RUNNING ->
                new Draft(
                        EventType.RUN_FAILED,
                        runId,
                        SERVICE,
                        Json.object()
                                .put("reason", HEARTBEAT_LOST)
                                .put(
                                        "timeoutSeconds",
                                        settings.livenessTimeout().toSeconds()));
            case STOP_REQUESTED ->
                new Draft(
                        EventType.RUN_STOPPED,
                        runId,
                        SERVICE,
                        Json.object().put("stoppedAtSeq", run.stoppedAtSeq()).put("reason", STOPPED_NOT_ACKNOWLEDGED));
            default -> null;
        };
        if (d == null) return new RunFenced(runId, run.state(), run.stoppedAtSeq());
        RunWrite change = RunWrite.first(runId, d.type(), 0);
        // a heartbeat or append that lands between the read and this write wins
        if (run.state() == RunState.RUNNING) change.noHeartbeatSince(run.heartbeatAt());
        return commit(sessionId, AppendPlan.service(d, change), null, null, null);
    }

    /** Runs of a session (for cascading a cancel to sub-runs and for control checks). */
    public List<RunRow> runs(String sessionId) {
        return rowsWithPrefix(sessionId, Keys.RUN).stream().map(RunRow::of).toList();
    }

    /** Every sessions-table row of the session whose sort key starts with {@code prefix}: one paged Query. */
    List<Map<String, AttributeValue>> rowsWithPrefix(String sessionId, String prefix) {
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        ddb.queryPaginator(q -> q.tableName(tables.sessions())
                        .consistentRead(true)
                        .keyConditionExpression("#sid = :sid AND begins_with(#sk, :p)")
                        .expressionAttributeNames(Map.of("#sid", Attrs.SESSION_ID, "#sk", Attrs.SK))
                        .expressionAttributeValues(Map.of(":sid", s(sessionId), ":p", s(prefix))))
                .items()
                .forEach(out::add);
        return out;
    }

    /**
     * Appends an event written by the service itself (run.steered for a client's steer), with the
     * same run checks as an agent's append; {@code agentId} names who asked for it. {@code afterCommit}
     * (if not null) as for {@link #requestStop}.
     */
    public AppendResult appendServiceEvent(
            String sessionId,
            String agentId,
            EventType type,
            String runId,
            ObjectNode data,
            Consumer<AppendResult.Appended> afterCommit) {
        Draft d = new Draft(type, runId, agentId, data);
        return commit(
                sessionId,
                AppendPlan.service(d, runId == null ? null : RunWrite.first(runId, type, 0)),
                null,
                null,
                null,
                afterCommit);
    }

    /**
     * Appends a service event (no run) together with one more conditional write on another row,
     * atomically; {@link AppendResult.PreconditionFailed} when that write's condition fails.
     */
    AppendResult appendWith(
            String sessionId,
            EventType type,
            String agentId,
            ObjectNode data,
            TransactWriteItem extra,
            boolean onlyIfSessionExists) {
        AppendPlan plan = AppendPlan.service(new Draft(type, null, agentId, data), null);
        if (onlyIfSessionExists) plan.onlyIfSessionExists();
        return commit(sessionId, plan, null, null, extra);
    }

    /** What failed in a cancelled transaction: the item's role in the plan. */
    private sealed interface Part permits RunPart, EntityPart, ParentPart, ExtraPart {}

    private record RunPart(RunWrite run) implements Part {}

    private record EntityPart(EntityWrite entity) implements Part {}

    private record ParentPart(String parentRunId) implements Part {}

    private record ExtraPart() implements Part {}

    private AppendResult commit(
            String sessionId, AppendPlan plan, Producer producer, String writer, TransactWriteItem extra) {
        return commit(sessionId, plan, producer, writer, extra, null);
    }

    private AppendResult commit(
            String sessionId,
            AppendPlan plan,
            Producer producer,
            String writer,
            TransactWriteItem extra,
            Consumer<AppendResult.Appended> afterCommit) {
        String producerKey = producer == null ? null : Keys.producer(writer, producer.id());
        long waitUntil = System.nanoTime() + PREDECESSOR_WAIT.toNanos();
        int waits = 0;
        Map<String, AttributeValue> known = null; // the SESSION row as a lost race returned it
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            Attempt outcome;
            try (SessionTurns.Turn turn = turns.take(sessionId)) {
                outcome = attempt(sessionId, plan, producer, producerKey, extra, waitUntil, known);
            }
            known = null;
            switch (outcome) {
                case Attempt.Done done -> {
                    if (done.result() instanceof Appended appended) {
                        // outside the turn: the next writer of the session commits meanwhile
                        if (afterCommit != null) afterCommit.accept(appended);
                        compactor.maybeCompact(sessionId, plan.drafts, appended.lastSeq());
                    }
                    return done.result();
                }
                case Attempt.AwaitPredecessor ignored -> {
                    pause(++waits);
                    attempt--;
                }
                case Attempt.Reread ignored -> attempt--; // decided nothing: the same attempt, from a fresh read
                case Attempt.Retry retry -> {
                    known = retry.session();
                    backoff(attempt);
                }
            }
        }
        return new Contention(maxAttempts);
    }

    /** One read-and-commit, taken while holding the session's turn. */
    private sealed interface Attempt {
        record Done(AppendResult result) implements Attempt {}

        /** A pipelined producer's predecessor is still on its way. */
        record AwaitPredecessor() implements Attempt {}

        /**
         * The row this process last committed ({@link KnownHeads}) says the append is a duplicate, out of
         * order or refused: read the head before deciding that (another process may have moved it).
         */
        record Reread() implements Attempt {}

        /**
         * The head or producer moved, or DynamoDB reported a conflict: try again, from {@code session}
         * (the SESSION row the failed head condition returned) or, when null, from a fresh read.
         */
        record Retry(Map<String, AttributeValue> session) implements Attempt {}
    }

    private Attempt attempt(
            String sessionId,
            AppendPlan plan,
            Producer producer,
            String producerKey,
            TransactWriteItem extra,
            long waitUntil,
            Map<String, AttributeValue> known) {
        List<Draft> drafts = plan.drafts;
        // a lost race's returned row is as good as a consistent read taken then: the head condition
        // guards the rest, and the producer's own row is read after it, as always
        Map<String, AttributeValue> cached = known == null ? heads.get(sessionId) : null;
        Map<String, AttributeValue> session =
                known != null ? known : cached != null ? cached : getItem(tables.sessions(), sessionId, Keys.SESSION);
        if (session == null && plan.sessionMustExist) return new Attempt.Done(new AppendResult.NoSession(sessionId));
        long head = Attrs.num(session, SessionRow.HEAD, 0);
        String hot = ProducerRow.hotKey(session);
        ProducerRow prow = producer == null ? null : producerState(sessionId, session, producerKey);
        // what is decided without a write: a duplicate, a producer refusal, or the plan's own refusal
        AppendResult decided = producer == null ? null : prow.check(producer);
        if (decided == null) decided = plan.refuseAfterProducerCheck;
        if (decided != null && cached != null) {
            // never refuse, or answer a duplicate, from what this process last wrote: read the head
            heads.forget(sessionId);
            return new Attempt.Reread();
        }
        if (decided instanceof ProducerGap gap
                && producer.seq() - gap.expectedSeq() < Limits.MAX_PRODUCER_IN_FLIGHT
                && System.nanoTime() < waitUntil) {
            // a pipelined producer: its predecessor is still on its way (messages of one connection
            // are processed concurrently); wait for it rather than refuse
            return new Attempt.AwaitPredecessor();
        }
        if (decided != null) return new Attempt.Done(decided);
        long now = clock.millis();
        List<Event> events = new ArrayList<>(drafts.size());
        for (int i = 0; i < drafts.size(); i++) events.add(drafts.get(i).toEvent(head + 1 + i, sessionId, now));
        long first = head + 1;
        long last = head + drafts.size();

        List<TransactWriteItem> tx = new ArrayList<>();
        Map<Integer, Part> parts = new LinkedHashMap<>();
        Map<String, AttributeValue> hotAfter =
                producer == null ? Map.of() : prow.next(producer, first, last).asHot(producerKey);
        tx.add(headUpdate(sessionId, session, head, last, now, hotAfter));
        // the row's createdAt as the head update leaves it (it sets one where there is none)
        long incarnation = Attrs.num(session, SessionRow.CREATED_AT, now);
        for (Event e : events) tx.add(eventPut(e, incarnation));
        if (producer != null && hot != null && !hot.equals(producerKey)) {
            tx.add(ProducerRow.hot(session).spill(tables.sessions(), sessionId, hot));
        }
        for (RunWrite rw : plan.runs.values()) {
            parts.put(tx.size(), new RunPart(rw));
            tx.add(rw.toWrite(tables.sessions(), sessionId, first, now, settings));
        }
        for (EntityWrite ew : plan.entities.values()) {
            parts.put(tx.size(), new EntityPart(ew));
            tx.add(ew.toWrite(tables.sessions(), sessionId));
        }
        for (String parent : plan.parents) {
            parts.put(tx.size(), new ParentPart(parent));
            tx.add(parentRunning(sessionId, parent));
        }
        // a new session gets its delivery mark row here, empty: marks only ever update that row, so a late
        // mark of an erased incarnation cannot bring it back (DeliveryMarks)
        if (session == null) tx.add(DeliveryMarks.createWith(tables.sessions(), sessionId, incarnation));
        if (extra != null) {
            parts.put(tx.size(), new ExtraPart());
            tx.add(extra);
        }
        try {
            ddb.transactWriteItems(r -> r.transactItems(tx));
            heads.committed(sessionId, session, last, now, hotAfter);
            return new Attempt.Done(new Appended(first, last, events));
        } catch (TransactionCanceledException e) {
            heads.forget(sessionId);
            List<CancellationReason> reasons = e.cancellationReasons();
            for (var part : parts.entrySet()) {
                if (!failed(reasons, part.getKey())) continue;
                AppendResult refusal = switch (part.getValue()) {
                    case RunPart r -> classifyRun(sessionId, r.run());
                    case EntityPart en -> classifyEntity(sessionId, en.entity());
                    case ParentPart p -> classifyParent(sessionId, p.parentRunId());
                    case ExtraPart x -> new AppendResult.PreconditionFailed();
                };
                if (refusal != null) return new Attempt.Done(duplicateOr(sessionId, producerKey, producer, refusal));
            }
            // the head condition (item 0) failed: another writer committed; its row came back with the reason
            CancellationReason headReason = failed(reasons, 0) ? reasons.get(0) : null;
            boolean returned = headReason != null
                    && headReason.hasItem()
                    && !headReason.item().isEmpty();
            return new Attempt.Retry(returned ? headReason.item() : null);
        } catch (RuntimeException e) {
            heads.forget(sessionId); // it may or may not have committed
            throw e;
        }
    }

    /**
     * A retry after a lost ack can race its own original: read before the original committed, it
     * then fails on what the original wrote (the run it started, the message it opened). If the
     * producer row now records this very append, it is the duplicate it is, not that refusal.
     */
    private AppendResult duplicateOr(String sessionId, String producerKey, Producer producer, AppendResult refusal) {
        if (producer == null) return refusal;
        Map<String, AttributeValue> session = getItem(tables.sessions(), sessionId, Keys.SESSION);
        AppendResult now = producerState(sessionId, session, producerKey).check(producer);
        return now instanceof AppendResult.Duplicate ? now : refusal;
    }

    private static boolean failed(List<CancellationReason> reasons, int index) {
        return reasons != null
                && index < reasons.size()
                && "ConditionalCheckFailed".equals(reasons.get(index).code());
    }

    /** A sub-run may only start under a parent that exists in this session and is running. */
    private TransactWriteItem parentRunning(String sessionId, String parentRunId) {
        Update u = new Update(tables.sessions(), runKey(sessionId, parentRunId));
        u.condition(RunRow.RUNNING);
        return u.transactItem();
    }

    /** Why a run condition failed, or null if it was a race worth retrying. */
    private AppendResult classifyRun(String sessionId, RunWrite rw) {
        RunRow run = run(sessionId, rw.runId);
        if (rw.create) return run == null ? null : new RunExists(rw.runId);
        if (run == null) return new RunNotFound(rw.runId);
        if (rw.writer != null && !rw.writer.equals(run.agentId())) return new NotOwner("runId", rw.runId);
        if (run.stopBeingRecorded() && rw.stopClaim == null && rw.requiredStates.contains(RunState.RUNNING)) {
            // a stop is being recorded: nothing of the run can commit any more, so its last seq is the
            // seq the stop will name
            return new RunFenced(rw.runId, RunState.STOP_REQUESTED, run.lastSeq());
        }
        if (run.stopBeingRecorded() && rw.stopClaim == null && rw.requiredStates.contains(RunState.STOP_REQUESTED)) {
            return null; // e.g. the agent acknowledging a stop that is still being recorded: retry shortly
        }
        if (rw.requiredStates.contains(run.state())) {
            for (RunWrite.EntityRef e : rw.entities.values()) {
                AppendResult refusal = classifyOpenEntry(sessionId, rw, run, e);
                if (refusal != null) return refusal;
            }
            // a guard failed (the stop's last seq, the sweeper's deadline): the caller decides
            return new InvalidTransition(rw.runId, run.state(), rw.firstType);
        }
        if (run.state().fenced() && rw.requiredStates.contains(RunState.RUNNING)) {
            return new RunFenced(rw.runId, run.state(), run.stoppedAtSeq());
        }
        return new InvalidTransition(rw.runId, run.state(), rw.firstType);
    }

    /** Why an entry of the run's {@code open} map refused the append, or null if it did not. */
    private AppendResult classifyOpenEntry(String sessionId, RunWrite rw, RunRow run, RunWrite.EntityRef e) {
        if (e.fences()) return null;
        String value = run.open().get(EntityWrite.openKey(e.field(), e.id()));
        if (RunWrite.FENCED.equals(value)) return new MessageFenced(rw.runId, e.id(), null);
        EventType.Step step = e.first();
        Phase current = EntityWrite.phase(value);
        if (current != null) {
            return e.requires().contains(current)
                    ? null
                    : new EntityTransition(e.field(), e.id(), e.type(), step.whyNot(current));
        }
        // absent from the run: new (then the owner row decides), or never of this run, or ended
        if (e.requires().contains(Phase.ABSENT)) return null;
        EntityRow owner = entity(sessionId, EntityWrite.key(e.field(), e.id()));
        if (owner == null) return new EntityTransition(e.field(), e.id(), e.type(), step.whyNot(Phase.ABSENT));
        if (!owner.writer().equals(rw.writer)) return new NotOwner(e.field(), e.id());
        if (!rw.runId.equals(owner.runId())) {
            return new EntityTransition(
                    e.field(),
                    e.id(),
                    e.type(),
                    "belongs to " + (owner.runId() == null ? "no run" : "run '" + owner.runId() + "'"));
        }
        return new EntityTransition(e.field(), e.id(), e.type(), step.whyNot(Phase.CLOSED));
    }

    /** Why the owner row of a message or tool call refused the append, or null for a race. */
    private AppendResult classifyEntity(String sessionId, EntityWrite ew) {
        EntityRow row = entity(sessionId, ew.sk);
        EventType.Step step = ew.first;
        if (row == null) {
            return ew.requires.contains(Phase.ABSENT)
                    ? null
                    : new EntityTransition(ew.field, ew.id, ew.type, step.whyNot(Phase.ABSENT));
        }
        if (!row.writer().equals(ew.writer)) return new NotOwner(ew.field, ew.id);
        if (!Objects.equals(row.runId(), ew.runId)) {
            return new EntityTransition(
                    ew.field,
                    ew.id,
                    ew.type,
                    row.runId() == null
                            ? "belongs to no run: send its events without a runId"
                            : "belongs to run '" + row.runId() + "': send its events with that runId");
        }
        // outside a run the row holds the phase; in a run only the input phase (else the run row decides)
        Phase current = EntityWrite.phase(row.state());
        if (current == null) current = Phase.OPEN;
        return ew.requires.contains(current)
                ? null
                : new EntityTransition(ew.field, ew.id, ew.type, step.whyNot(current));
    }

    private AppendResult classifyParent(String sessionId, String parentRunId) {
        RunRow parent = run(sessionId, parentRunId);
        if (parent == null) return new RunNotFound(parentRunId);
        if (parent.stopBeingRecorded()) return new RunFenced(parentRunId, RunState.STOP_REQUESTED, parent.lastSeq());
        if (parent.state().fenced()) return new RunFenced(parentRunId, parent.state(), parent.stoppedAtSeq());
        return null;
    }

    /** The owner row of a message or tool call. */
    record EntityRow(String writer, String runId, String role, String state) {}

    private EntityRow entity(String sessionId, String sk) {
        Map<String, AttributeValue> r = getItem(tables.sessions(), sessionId, sk);
        return r == null
                ? null
                : new EntityRow(
                        Attrs.str(r, EntityWrite.WRITER),
                        Attrs.str(r, EntityWrite.RUN_ID),
                        Attrs.str(r, EntityWrite.ROLE),
                        Attrs.str(r, EntityWrite.STATE));
    }

    private void checkSizes(AppendRequest req) {
        if (req.events().isEmpty() || req.events().size() > Limits.MAX_EVENTS_PER_APPEND) {
            throw new ProtocolException(
                    ErrorCode.TOO_MANY_EVENTS, "an append holds 1 to " + Limits.MAX_EVENTS_PER_APPEND + " events");
        }
        for (int i = 0; i < req.events().size(); i++) {
            // measured with the largest possible seq and timestamp, so the stored form can never exceed it
            Event widest = req.events()
                    .get(i)
                    .toEvent(
                            Limits.MAX_SAFE_INTEGER, req.sessionId(), req.agentId(), Long.MAX_VALUE, req.traceparent());
            int size = widest.toJson().getBytes(StandardCharsets.UTF_8).length;
            if (size > Limits.MAX_EVENT_BYTES) {
                throw new ProtocolException(
                        ErrorCode.EVENT_TOO_LARGE,
                        "events[" + i + "] is " + size + " bytes stored; the limit is " + Limits.MAX_EVENT_BYTES
                                + ": split it",
                        Json.object()
                                .put("field", "events[" + i + "]")
                                .put("size", size)
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
            keys.add(Map.of(Attrs.SESSION_ID, s(id), Attrs.SK, s(Keys.SESSION)));
        }
        for (var row :
                BatchReads.get(ddb, tables.sessions(), keys, false, "#sid, head", Map.of("#sid", Attrs.SESSION_ID))) {
            heads.put(Attrs.str(row, Attrs.SESSION_ID), Attrs.num(row, SessionRow.HEAD, 0));
        }
        return heads;
    }

    /**
     * A producer's state: on the SESSION row while it is the hot producer, else its own row (read
     * after the SESSION row, strongly consistent: a spill moves the head, so the append's head
     * condition catches a row that changed after this read).
     */
    private ProducerRow producerState(String sessionId, Map<String, AttributeValue> session, String producerKey) {
        if (producerKey.equals(ProducerRow.hotKey(session))) return ProducerRow.hot(session);
        return ProducerRow.of(getItem(tables.sessions(), sessionId, producerKey));
    }

    /**
     * The head moves from {@code head} to {@code last}, on the row as {@code session} shows it: the same
     * head and, where it has one, the same {@code createdAt} (a session erased and created again since
     * is another row, even at the same head).
     */
    private TransactWriteItem headUpdate(
            String sessionId,
            Map<String, AttributeValue> session,
            long head,
            long last,
            long now,
            Map<String, AttributeValue> hotProducer) {
        Update u = new Update(tables.sessions(), Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.SESSION)));
        String h = u.name(SessionRow.HEAD);
        String created = u.name(SessionRow.CREATED_AT);
        u.set(h, n(last)).set(u.name(SessionRow.UPDATED_AT), n(now));
        u.setClause(created + " = if_not_exists(" + created + ", " + u.value(n(now)) + ")");
        hotProducer.forEach((name, value) -> u.set(u.name(name), value));
        AttributeValue createdAt = session == null ? null : session.get(SessionRow.CREATED_AT);
        u.condition(
                session == null
                        ? "attribute_not_exists(" + h + ")"
                        : h + " = " + u.value(n(head))
                                + (createdAt == null ? "" : " AND " + created + " = " + u.value(createdAt)));
        return u.returnItemOnFailure().transactItem();
    }

    private TransactWriteItem eventPut(Event e, long incarnation) {
        return TransactWriteItem.builder()
                .put(p -> p.tableName(tables.events())
                        .item(Map.of(
                                Attrs.SESSION_ID,
                                s(e.sessionId()),
                                Attrs.SEQ,
                                n(e.seq()),
                                Attrs.EVENT_JSON,
                                s(e.toJson()),
                                Attrs.INCARNATION,
                                n(incarnation)))
                        .conditionExpression("attribute_not_exists(#seq)")
                        .expressionAttributeNames(Map.of("#seq", Attrs.SEQ)))
                .build();
    }

    /**
     * How long an append of a pipelined producer waits for its predecessors (at most
     * {@link Limits#MAX_PRODUCER_IN_FLIGHT} seqs ahead) before it is refused {@code PRODUCER_GAP}.
     */
    static final Duration PREDECESSOR_WAIT = Duration.ofSeconds(2);

    /**
     * A short pause while a predecessor commits: 1, 1, 2, 2, then 4 ms. A predecessor usually commits
     * within a few ms, and every ms after it is a ms the pipeline stands still; each poll is one
     * strongly consistent GetItem (1 RCU), far cheaper than the wait.
     */
    private static void pause(int waits) {
        try {
            Thread.sleep(waits <= 2 ? 1 : waits <= 4 ? 2 : 4);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a predecessor", e);
        }
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
        return Attrs.num(getItem(tables.sessions(), sessionId, Keys.SESSION), SessionRow.HEAD, 0);
    }

    /** Events with seq > {@code afterSeq}, in order, at most {@code limit} of them. */
    public EventPage readAfter(String sessionId, long afterSeq, int limit) {
        QueryResponse r = ddb.query(q -> q.tableName(tables.events())
                .consistentRead(true)
                .limit(limit)
                .keyConditionExpression("#sid = :sid AND #seq > :after")
                .expressionAttributeNames(Map.of("#sid", Attrs.SESSION_ID, "#seq", Attrs.SEQ))
                .expressionAttributeValues(Map.of(":sid", s(sessionId), ":after", n(afterSeq))));
        List<StoredEvent> out = new ArrayList<>(r.count());
        for (Map<String, AttributeValue> item : r.items()) {
            out.add(new StoredEvent(Attrs.num(item, Attrs.SEQ, 0), Attrs.str(item, Attrs.EVENT_JSON)));
        }
        return new EventPage(
                out, r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty());
    }

    /**
     * Every event with seq > {@code afterSeq}, in order, page by page (the one paging loop over the
     * log); returns how many it read.
     */
    public int forEachAfter(String sessionId, long afterSeq, Consumer<StoredEvent> consumer) {
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
        Map<String, AttributeValue> r = getItem(tables.sessions(), sessionId, Keys.run(runId));
        return r == null ? null : RunRow.of(r);
    }

    /**
     * A run row as read. {@code open}: the run's messages and tool calls still open ({@code m#id} /
     * {@code t#id} → {@code open}, or {@code fenced} for an interrupted reply).
     */
    Map<String, AttributeValue> getItem(String table, String sessionId, String sk) {
        var r = ddb.getItem(g ->
                g.tableName(table).consistentRead(true).key(Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk))));
        return r.hasItem() && !r.item().isEmpty() ? r.item() : null;
    }

    // ---------------------------------------------------------------- plan values

    private static Map<String, AttributeValue> runKey(String sessionId, String runId) {
        return Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(Keys.run(runId)));
    }

    /** An event before its seq is known; {@code traceparent} that of the append it is part of (null: none). */
    record Draft(EventType type, String runId, String agentId, ObjectNode data, String traceparent) {
        Draft(EventType type, String runId, String agentId, ObjectNode data) {
            this(type, runId, agentId, data, null);
        }

        Event toEvent(long seq, String sessionId, long ts) {
            return new Event(seq, sessionId, type, agentId, runId, ts, data, traceparent);
        }
    }
}
