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
import java.util.Deque;
import java.util.List;

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
        AppendResult result = switch (c.command()) {
            case CANCEL -> {
                AppendResult r = sessions.requestStop(c.sessionId(), c.runId(), "cancel", caller.principal(), c.text());
                if (r instanceof AppendResult.Appended) cancelSubRuns(c, caller);
                yield r;
            }
            case INTERRUPT -> sessions.interrupt(c.sessionId(), c.runId(), c.messageId(), caller.principal());
            case STEER ->
                sessions.appendServiceEvent(
                        c.sessionId(),
                        caller.principal(),
                        EventType.RUN_STEERED,
                        c.runId(),
                        Json.object().put("by", caller.principal()).put("text", c.text()));
        };
        direct.deliver(c.sessionId(), result); // the agents learn of it now, not at the next stream poll
        return result;
    }

    /** Cancelling a parent cancels every running descendant; siblings of a cancelled sub-run go on. */
    private void cancelSubRuns(Control c, Connection caller) {
        List<RunRow> runs = services.sessions().runs(c.sessionId());
        Deque<String> parents = new ArrayDeque<>(List.of(c.runId()));
        while (!parents.isEmpty()) {
            String parent = parents.pop();
            for (RunRow r : runs) {
                if (!parent.equals(r.parentRunId())) continue;
                parents.push(r.runId());
                if (r.state() == RunState.RUNNING) {
                    direct.deliver(
                            c.sessionId(),
                            services.sessions()
                                    .requestStop(
                                            c.sessionId(),
                                            r.runId(),
                                            "cancel",
                                            caller.principal(),
                                            "parent run " + c.runId() + " was cancelled"));
                }
            }
        }
    }

    /** {@code Noted} when the run's own agent is alive; otherwise why not. */
    public AppendResult heartbeat(Heartbeat h, Connection caller) {
        return services.sessions()
                .heartbeat(h.sessionId(), h.runId(), caller.identity().subject());
    }
}
