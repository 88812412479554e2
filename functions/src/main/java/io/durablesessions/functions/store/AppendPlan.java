package io.durablesessions.functions.store;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.EntityTransition;
import io.durablesessions.events.AppendResult.InvalidTransition;
import io.durablesessions.events.AppendResult.RunExists;
import io.durablesessions.events.EventType;
import io.durablesessions.events.EventType.Phase;
import io.durablesessions.events.Limits;
import io.durablesessions.events.RunState;
import io.durablesessions.events.RunStateMachine;
import io.durablesessions.functions.store.SessionStore.Draft;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything one append writes besides the head and its events, worked out before the first
 * write: the row of each run it touches ({@link RunWrite}), the owner row of each message or tool
 * call it starts or continues outside a run ({@link EntityWrite}), and a check that each parent
 * run it names is running. What can be decided from the append alone (a run started twice, a
 * message ended and continued in one append) is refused here; everything else is a condition of
 * the one transaction, decided by DynamoDB.
 */
final class AppendPlan {

    final List<Draft> drafts;
    final Map<String, RunWrite> runs = new LinkedHashMap<>();
    /** By sort key. */
    final Map<String, EntityWrite> entities = new LinkedHashMap<>();
    /** Parent run ids that must be running (started before this append). */
    final Set<String> parents = new LinkedHashSet<>();

    /** The service's event belongs to an existing session only (e.g. presence: a subscriber creates none). */
    boolean sessionMustExist;

    /** A refusal decided before the write, given only when the producer check finds no duplicate. */
    AppendResult refuseAfterProducerCheck;

    void onlyIfSessionExists() {
        sessionMustExist = true;
    }

    private AppendPlan(List<Draft> drafts) {
        this.drafts = List.copyOf(drafts);
    }

    /** A plan, or the refusal this append earns on its own (then nothing is read or written). */
    record Planned(AppendPlan plan, AppendResult refusal) {}

    /** One in-append view of an entity: the run it was used with, the phase this append has left it in. */
    private static final class Seen {
        final String runId;
        Phase phase;

        Seen(String runId, Phase phase) {
            this.runId = runId;
            this.phase = phase;
        }
    }

    /**
     * Plans a writer's append ({@code writer}: the connection's principal). Service events among
     * the drafts (the {@code run.stopped} that follows an acknowledgement) are written for the
     * service, in the same transaction.
     */
    static Planned of(List<Draft> drafts, String writer) {
        AppendPlan p = new AppendPlan(drafts);
        Map<String, Seen> seen = new HashMap<>();
        Map<String, EntityWrite> rows = new LinkedHashMap<>();
        for (int i = 0; i < drafts.size(); i++) {
            Draft d = drafts.get(i);
            if (d.runId() != null) {
                AppendResult refusal = p.addToRun(d, i, d.type().serviceOnly() ? null : writer);
                if (refusal != null) return new Planned(null, refusal);
            }
            for (EventType.Touch touch : d.type().touches()) {
                String field = touch.field();
                String id = d.data().path(field).asText(null);
                if (id == null && touch.optional()) continue;
                String sk = EntityWrite.key(field, id);
                EventType.Step step = touch.step();
                Seen s = seen.get(sk);
                if (s != null) {
                    if (!Objects.equals(s.runId, d.runId())) {
                        return refused(
                                field,
                                id,
                                d.type(),
                                "belongs to " + (s.runId == null ? "no run" : "run '" + s.runId + "'"));
                    }
                    if (!step.from().contains(s.phase)) {
                        return refused(field, id, d.type(), step.whyNot(s.phase) + " (earlier in this append)");
                    }
                    s.phase = step.to();
                    rows.get(sk).after = step.to();
                } else {
                    seen.put(sk, new Seen(d.runId(), step.to()));
                    EntityWrite ew = new EntityWrite(field, id, writer, d.runId(), step, d.type());
                    if (d.type() == EventType.MESSAGE_START)
                        ew.role = d.data().path("role").asText(null);
                    rows.put(sk, ew);
                }
                if (d.runId() != null)
                    p.runs.get(d.runId()).use(EntityWrite.openKey(field, id), step, field, id, d.type());
            }
        }
        for (var e : rows.entrySet()) {
            if (e.getValue().needed()) p.entities.put(e.getKey(), e.getValue());
        }
        int items = 1 + drafts.size() + 1 + p.runs.size() + p.entities.size() + p.parents.size();
        if (items > Limits.MAX_ROWS_PER_APPEND) {
            return new Planned(null, new AppendResult.TooManyRows(items, Limits.MAX_ROWS_PER_APPEND));
        }
        return new Planned(p, null);
    }

    /** The service's own event, with its change to one run (or none). */
    static AppendPlan service(Draft d, RunWrite run) {
        AppendPlan p = new AppendPlan(List.of(d));
        if (run != null) p.runs.put(run.runId, run);
        return p;
    }

    private AppendResult addToRun(Draft d, int index, String writer) {
        RunWrite rw = runs.get(d.runId());
        if (rw == null) {
            rw = RunWrite.first(d.runId(), d.type(), index);
            runs.put(d.runId(), rw);
        } else {
            var next = RunStateMachine.next(rw.newState, d.type());
            if (next.isEmpty()) return refusalWithinAppend(d, rw.newState);
            rw.then(d.type(), index, next.get());
        }
        if (writer != null) rw.writer = writer;
        if (d.type() == EventType.RUN_STARTED) {
            String parent = d.data().path("parentRunId").asText(null);
            rw.parentRunId = parent;
            RunWrite startedHere = parent == null ? null : runs.get(parent);
            // a parent started earlier in this same append is running by construction
            if (parent != null && (startedHere == null || !startedHere.create)) parents.add(parent);
        }
        if (d.type() == EventType.MESSAGE_START || d.type() == EventType.MESSAGE_END) {
            rw.track(d.type(), d.data().path("messageId").asText(null));
        }
        return null;
    }

    /** An event its own append already made impossible (e.g. a delta after run.completed in the same append). */
    private static AppendResult refusalWithinAppend(Draft d, RunState state) {
        if (d.type() == EventType.RUN_STARTED) return new RunExists(d.runId());
        return new InvalidTransition(d.runId(), state, d.type());
    }

    private static Planned refused(String field, String id, EventType type, String why) {
        return new Planned(null, new EntityTransition(field, id, type, why));
    }
}
