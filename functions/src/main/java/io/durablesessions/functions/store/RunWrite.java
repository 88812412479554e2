package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.EventType;
import io.durablesessions.events.EventType.Phase;
import io.durablesessions.events.RunState;
import io.durablesessions.events.RunStateMachine;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * What one append does to one run row, and the conditions that make it safe, gathered while the
 * append is planned and written as one item of its transaction:
 * <ul>
 *   <li>the fence: the states the run must be in ({@link RunStateMachine#allowedFrom});</li>
 *   <li>the owner: a writer's events need {@code agentId = writer} (the service's own events, a stop
 *       or a steer, are written for whoever asked);</li>
 *   <li>the run's open messages and tool calls ({@code open}, a map of {@code m#id}/{@code t#id} →
 *       {@code input} | {@code open} | {@code fenced}; an ended one is removed): each event needs
 *       the phases its step allows ({@link EventType.Step}), e.g. a delta needs its message open in
 *       this run and a start needs it absent; an interrupt marks the reply fenced;</li>
 *   <li>guards of the service's writes: the last seq a stop read with its claim, the heartbeat the
 *       sweeper read;</li>
 *   <li>what it leaves behind: state, last seq, heartbeat (only the agent's own writes count), the
 *       next deadline, the reply in progress, the seqs of control events.</li>
 * </ul>
 * Mutable while one append is planned; never shared.
 */
final class RunWrite {
    static final String FENCED = "fenced";

    final String runId;
    final Set<RunState> requiredStates;
    final boolean create;
    final EventType firstType;
    RunState newState;
    String writer;
    String parentRunId;
    int firstIndex;
    int lastIndex;
    final List<Integer> controlIndexes = new ArrayList<>();
    /**
     * An entry of {@code open} this append touches: what its first event here does (null: an
     * interrupt's fence), the phase it leaves, and which entity it is (to explain a refusal).
     */
    record EntityRef(EventType.Step first, Phase after, String field, String id, EventType type) {
        boolean fences() {
            return first == null;
        }

        Set<Phase> requires() {
            return first.from();
        }
    }

    /** Entries of {@code open} this append touches, in order of first use. */
    final Map<String, EntityRef> entities = new LinkedHashMap<>();

    String currentMessage;
    boolean currentMessageChanged;
    Long requiredLastSeq;
    Long stoppedAtSeq;
    Long heartbeatNotAfter;
    String stopClaim;

    private RunWrite(
            String runId, Set<RunState> requiredStates, boolean create, RunState newState, EventType firstType) {
        this.runId = runId;
        this.requiredStates = requiredStates;
        this.create = create;
        this.newState = newState;
        this.firstType = firstType;
    }

    /** The run row write of an append whose first event of this run is {@code type} at {@code index}. */
    static RunWrite first(String runId, EventType type, int index) {
        Set<RunState> from = RunStateMachine.allowedFrom(type);
        // every event allowed from several states (run.failed) leads to one state from all of them
        RunState next = from.isEmpty()
                ? RunState.RUNNING
                : RunStateMachine.next(from.iterator().next(), type).orElseThrow();
        RunWrite w = new RunWrite(
                runId,
                from.isEmpty() ? EnumSet.noneOf(RunState.class) : EnumSet.copyOf(from),
                from.isEmpty(),
                next,
                type);
        w.firstIndex = index;
        w.lastIndex = index;
        if (type.isControl()) w.controlIndexes.add(index);
        return w;
    }

    /** One more event of this run, at {@code index}, leading to {@code next}. */
    void then(EventType type, int index, RunState next) {
        newState = next;
        lastIndex = index;
        if (type.isControl()) controlIndexes.add(index);
    }

    /** Tracks the reply in progress, for an interrupt that names no message. */
    void track(EventType type, String messageId) {
        if (messageId == null) return;
        if (type == EventType.MESSAGE_START) {
            currentMessage = messageId;
            currentMessageChanged = true;
        } else if (type == EventType.MESSAGE_END && (messageId.equals(currentMessage) || !currentMessageChanged)) {
            currentMessage = null;
            currentMessageChanged = true;
        }
    }

    /**
     * Records what an event does to an entry of {@code open}. The planner has refused every order
     * that makes no sense within the append (a second start, an event after the end); the first
     * event decides what the stored entry must be, the last what it becomes.
     */
    void use(String entityKey, EventType.Step step, String field, String id, EventType type) {
        EntityRef prev = entities.get(entityKey);
        entities.put(
                entityKey,
                prev == null
                        ? new EntityRef(step, step.to(), field, id, type)
                        : new EntityRef(prev.first(), step.to(), field, id, prev.type()));
    }

    /** A stop: only by the holder of the run's stop claim, and only at the last seq it read. */
    RunWrite guardedStop(long lastSeq, String claim) {
        requiredLastSeq = lastSeq;
        stoppedAtSeq = lastSeq;
        stopClaim = claim;
        return this;
    }

    /** The sweeper's write: only if the agent has shown no sign of life since the heartbeat it read. */
    RunWrite noHeartbeatSince(long heartbeatAt) {
        heartbeatNotAfter = heartbeatAt;
        return this;
    }

    /** An interrupt: the reply {@code messageKey} takes no more events. */
    RunWrite fencing(String messageId) {
        entities.put(
                EntityWrite.openKey("messageId", messageId),
                new EntityRef(null, null, "messageId", messageId, EventType.RUN_INTERRUPTED));
        currentMessage = null;
        currentMessageChanged = true;
        return this;
    }

    TransactWriteItem toWrite(String table, String sessionId, long firstSeq, long now, StoreSettings settings) {
        long lastSeq = firstSeq + lastIndex;
        // completed/failed: the run's last accepted seq is its final event; a stop names it explicitly
        Long stoppedAt = stoppedAtSeq != null ? stoppedAtSeq : (newState.fenced() ? lastSeq : null);
        // the deadline is written when a run starts and when a stop is requested; ordinary appends
        // only move heartbeatAt: rewriting dueAt would rewrite its index entry, billed on every append.
        // The sweeper pushes the deadline of a run that is still alive (see SessionStore.expireRun).
        Long dueAt = switch (newState) {
            case RUNNING -> create ? now + settings.livenessTimeout().toMillis() : null;
            case STOP_REQUESTED ->
                requiredStates.contains(RunState.RUNNING)
                        ? now + settings.ackTimeout().toMillis()
                        : null;
            default -> null;
        };
        String sk = Keys.run(runId);
        Map<String, AttributeValue> key = Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk));
        if (create) return createWrite(table, sessionId, sk, key, firstSeq, lastSeq, now, stoppedAt, dueAt);

        Update u = new Update(table, key);
        String state = u.name(RunRow.STATE);
        u.set(state, s(newState.wire())).set(u.name(RunRow.LAST_SEQ), n(lastSeq));
        // a sign of life only when the run's own agent wrote: a client's steer or stop is not one
        if (writer != null) u.set(u.name(RunRow.HEARTBEAT_AT), n(now));
        if (stoppedAt != null) {
            // the first fence names the run's last seq; acknowledging or failing later keeps it
            String p = u.name(RunRow.STOPPED_AT_SEQ);
            u.setClause(p + " = if_not_exists(" + p + ", " + u.value(n(stoppedAt)) + ")");
        }
        if (dueAt != null) {
            u.set(u.name(Attrs.DUE_SHARD), s(Keys.dueShard(sessionId, sk))).set(u.name(Attrs.DUE_AT), n(dueAt));
        } else if (newState == RunState.STOPPED || newState == RunState.COMPLETED || newState == RunState.FAILED) {
            u.remove(u.name(Attrs.DUE_SHARD)).remove(u.name(Attrs.DUE_AT));
        }
        if (currentMessageChanged) {
            if (currentMessage != null) u.set(u.name(RunRow.CURRENT_MESSAGE_ID), s(currentMessage));
            else u.remove(u.name(RunRow.CURRENT_MESSAGE_ID));
        }
        List<String> allowed = new ArrayList<>();
        for (RunState st : requiredStates) allowed.add(u.value(s(st.wire())));
        u.condition(state + " IN (" + String.join(", ", allowed) + ")");
        if (writer != null) u.condition(u.name(RunRow.AGENT_ID) + " = " + u.value(s(writer)));
        if (requiredLastSeq != null) u.condition(u.name(RunRow.LAST_SEQ) + " = " + u.value(n(requiredLastSeq)));
        if (stopClaim != null) {
            String claim = u.name(RunRow.STOP_PENDING);
            u.condition(claim + " = " + u.value(s(stopClaim)));
            u.remove(claim).remove(u.name(RunRow.STOP_PENDING_AT));
        } else if (requiredStates.contains(RunState.RUNNING) && heartbeatNotAfter == null) {
            // a stop being recorded wins over the run's own writes (see SessionStore.requestStop)
            u.condition("attribute_not_exists(" + u.name(RunRow.STOP_PENDING) + ")");
        }
        if (heartbeatNotAfter != null)
            u.condition(u.name(RunRow.HEARTBEAT_AT) + " <= " + u.value(n(heartbeatNotAfter)));
        for (var e : entities.entrySet()) {
            String path = u.path(RunRow.OPEN, e.getKey());
            EntityRef ref = e.getValue();
            if (ref.fences()) {
                u.set(path, s(FENCED));
                continue;
            }
            // an absent entry: never used in this run, or ended (then its owner row refuses a restart)
            List<String> either = new ArrayList<>();
            for (Phase p : ref.requires()) {
                either.add(
                        p == Phase.ABSENT
                                ? "attribute_not_exists(" + path + ")"
                                : path + " = " + u.value(s(EntityWrite.wire(p))));
            }
            u.condition(either.size() == 1 ? either.get(0) : "(" + String.join(" OR ", either) + ")");
            if (ref.after() == Phase.CLOSED) {
                if (!ref.requires().equals(Set.of(Phase.ABSENT))) u.remove(path);
            } else if (!ref.requires().equals(Set.of(ref.after()))) {
                u.set(path, s(EntityWrite.wire(ref.after())));
            }
        }
        if (!controlIndexes.isEmpty()) {
            // remembered on the run, so an agent that only POSTs learns its pending control with one read
            List<String> seqs = new ArrayList<>();
            for (int i : controlIndexes) seqs.add(Long.toString(firstSeq + i));
            u.add(u.name(Attrs.CONTROL_SEQS), AttributeValue.fromNs(seqs));
        }
        return u.transactItem();
    }

    private TransactWriteItem createWrite(
            String table,
            String sessionId,
            String sk,
            Map<String, AttributeValue> key,
            long firstSeq,
            long lastSeq,
            long now,
            Long stoppedAt,
            Long dueAt) {
        Map<String, AttributeValue> item = new HashMap<>(key);
        item.put(RunRow.RUN_ID, s(runId));
        item.put(RunRow.AGENT_ID, s(writer));
        if (parentRunId != null) item.put(RunRow.PARENT_RUN_ID, s(parentRunId));
        item.put(RunRow.STATE, s(newState.wire()));
        item.put(RunRow.STARTED_SEQ, n(firstSeq + firstIndex));
        item.put(RunRow.LAST_SEQ, n(lastSeq));
        item.put(RunRow.HEARTBEAT_AT, n(now));
        if (stoppedAt != null) item.put(RunRow.STOPPED_AT_SEQ, n(stoppedAt));
        if (dueAt != null) {
            item.put(Attrs.DUE_SHARD, s(Keys.dueShard(sessionId, sk)));
            item.put(Attrs.DUE_AT, n(dueAt));
        }
        if (currentMessage != null) item.put(RunRow.CURRENT_MESSAGE_ID, s(currentMessage));
        Map<String, AttributeValue> open = new HashMap<>();
        for (var e : entities.entrySet()) {
            Phase after = e.getValue().after();
            if (after == Phase.INPUT || after == Phase.OPEN) open.put(e.getKey(), s(EntityWrite.wire(after)));
        }
        item.put(RunRow.OPEN, AttributeValue.fromM(open));
        return Expression.NEW_ROW.put(table, item);
    }
}
