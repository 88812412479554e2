package io.durablesessions.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** One event waiting to be appended, and the future its caller holds (true: stored; false: dropped, fenced). */
final class Pending {
    final EventType type;
    final String runId;
    final String messageId;
    final ObjectNode data;
    /** The SDK's own stop acknowledgement: sent although its run is fenced. */
    final boolean bypassFence;
    /** Events of one {@code appendAll} share a group and go in one append; null for a single event. */
    final Object group;

    final CompletableFuture<Boolean> done = new CompletableFuture<>();

    Pending(EventType type, String runId, String messageId, ObjectNode data, boolean bypassFence, Object group) {
        this.type = type;
        this.runId = runId;
        this.messageId = messageId;
        this.data = data;
        this.bypassFence = bypassFence;
        this.group = group;
    }

    Pending(EventType type, String runId, String messageId, ObjectNode data) {
        this(type, runId, messageId, data, false, null);
    }

    boolean isDelta() {
        return type == EventType.TEXT_DELTA || type == EventType.REASONING_DELTA;
    }

    /** The event as an append carries it. */
    ObjectNode toInput() {
        ObjectNode n = Json.object().put("type", type.wire());
        n.set("data", data);
        return n;
    }

    /** Encoded bytes of {@link #toInput()}. */
    int size() {
        return Json.write(toInput()).getBytes(StandardCharsets.UTF_8).length;
    }

    /** This one's outcome becomes {@code other}'s too (text merged into another event rides on it). */
    void follow(Pending other) {
        other.done.whenComplete((ok, err) -> {
            if (err != null) done.completeExceptionally(err);
            else done.complete(ok);
        });
    }
}
