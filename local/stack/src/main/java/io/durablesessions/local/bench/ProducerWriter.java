package io.durablesessions.local.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.time.Duration;
import java.util.List;

/**
 * An agent connection appending with an idempotent producer, one append in flight at a time (as an
 * SDK does): a CONTENTION, INTERNAL or timeout is retried with the SAME producer seq.
 */
public final class ProducerWriter implements AutoCloseable {
    public final BenchClient ws;
    public final String sessionId;
    private final String producerId;
    private long pseq;
    public long retries;

    public ProducerWriter(BenchClient ws, String sessionId, String producerId) {
        this.ws = ws;
        this.sessionId = sessionId;
        this.producerId = producerId;
    }

    /** Appends the events (JSON event inputs) and returns the {@code ack}; throws on a refusal. */
    public ObjectNode append(String runId, List<ObjectNode> events) {
        long seq = pseq;
        for (int attempt = 0; attempt < 50; attempt++) {
            ObjectNode f = Json.object().put("action", "append").put("sessionId", sessionId);
            if (runId != null) f.put("runId", runId);
            f.putObject("producer").put("id", producerId).put("epoch", 0).put("seq", seq);
            ArrayNode arr = f.putArray("events");
            events.forEach(arr::add);
            ObjectNode answer;
            try {
                answer = ws.call(f, Duration.ofSeconds(10)).json();
            } catch (RuntimeException timeout) {
                retries++;
                continue;
            }
            if ("ack".equals(answer.path("type").asText())) {
                pseq = seq + 1;
                return answer;
            }
            String code = answer.path("code").asText();
            if (code.equals("CONTENTION") || code.equals("INTERNAL") || code.equals("RATE_LIMITED")) {
                retries++;
                sleep(5L * (attempt + 1));
                continue;
            }
            throw new IllegalStateException("append refused: " + answer);
        }
        throw new IllegalStateException("append kept failing after 50 attempts");
    }

    public static ObjectNode event(String type, ObjectNode data) {
        ObjectNode e = Json.object().put("type", type);
        e.set("data", data);
        return e;
    }

    public static ObjectNode delta(String messageId, String text) {
        return event("text.delta", Json.object().put("messageId", messageId).put("text", text));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        ws.close();
    }
}
