package io.durablesessions.client;

import io.durablesessions.events.Event;

/**
 * Something the agent must obey, for one of its runs. Delivered once per run and kind of fence
 * (deduplicated by seq), from the agent's control-only subscription (WebSocket), the control in the
 * answers to its appends and heartbeats (HTTP API), or a fenced append.
 *
 * @param kind      what happened
 * @param runId     the run it concerns
 * @param messageId the interrupted reply ({@link Kind#INTERRUPT}), else null
 * @param text      the steer instruction ({@link Kind#STEER}) or the cancel/fail reason, else null
 * @param seq       the seq of the event in the log, or 0 when it came from a refused append
 * @param event     the event itself, or null when it came from a refused append
 */
public record ControlEvent(Kind kind, String runId, String messageId, String text, long seq, Event event) {

    public enum Kind {
        /** A client cancelled the run: stop working on it. The SDK acknowledges the stop. */
        CANCEL,
        /** The reply in progress was interrupted; the run goes on and may start a new reply. */
        INTERRUPT,
        /** New instructions for the running run. */
        STEER,
        /** The run was fenced some other way (failed by the service, e.g. heartbeat lost). */
        FENCED
    }
}
