package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** An agent connection that appends with an idempotent producer and waits for each answer. */
final class TestAgent implements AutoCloseable {
    final WsClient ws;
    final String session;
    final String id;
    private final AtomicInteger pseq = new AtomicInteger();

    TestAgent(URI url, String session, String id) {
        this.session = session;
        this.id = id;
        this.ws = WsClient.connect(url, "id=" + id + "&role=agent");
    }

    /** Sends an append and returns its answer (ack or error). */
    ObjectNode tryAppend(String runId, String... eventJsons) {
        ObjectNode f = Json.object().put("action", "append").put("sessionId", session);
        if (runId != null) f.put("runId", runId);
        f.putObject("producer").put("id", id + "-p").put("epoch", 0).put("seq", pseq.getAndIncrement());
        ArrayNode events = f.putArray("events");
        for (String e : eventJsons) events.add(Json.parseObject(e));
        ObjectNode answer = ws.request(f);
        if (!"ack".equals(answer.path("type").asText())) pseq.decrementAndGet(); // nothing was written
        return answer;
    }

    ObjectNode append(String runId, String... eventJsons) {
        ObjectNode ack = tryAppend(runId, eventJsons);
        assertThat(ack.path("type").asText()).as("append answer %s", ack).isEqualTo("ack");
        return ack;
    }

    void startRun(String runId, String parentRunId) {
        append(
                runId,
                parentRunId == null
                        ? "{\"type\":\"run.started\",\"data\":{}}"
                        : "{\"type\":\"run.started\",\"data\":{\"parentRunId\":\"" + parentRunId + "\"}}");
    }

    void startReply(String runId, String messageId) {
        append(runId, "{\"type\":\"run.started\",\"data\":{}}", messageStart(messageId));
    }

    static String messageStart(String messageId) {
        return "{\"type\":\"message.start\",\"data\":{\"messageId\":\"" + messageId + "\",\"role\":\"assistant\"}}";
    }

    static String delta(String messageId, String text) {
        return "{\"type\":\"text.delta\",\"data\":{\"messageId\":\"" + messageId + "\",\"text\":\"" + text + "\"}}";
    }

    void delta(String runId, String messageId, String text) {
        append(runId, delta(messageId, text));
    }

    void endReply(String runId, String messageId) {
        append(
                runId,
                "{\"type\":\"message.end\",\"data\":{\"messageId\":\"" + messageId + "\"}}",
                "{\"type\":\"run.completed\",\"data\":{}}");
    }

    /** Listens on this connection for the control events of the session (stop, interrupt, steer). */
    void listenForControl() {
        ObjectNode ok = ws.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("afterSeq", 0)
                .put("controlOnly", true));
        assertThat(ok.path("type").asText()).isEqualTo("subscribed");
    }

    /** Control events received so far, in arrival order. */
    List<ObjectNode> controlEvents() {
        return ws.framesOfType("events").stream()
                .flatMap(f -> {
                    List<ObjectNode> out = new java.util.ArrayList<>();
                    f.get("events").forEach(e -> out.add((ObjectNode) e));
                    return out.stream();
                })
                .filter(e -> e.path("type").asText().startsWith("run."))
                .toList();
    }

    @Override
    public void close() {
        ws.close();
    }
}
