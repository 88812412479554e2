package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletableFuture;

/**
 * How a {@link DurableAgent} reaches the service: a WebSocket ({@link WsAgentTransport}) or the
 * HTTP API ({@link HttpAgentTransport}). A transport only moves requests and answers; coalescing,
 * producer seqs, retries, fencing and control callbacks are {@link DurableAgent}'s, written once.
 */
interface AgentTransport {

    /** What became of a request. */
    sealed interface Outcome permits Acked, Refused, Lost {}

    /** Written, or a duplicate of an earlier write of the same producer seq (then the seqs may be 0). */
    record Acked(long firstSeq, long lastSeq, boolean duplicate) implements Outcome {}

    /**
     * Refused with a stable code of docs/protocol.md §5; nothing was written.
     *
     * @param retryAfterMs how long the service asked us to wait (0: it did not say)
     */
    record Refused(String code, String message, ObjectNode details, long retryAfterMs) implements Outcome {
        DurableSessionException exception() {
            return DurableSessionException.of(code, message, details);
        }
    }

    /** No answer (network error, timeout): whether it was written is unknown, so it is sent again as it was. */
    record Lost(String why) implements Outcome {}

    /** Receives the control events ({@code run.stop_requested}, …) a transport comes across, at least once each. */
    interface ControlSink {
        void control(JsonNode event);
    }

    /** Gets ready to send; the WebSocket connects here (retrying until it works). */
    void start();

    /**
     * Sends one append ({@code runId}, {@code producer}, {@code events}: the HTTP body, and the
     * WebSocket message without {@code action} and {@code sessionId}) and waits for its outcome.
     * Control events that come with the answer reach the sink before this returns.
     */
    Outcome append(ObjectNode append);

    /** A sign of life for a run; control that comes with the answer reaches the sink. */
    CompletableFuture<Outcome> heartbeat(String runId);

    /** The agent has handled the run's control up to {@code controlSeq} (its callbacks ran). */
    void acknowledge(String runId, long controlSeq);

    /** Called on every heartbeat tick, for upkeep (the WebSocket is replaced before API Gateway's cap). */
    void maintain();

    /** As a network cut would (tests): the WebSocket is aborted; HTTP has nothing to cut. */
    void drop();

    void close();
}
