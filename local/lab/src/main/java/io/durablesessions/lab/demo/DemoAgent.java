package io.durablesessions.lab.demo;

import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.net.URI;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The demo's simulated agent for one session: the Java SDK's {@link DurableAgent} (producer, retries,
 * coalescing, heartbeats, the stop's acknowledgement) with a scripted model. It answers each user
 * turn with an echo and a fixed text at {@code tokensPerSecond}, and obeys: a cancel stops it at
 * once, an interrupt ends the reply (the run completes), a steer is woven into the rest of the reply.
 */
final class DemoAgent implements AutoCloseable {
    private static final String[] WORDS = ("a durable session keeps every token of this reply in an ordered log so "
                    + "you can reload the page open a second tab cut the network or press stop and every tab still shows "
                    + "the same text at the same seq")
            .split(" ");

    private final String sessionId;
    private final int tokensPerSecond;
    private final int replyTokens;
    private final DurableAgent agent;
    private final LinkedBlockingQueue<String> turns = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;
    private volatile String currentRun;
    private volatile String steer;
    private final String label;
    private boolean announced;

    DemoAgent(
            URI url,
            Supplier<String> connectQuery,
            String sessionId,
            String agentId,
            String label,
            int tokensPerSecond,
            int replyTokens) {
        this.sessionId = sessionId;
        this.label = label;
        this.tokensPerSecond = tokensPerSecond;
        this.replyTokens = replyTokens;
        this.agent = DurableAgent.builder(url, sessionId, agentId)
                .connectQuery(connectQuery)
                .onControl(this::obey)
                .connect();
        this.worker =
                Thread.ofPlatform().daemon().name("demo-agent-" + sessionId).start(this::work);
    }

    void turn(String userText) {
        turns.add(userText == null ? "" : userText);
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        agent.close();
    }

    private void obey(ControlEvent e) {
        if (e.kind() == ControlEvent.Kind.STEER && e.runId().equals(currentRun)) steer = e.text();
        // CANCEL and INTERRUPT fence the run or the reply: the loop below sees it and stops writing
    }

    private void work() {
        while (!closed) {
            try {
                String text = turns.poll(500, TimeUnit.MILLISECONDS);
                if (text != null) reply(text);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!closed) System.err.println("demo agent " + sessionId + ": " + e);
            }
        }
    }

    private void reply(String question) {
        String runId = "run-" + UUID.randomUUID().toString().substring(0, 8);
        steer = null;
        currentRun = runId;
        if (!announced) {
            // the session's agents list names it as the page and its presence do (one name everywhere)
            agent.append(EventType.AGENT_JOINED, Json.object().put("label", label));
            announced = true;
        }
        DurableAgent.Run run = agent.startRun(runId);
        DurableAgent.Reply reply =
                run.startReply("m-" + UUID.randomUUID().toString().substring(0, 8));
        String[] echo = ("You said: \"" + question.strip() + "\". Here is a simulated streamed answer:").split("\\s+");
        int total = echo.length + replyTokens;
        long interval = 1_000_000_000L / Math.max(1, tokensPerSecond);
        long next = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long wait = next - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            next += interval;
            if (closed || run.isFenced()) return; // stopped: the SDK acknowledged the stop
            if (reply.isFenced()) break; // interrupted: the run goes on, this reply is over
            String s = steer;
            if (s != null) {
                steer = null;
                reply.delta(" [steered: " + s + "]");
            }
            reply.delta((i == 0 ? "" : " ") + (i < echo.length ? echo[i] : WORDS[(i - echo.length) % WORDS.length]));
        }
        reply.end(); // false when interrupted: its message.end is refused, nothing to do
        run.complete();
    }
}
