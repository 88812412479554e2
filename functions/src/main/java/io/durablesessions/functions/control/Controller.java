package io.durablesessions.functions.control;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.ClientMessage.Heartbeat;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.RunState;
import io.durablesessions.functions.fanout.DirectDelivery;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.RunRow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Live control of runs (docs/protocol.md §6). {@code cancel} fences the run in DynamoDB, then
 * its running sub-runs (each fenced at its own last seq); {@code interrupt} fences the reply in
 * progress and keeps the run; {@code steer} records an instruction for the running agent. Agents
 * receive all three through their control-only subscription, in seq order.
 */
public final class Controller {
    private final Services services;
    private final DirectDelivery direct;

    public Controller(Services services) {
        this.services = services;
        this.direct = new DirectDelivery(services);
    }

    /** The store's outcome of the command (its {@code Appended} names the control event's seq). */
    public AppendResult control(Control c, Connection caller) {
        var sessions = services.sessions();
        // the agents learn of it right after its commit, not at the next stream poll, nor after the
        // compaction a run transition triggers (docs/architecture.md, Delivery)
        Consumer<AppendResult.Appended> deliver = appended -> direct.deliver(c.sessionId(), appended);
        return switch (c.command()) {
            case CANCEL -> {
                AppendResult r =
                        sessions.requestStop(c.sessionId(), c.runId(), "cancel", caller.principal(), c.text(), deliver);
                if (r instanceof AppendResult.Appended) cancelSubRuns(c, caller);
                yield r;
            }
            case INTERRUPT -> sessions.interrupt(c.sessionId(), c.runId(), c.messageId(), caller.principal(), deliver);
            case STEER ->
                sessions.appendServiceEvent(
                        c.sessionId(),
                        caller.principal(),
                        EventType.RUN_STEERED,
                        c.runId(),
                        Json.object().put("by", caller.principal()).put("text", c.text()),
                        deliver);
        };
    }

    /** Cancelling a parent cancels every running descendant; siblings of a cancelled sub-run go on. */
    private void cancelSubRuns(Control c, Connection caller) {
        for (RunRow r : descendants(services.sessions().runs(c.sessionId()), c.runId())) {
            if (r.state() != RunState.RUNNING) continue;
            services.sessions()
                    .requestStop(
                            c.sessionId(),
                            r.runId(),
                            "cancel",
                            caller.principal(),
                            "parent run " + c.runId() + " was cancelled",
                            appended -> direct.deliver(c.sessionId(), appended));
        }
    }

    /**
     * Every run below {@code root}, each once. The store refuses a parent that is not a running run of
     * the session, so no cycle can be written; the walk still visits each run at most once, so a cycle
     * in older data ends it instead of looping, and its work is bounded by the session's runs.
     */
    static List<RunRow> descendants(List<RunRow> runs, String root) {
        Set<String> seen = new HashSet<>(Set.of(root));
        List<RunRow> out = new ArrayList<>();
        Deque<String> parents = new ArrayDeque<>(List.of(root));
        while (!parents.isEmpty()) {
            String parent = parents.pop();
            for (RunRow r : runs) {
                if (!parent.equals(r.parentRunId()) || !seen.add(r.runId())) continue;
                out.add(r);
                parents.push(r.runId());
            }
        }
        return out;
    }

    /** {@code Noted} when the run's own agent is alive; otherwise why not. */
    public AppendResult heartbeat(Heartbeat h, Connection caller) {
        return services.sessions()
                .heartbeat(h.sessionId(), h.runId(), caller.identity().subject());
    }
}
