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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * An "LLM simulator" built on the SDK, and the agent of the local demo: for each user turn it opens
 * a run and streams a reply token by token at a fixed rate (an echo of the question, then a fixed
 * text; {@link #replyTo} says which). The SDK does the rest (producer, retries, coalescing,
 * heartbeats, the stop's acknowledgement), and the agent obeys: a cancel stops it at once, an
 * interrupt ends the reply in progress (the run completes), a steer is woven into the rest of the
 * reply. Turns come from {@link #respond} or, with {@link Options#watchSession}, from the user
 * messages that end in the session.
 *
 * <pre>
 * DS_TOKEN=$(scripts/token sim-agent agent) \
 *   java -cp … io.durablesessions.client.example.SimulatedAgent ws://127.0.0.1:8787/local demo [tokensPerSecond] [tokens]
 * </pre>
 */
public final class SimulatedAgent implements AutoCloseable {
    private static final String[] WORDS = ("a durable session keeps every token of this reply in an ordered log so "
                    + "you can reload the page open a second tab cut the network or press stop and every tab still shows "
                    + "the same text at the same seq")
            .split(" ");

    /**
     * How the simulated model behaves: its pace, the length of a reply after the echo, the SDK's
     * coalescing window, the label it announces itself with ({@code agent.joined}; null: none), and
     * whether it finds its turns itself by reading the session.
     */
    public record Options(
            int tokensPerSecond, int replyTokens, Duration coalesceWindow, String label, boolean watchSession) {
        public static Options defaults() {
            return new Options(20, 60, Coalescing.DEFAULT_WINDOW, "simulator", true);
        }
    }

    /** The tokens of an uninterrupted, unsteered reply to {@code question}; joined by spaces, its text. */
    public static List<String> replyTo(String question, int replyTokens) {
        String[] echo = ("You said: \"" + question.strip() + "\". Here is a simulated streamed answer:").split("\\s+");
        List<String> tokens = new ArrayList<>(echo.length + replyTokens);
        for (int i = 0; i < echo.length + replyTokens; i++) {
            tokens.add(i < echo.length ? echo[i] : WORDS[(i - echo.length) % WORDS.length]);
        }
        return tokens;
    }

    private final String sessionId;
    private final Options options;
    private final DurableAgent agent;
    private final SessionSubscriber watcher;
    private final LinkedBlockingQueue<String> turns = new LinkedBlockingQueue<>();
    private final Map<String, String> roles = new HashMap<>(); // messageId → role, on the watcher's thread
    private final Thread worker;
    private final AtomicInteger runs = new AtomicInteger();
    private volatile String currentRun;
    private volatile String steer;
    private volatile boolean closed;

    public SimulatedAgent(URI url, Supplier<String> connectQuery, String sessionId, String agentId, Options options) {
        this.sessionId = sessionId;
        this.options = options;
        this.agent = DurableAgent.builder(url, sessionId, agentId)
                .connectQuery(connectQuery)
                .coalesceWindow(options.coalesceWindow())
                .onControl(this::obey)
                .connect();
        if (options.label() != null) {
            // queued ahead of any run: the session's agents list names it as its presence does
            agent.append(EventType.AGENT_JOINED, Json.object().put("label", options.label()));
        }
        this.watcher = options.watchSession()
                ? SessionSubscriber.builder(url, sessionId)
                        .connectQuery(connectQuery)
                        .afterSeq(0)
                        .listener(new SessionSubscriber.Listener() {
                            @Override
                            public void onEvent(Event e) {
                                watch(e);
                            }
                        })
                        .start()
                : null;
        this.worker = new Thread(this::work, "simulated-agent-" + sessionId); // Java 17: no Thread.ofPlatform
        worker.setDaemon(true);
        worker.start();
    }

    /** Replies to {@code userText}, after the turns before it, as if a user message with that text had ended. */
    public void respond(String userText) {
        turns.add(userText == null ? "" : userText);
    }

    /** Runs started so far. */
    public int runsStarted() {
        return runs.get();
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        if (watcher != null) watcher.close();
        agent.close();
    }

    private void watch(Event e) {
        if (e.type() == EventType.MESSAGE_START) {
            roles.put(e.dataText("messageId"), e.dataText("role"));
        } else if (e.type() == EventType.MESSAGE_END && "user".equals(roles.get(e.dataText("messageId")))) {
            String id = e.dataText("messageId");
            for (SessionState.Item item : watcher.state().items()) {
                if (item instanceof SessionState.Message m && m.messageId().equals(id)) respond(m.text());
            }
        }
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
                if (!closed) System.err.println("simulated agent in " + sessionId + ": " + e);
            }
        }
    }

    private void reply(String question) {
        String runId = "run-" + UUID.randomUUID().toString().substring(0, 8);
        steer = null;
        currentRun = runId;
        runs.incrementAndGet();
        DurableAgent.Run run = agent.startRun(runId);
        DurableAgent.Reply reply =
                run.startReply("m-" + UUID.randomUUID().toString().substring(0, 8));
        List<String> tokens = replyTo(question, options.replyTokens());
        long interval = 1_000_000_000L / Math.max(1, options.tokensPerSecond());
        long next = System.nanoTime();
        for (int i = 0; i < tokens.size(); i++) {
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
            reply.delta((i == 0 ? "" : " ") + tokens.get(i));
        }
        run.complete(); // ends the reply in the same append (not an interrupted one: nothing to end)
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 2) {
            System.err.println("usage: SimulatedAgent <ws-url> <sessionId> [tokensPerSecond] [tokens] [agentId]");
            System.exit(2);
        }
        URI url = URI.create(args[0]);
        String session = args[1];
        Options d = Options.defaults();
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : d.tokensPerSecond();
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : d.replyTokens();
        String id = args.length > 4 ? args[4] : "sim-agent";
        String token = System.getenv("DS_TOKEN");
        if (token == null || token.isBlank()) {
            System.err.println("set DS_TOKEN to an agent token (scripts/token " + id + " agent)");
            System.exit(2);
        }
        SimulatedAgent sim = new SimulatedAgent(
                url,
                () -> "token=" + token + "&label=" + d.label(),
                session,
                id,
                new Options(rate, tokens, d.coalesceWindow(), d.label(), true));
        System.out.println("simulated agent " + id + " is watching session " + session + " at " + url);
        Runtime.getRuntime().addShutdownHook(new Thread(sim::close));
        Thread.currentThread().join();
    }
}
