package io.durablesessions.springai;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.RunControls;
import java.util.Objects;

/**
 * A connected {@link DurableAgent} with the {@link RunControls} it reports to, so the replies it
 * streams stop when a client stops them. {@link io.durablesessions.springai.autoconfigure.DurableAgentFactory#connect}
 * makes them; closing it closes the agent (after everything written so far is acknowledged).
 */
public final class SessionAgent implements AutoCloseable {
    private final DurableAgent agent;
    private final RunControls controls;

    public SessionAgent(DurableAgent agent, RunControls controls) {
        this.agent = Objects.requireNonNull(agent);
        this.controls = Objects.requireNonNull(controls);
    }

    public DurableAgent agent() {
        return agent;
    }

    public RunControls controls() {
        return controls;
    }

    /** Opens a run ({@code run.started}) and waits for its ack. */
    public DurableAgent.Run startRun(String runId) {
        return agent.startRun(runId);
    }

    /** A {@link DurableChatStream} for reply {@code messageId} of {@code run}, wired to this agent's controls. */
    public DurableChatStream.Builder reply(DurableAgent.Run run, String messageId) {
        return DurableChatStream.builder(run, messageId).controls(controls);
    }

    @Override
    public void close() {
        agent.close();
    }
}
