package io.durablesessions.functions.control;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Frames;
import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Connection;

/**
 * Control of a run. {@code cancel} fences the run in DynamoDB and records who stopped it at which
 * seq; {@code interrupt} and {@code steer} are recorded in the log for the running agent.
 */
public final class Controller {
    private final Services services;

    public Controller(Services services) {
        this.services = services;
    }

    public String control(Control c, Connection caller) {
        AppendResult result = switch (c.command()) {
            case CANCEL -> services.sessions().requestStop(c.sessionId(), c.runId(), c.command().wire(),
                    caller.principal(), c.text());
            case INTERRUPT -> services.sessions().appendServiceEvent(c.sessionId(), caller.principal(),
                    EventType.RUN_INTERRUPTED, c.runId(), Json.object().put("by", caller.principal()));
            case STEER -> services.sessions().appendServiceEvent(c.sessionId(), caller.principal(),
                    EventType.RUN_STEERED, c.runId(), Json.object().put("by", caller.principal()).put("text", c.text()));
        };
        return Frames.appendOutcome(c.requestId(), c.sessionId(), result);
    }
}
