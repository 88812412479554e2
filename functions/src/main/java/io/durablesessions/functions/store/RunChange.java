package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.events.EventType;
import io.durablesessions.events.RunState;
import io.durablesessions.events.RunStateMachine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

/**
 * What one append does to one run row, and the conditions that make it safe: the states the run
 * must be in (the fence), optional guards (the last seq a stop read, a deadline the sweeper
 * read, messages that were interrupted), and what it leaves behind (state, last seq, the next
 * deadline, the reply in progress).
 */
record RunChange(String runId, Set<RunState> requiredStates, boolean create, RunState newState,
                 SessionStore.Draft firstDraft, int firstIndex, int lastIndex, Long requiredLastSeq,
                 Long stoppedAtSeq, Long heartbeatNotAfter, String currentMessage, boolean currentMessageChanged,
                 String fenceMessage, Set<String> messagesUsed, String stopClaim) {

    static RunChange first(SessionStore.Draft d, int index) {
        Set<RunState> from = RunStateMachine.allowedFrom(d.type());
        // every event allowed from several states (run.failed) leads to one state from all of them
        RunState next = from.isEmpty() ? RunState.RUNNING
                : RunStateMachine.next(from.iterator().next(), d.type()).orElseThrow();
        return new RunChange(d.runId(), from, from.isEmpty(), next, d, index, index, null, null, null, null, false,
                null, Set.of(), null).track(d);
    }

    RunChange then(SessionStore.Draft d, int index, RunState next) {
        return new RunChange(runId, requiredStates, create, next, firstDraft, firstIndex, index, requiredLastSeq,
                stoppedAtSeq, heartbeatNotAfter, currentMessage, currentMessageChanged, fenceMessage, messagesUsed, stopClaim).track(d);
    }

    /**
     * A stop: only by the caller holding the run's stop claim, and only if the run is still
     * running at the last seq it read (with the claim in place no append of the run can commit).
     */
    RunChange guardedStop(long lastSeq, String claim) {
        return new RunChange(runId, requiredStates, false, newState, firstDraft, firstIndex, lastIndex, lastSeq,
                lastSeq, heartbeatNotAfter, currentMessage, currentMessageChanged, fenceMessage, messagesUsed, claim);
    }

    /** The sweeper's write: only if the agent has shown no sign of life since the heartbeat it read. */
    RunChange noHeartbeatSince(long heartbeatAt) {
        return new RunChange(runId, requiredStates, false, newState, firstDraft, firstIndex, lastIndex,
                requiredLastSeq, stoppedAtSeq, heartbeatAt, currentMessage, currentMessageChanged, fenceMessage, messagesUsed,
                stopClaim);
    }

    /** An interrupt: the reply {@code messageId} takes no more events. */
    RunChange fencing(String messageId) {
        return new RunChange(runId, requiredStates, false, newState, firstDraft, firstIndex, lastIndex,
                requiredLastSeq, stoppedAtSeq, heartbeatNotAfter, null, true, messageId, messagesUsed, stopClaim);
    }

    EventType firstType() {
        return firstDraft.type();
    }

    private RunChange track(SessionStore.Draft d) {
        String m = d.data().path("messageId").asText(null);
        if (m == null || !(d.type() == EventType.MESSAGE_START || d.type() == EventType.TEXT_DELTA
                || d.type() == EventType.MESSAGE_END)) {
            return this;
        }
        Set<String> used = new LinkedHashSet<>(messagesUsed);
        used.add(m);
        String current = currentMessage;
        boolean changed = currentMessageChanged;
        if (d.type() == EventType.MESSAGE_START) {
            current = m;
            changed = true;
        } else if (d.type() == EventType.MESSAGE_END && (m.equals(current) || !changed)) {
            current = null;
            changed = true;
        }
        return new RunChange(runId, requiredStates, create, newState, firstDraft, firstIndex, lastIndex,
                requiredLastSeq, stoppedAtSeq, heartbeatNotAfter, current, changed, fenceMessage, Set.copyOf(used),
                stopClaim);
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
            case STOP_REQUESTED -> requiredStates.contains(RunState.RUNNING) ? now + settings.ackTimeout().toMillis() : null;
            default -> null;
        };
        String sk = SessionStore.RUN_PREFIX + runId;
        Map<String, AttributeValue> key = Map.of(Attrs.SESSION_ID, s(sessionId), Attrs.SK, s(sk));
        if (create) {
            Map<String, AttributeValue> item = new HashMap<>(key);
            item.put("runId", s(runId));
            item.put("agentId", s(firstDraft.agentId()));
            String parent = firstDraft.data().path("parentRunId").asText(null);
            if (parent != null) item.put("parentRunId", s(parent));
            item.put("state", s(newState.wire()));
            item.put("startedSeq", n(firstSeq + firstIndex));
            item.put("lastSeq", n(lastSeq));
            item.put("heartbeatAt", n(now));
            if (stoppedAt != null) item.put("stoppedAtSeq", n(stoppedAt));
            if (dueAt != null) {
                item.put(Attrs.DUE_SHARD, s(StoreSettings.dueShard(sessionId, sk)));
                item.put(Attrs.DUE_AT, n(dueAt));
            }
            if (currentMessage != null) item.put("currentMessageId", s(currentMessage));
            return TransactWriteItem.builder().put(p -> p.tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(sk)")).build();
        }
        Map<String, AttributeValue> values = new HashMap<>();
        Map<String, String> names = new HashMap<>(Map.of("#state", "state"));
        List<String> set = new ArrayList<>(List.of("#state = :state", "lastSeq = :last", "heartbeatAt = :now"));
        List<String> remove = new ArrayList<>();
        values.put(":state", s(newState.wire()));
        values.put(":last", n(lastSeq));
        values.put(":now", n(now));
        if (stoppedAt != null) {
            // the first fence names the run's last seq; acknowledging or failing later keeps it
            set.add("stoppedAtSeq = if_not_exists(stoppedAtSeq, :stoppedAt)");
            values.put(":stoppedAt", n(stoppedAt));
        }
        if (dueAt != null) {
            set.add("#dueShard = :dueShard");
            set.add("#dueAt = :dueAt");
            values.put(":dueShard", s(StoreSettings.dueShard(sessionId, sk)));
            values.put(":dueAt", n(dueAt));
        } else if (newState == RunState.STOPPED || newState == RunState.COMPLETED || newState == RunState.FAILED) {
            remove.add("#dueShard");
            remove.add("#dueAt");
        }
        if (dueAt != null || !remove.isEmpty()) {
            names.put("#dueShard", Attrs.DUE_SHARD);
            names.put("#dueAt", Attrs.DUE_AT);
        }
        if (currentMessageChanged) {
            if (currentMessage != null) {
                set.add("currentMessageId = :current");
                values.put(":current", s(currentMessage));
            } else {
                remove.add("currentMessageId");
            }
        }
        List<String> allowed = new ArrayList<>();
        int i = 0;
        for (RunState st : requiredStates) {
            values.put(":from" + i, s(st.wire()));
            allowed.add(":from" + i++);
        }
        List<String> conditions = new ArrayList<>(List.of("#state IN (" + String.join(", ", allowed) + ")"));
        if (requiredLastSeq != null) {
            conditions.add("lastSeq = :expectedLast");
            values.put(":expectedLast", n(requiredLastSeq));
        }
        if (stopClaim != null) {
            conditions.add("stopPending = :claim");
            values.put(":claim", s(stopClaim));
            remove.add("stopPending");
            remove.add("stopPendingAt");
        } else if (requiredStates.contains(RunState.RUNNING) && heartbeatNotAfter == null) {
            // a stop being recorded wins over the run's own writes (see SessionStore.requestStop)
            conditions.add("attribute_not_exists(stopPending)");
        }
        if (heartbeatNotAfter != null) {
            conditions.add("heartbeatAt <= :heartbeat");
            values.put(":heartbeat", n(heartbeatNotAfter));
        }
        int m = 0;
        for (String used : messagesUsed) {
            conditions.add("NOT contains(fencedMessages, :m" + m + ")");
            values.put(":m" + m++, s(used));
        }
        StringBuilder update = new StringBuilder("SET ").append(String.join(", ", set));
        if (!remove.isEmpty()) update.append(" REMOVE ").append(String.join(", ", remove));
        List<String> add = new ArrayList<>();
        if (fenceMessage != null) {
            add.add("fencedMessages :fence");
            values.put(":fence", AttributeValue.fromSs(List.of(fenceMessage)));
        }
        if (firstDraft.type().isControl()) {
            // remembered on the run, so an agent that only POSTs learns its pending control with one read
            add.add(Attrs.CONTROL_SEQS + " :controlSeq");
            values.put(":controlSeq", AttributeValue.fromNs(List.of(Long.toString(firstSeq + firstIndex))));
        }
        if (!add.isEmpty()) update.append(" ADD ").append(String.join(", ", add));
        String condition = String.join(" AND ", conditions);
        return TransactWriteItem.builder().update(u -> u.tableName(table).key(key)
                .updateExpression(update.toString()).conditionExpression(condition)
                .expressionAttributeNames(names).expressionAttributeValues(values)).build();
    }
}
