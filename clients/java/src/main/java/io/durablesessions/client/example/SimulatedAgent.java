package io.durablesessions.client.example;

import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.Coalescing;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * An "LLM simulator" built on the SDK: it watches a session, and for every user message that ends
 * it opens a run and streams a reply token by token at a fixed rate (echoing the question, then
 * filler words). It obeys the controls: cancel stops the run at once, interrupt ends the reply in
 * progress (and the run), steer weaves the instruction into the rest of the reply.
 *
 * <pre>
 * DS_TOKEN=$(scripts/token sim-agent agent) \
 *   java -cp … io.durablesessions.client.example.SimulatedAgent ws://127.0.0.1:8787/local demo [tokensPerSecond] [tokens]
 * </pre>
 */
public final class SimulatedAgent implements AutoCloseable {
    private static final String[] WORDS = ("durable sessions keep every token of a reply in an ordered log so any tab "
                    + "can resume hydrate or stop the agent while it streams and nothing is lost or repeated")
            .split(" ");

    /** How the simulated model behaves. */
    public record Options(int tokensPerSecond, int replyTokens, Duration coalesceWindow) {
        public static Options defaults() {
            return new Options(20, 60, Coalescing.DEFAULT_WINDOW);
        }
    }

    private final DurableAgent agent;
    private final SessionSubscriber watcher;
    private final Options options;
    private final LinkedBlockingQueue<String> turns = new LinkedBlockingQueue<>();
    private final Map<String, String> roles = new HashMap<>();
    private final Thread worker;
    private final AtomicInteger runs = new AtomicInteger();
    private volatile String steer;
    private volatile String stoppedRun;
    private volatile String interruptedMessage;
    private volatile boolean closed;

    public SimulatedAgent(URI url, Supplier<String> connectQuery, String sessionId, String agentId, Options options) {
        this.options = options;
        this.agent = DurableAgent.builder(url, sessionId, agentId + "-producer")
                .connectQuery(connectQuery)
                .coalesceWindow(options.coalesceWindow())
                .onControl(this::onControl)
                .connect();
        this.watcher = SessionSubscriber.builder(url, sessionId)
                .connectQuery(connectQuery)
                .afterSeq(0)
                .listener(new SessionSubscriber.Listener() {
                    @Override
                    public void onEvent(Event e) {
                        onSessionEvent(e);
                    }
                })
                .start();
        this.worker = new Thread(this::work, "simulated-agent-" + agentId);
        worker.setDaemon(true);
        worker.start();
    }

    /** Replies to {@code userText} now, as if a user message with that text had ended. */
    public void respond(String userText) {
        turns.add(userText);
    }

    /** Runs started so far. */
    public int runsStarted() {
        return runs.get();
    }

    private void onSessionEvent(Event e) {
        if (e.type() == EventType.MESSAGE_START) {
            roles.put(e.dataText("messageId"), e.dataText("role"));
        } else if (e.type() == EventType.MESSAGE_END && "user".equals(roles.get(e.dataText("messageId")))) {
            String id = e.dataText("messageId");
            SessionState s = watcher.state();
            for (SessionState.Item item : s.items()) {
                if (item instanceof SessionState.Message m && m.messageId().equals(id)) turns.add(m.text());
            }
        }
    }

    private void onControl(ControlEvent e) {
        switch (e.kind()) {
            case CANCEL, FENCED -> stoppedRun = e.runId();
            case INTERRUPT -> interruptedMessage = e.messageId();
            case STEER -> steer = e.text();
        }
    }

    private void work() {
        while (!closed) {
            String question;
            try {
                question = turns.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (question == null) continue;
            try {
                reply(question);
            } catch (RuntimeException e) {
                if (!closed) System.err.println("simulated agent: reply failed: " + e);
            }
        }
    }

    private void reply(String question) {
        String runId = "run-" + UUID.randomUUID();
        runs.incrementAndGet();
        DurableAgent.Run run = agent.startRun(runId);
        DurableAgent.Reply reply = run.startReply("m-" + UUID.randomUUID());
        long interval = 1_000_000_000L / Math.max(1, options.tokensPerSecond());
        long next = System.nanoTime();
        String[] echo = ("You said: " + question.strip() + " —").split("\\s+");
        int total = echo.length + options.replyTokens();
        for (int i = 0; i < total; i++) {
            long wait = next - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            next += interval;
            if (runId.equals(stoppedRun) || closed) return; // cancelled: the SDK acknowledged the stop
            if (reply.messageId().equals(interruptedMessage)) {
                run.complete();
                return;
            }
            String s = steer;
            if (s != null) {
                steer = null;
                reply.delta(" [steered: " + s + "]");
            }
            reply.delta((i == 0 ? "" : " ") + (i < echo.length ? echo[i] : WORDS[(i - echo.length) % WORDS.length]));
        }
        if (reply.end()) run.complete();
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        watcher.close();
        agent.close();
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 2) {
            System.err.println("usage: SimulatedAgent <ws-url> <sessionId> [tokensPerSecond] [tokens] [agentId]");
            System.exit(2);
        }
        URI url = URI.create(args[0]);
        String session = args[1];
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 60;
        String id = args.length > 4 ? args[4] : "sim-agent";
        String token = System.getenv("DS_TOKEN");
        if (token == null || token.isBlank()) {
            System.err.println("set DS_TOKEN to an agent token (scripts/token " + id + " agent)");
            System.exit(2);
        }
        SimulatedAgent sim = new SimulatedAgent(
                url,
                () -> "token=" + token + "&label=simulator",
                session,
                id,
                new Options(rate, tokens, Coalescing.DEFAULT_WINDOW));
        sim.agent
                .append(EventType.AGENT_JOINED, Json.object().put("label", "simulator"))
                .join();
        System.out.println("simulated agent " + id + " is watching session " + session + " at " + url);
        Runtime.getRuntime().addShutdownHook(new Thread(sim::close));
        Thread.currentThread().join();
    }
}
