package io.durablesessions.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A scripted {@link AgentTransport}: records what the agent sends and answers from a script (then
 * acks, with seqs counted as a service would). Control events are handed in with {@link #control}.
 */
final class FakeTransport implements AgentTransport {
    private final ControlSink sink;
    private final Deque<Function<ObjectNode, Outcome>> script = new ArrayDeque<>();
    final List<ObjectNode> appends = new ArrayList<>();
    final List<String> heartbeats = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<String> acknowledgements = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Function<String, Outcome> heartbeatAnswer = run -> new Acked(0, 0, false);
    private long head;

    FakeTransport(ControlSink sink) {
        this.sink = sink;
    }

    /** The next answers, in order; after them every append is acked. */
    synchronized FakeTransport then(Function<ObjectNode, Outcome> answer) {
        script.add(answer);
        return this;
    }

    synchronized FakeTransport thenAnswer(Outcome outcome) {
        return then(a -> outcome);
    }

    synchronized void heartbeatAnswer(Function<String, Outcome> answer) {
        heartbeatAnswer = answer;
    }

    /** A control event of the session reaches the agent (as its subscription or an HTTP answer brings it). */
    void control(long seq, String type, String runId, ObjectNode data) {
        ObjectNode e = Json.object()
                .put("seq", seq)
                .put("sessionId", "s")
                .put("type", type)
                .put("agentId", "svc")
                .put("runId", runId)
                .put("ts", 1);
        e.set("data", data);
        sink.control(e);
    }

    static Refused refused(String code, ObjectNode details) {
        return new Refused(code, code.toLowerCase(), details, 0);
    }

    synchronized List<ObjectNode> appends() {
        return List.copyOf(appends);
    }

    /** The wire types of every event of every append, in order. */
    synchronized List<String> types() {
        List<String> types = new ArrayList<>();
        for (ObjectNode a : appends)
            for (JsonNode e : a.path("events")) types.add(e.path("type").asText());
        return types;
    }

    synchronized long producerSeq(int append) {
        return appends.get(append).path("producer").path("seq").asLong();
    }

    @Override
    public void start() {}

    @Override
    public Outcome append(ObjectNode append) {
        Function<ObjectNode, Outcome> answer;
        synchronized (this) {
            appends.add(append.deepCopy());
            answer = script.poll();
        }
        if (answer != null) return answer.apply(append);
        synchronized (this) {
            int n = append.path("events").size();
            long first = head + 1;
            head += n;
            return new Acked(first, head, false);
        }
    }

    @Override
    public CompletableFuture<Outcome> heartbeat(String runId) {
        Function<String, Outcome> answer;
        synchronized (this) {
            heartbeats.add(runId);
            answer = heartbeatAnswer;
        }
        return CompletableFuture.completedFuture(answer.apply(runId));
    }

    @Override
    public void acknowledge(String runId, long controlSeq) {
        acknowledgements.add(runId + "@" + controlSeq);
    }

    @Override
    public void maintain() {}

    @Override
    public void drop() {}

    @Override
    public void close() {}
}
