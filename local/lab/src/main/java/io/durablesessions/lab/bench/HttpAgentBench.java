package io.durablesessions.lab.bench;

import io.durablesessions.client.AppendRecord;
import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.local.EmbeddedStack;
import io.durablesessions.local.dynamodb.Stats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The SDK's agent over the HTTP API (it only POSTs), measured against the same agent on a WebSocket:
 * what one streaming append costs and takes, and how soon a stop reaches an agent that learns of
 * control only from the answers to its own posts.
 */
final class HttpAgentBench {
    /** The agent's posting interval in the stop trials: a coalescing window's worth of tokens per post. */
    static final Duration POST_INTERVAL = Duration.ofMillis(100);

    private final EmbeddedStack stack;

    HttpAgentBench(EmbeddedStack stack) {
        this.stack = stack;
    }

    /** What one streaming append (8 tokens of a reply, with producer and run) costs over one transport. */
    record AppendCost(String transport, int appends, double wcuPerAppend, double rcuPerAppend, Histogram micros) {}

    AppendCost httpAppends(int n) {
        String s = "bench-http-" + UUID.randomUUID();
        try (DurableAgent agent =
                SdkClients.httpAgent(stack.httpApiUrl(), s, "bench-http-agent").connect()) {
            return appends("HTTP API (POST …/events)", agent, n);
        }
    }

    AppendCost webSocketAppends(int n) {
        String s = "bench-ws-" + UUID.randomUUID();
        try (DurableAgent agent =
                SdkClients.agent(stack.webSocketUrl(), s, "bench-ws-agent").connect()) {
            return appends("WebSocket (append)", agent, n);
        }
    }

    /** {@code n} appends of one {@code text.delta} each: the reply's text, sent at once ({@code flush}) and waited for. */
    private AppendCost appends(String transport, DurableAgent agent, int n) {
        DurableAgent.Reply reply = agent.startRun("run-1").startReply("m-1");
        agent.flush();
        Stats stats = stack.dynamo().stats();
        Benchmarks.quiesce(stats);
        Stats.Snapshot before = stats.snapshot();
        long acked = agent.appendsAcked();
        Histogram h = new Histogram(3_600_000_000L, 3);
        for (int i = 1; i <= n; i++) {
            long t0 = System.nanoTime();
            reply.delta(tokens(i));
            if (!agent.flush()) throw new IllegalStateException("append " + i + " not stored");
            h.recordValue((System.nanoTime() - t0) / 1000);
        }
        Stats.Snapshot after = stats.snapshot();
        if (agent.appendsAcked() - acked != n)
            throw new IllegalStateException((agent.appendsAcked() - acked) + " appends, not " + n);
        return new AppendCost(
                transport,
                n,
                (Benchmarks.sumWcu(after) - Benchmarks.sumWcu(before)) / n,
                (Benchmarks.sumRcu(after) - Benchmarks.sumRcu(before)) / n,
                h);
    }

    /**
     * One stop trial: how long from the user sending cancel to the agent knowing, and how many of
     * the agent's posts started after the stop was recorded (the cancel's answer) before it knew.
     */
    record StopTrial(long micros, int postsAfterRecorded) {}

    /**
     * The agent streams a delta every {@link #POST_INTERVAL} over the HTTP API; after a random 300–700 ms
     * a user cancels the run ({@link SessionSubscriber#cancel} on their tab's WebSocket). The agent
     * knows when its {@code onControl} hears CANCEL: from {@code run.stop_requested} in an answer's
     * {@code control}, or a 409 {@code RUN_FENCED}.
     */
    StopTrial stopTrial(Random random) throws Exception {
        String s = "bench-stop-" + UUID.randomUUID();
        AtomicLong learned = new AtomicLong();
        List<AppendRecord> posts = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> connected = new CompletableFuture<>();
        try (DurableAgent agent = SdkClients.httpAgent(stack.httpApiUrl(), s, "bench-http-agent")
                        .onAppend(posts::add)
                        .onControl(e -> {
                            if (e.kind() == ControlEvent.Kind.CANCEL) learned.compareAndSet(0, System.nanoTime());
                        })
                        .connect();
                SessionSubscriber user = SdkClients.reader(
                                stack.webSocketUrl(), s, "bench-http-user", e -> {}, connected)
                        .start()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            connected.get(30, TimeUnit.SECONDS);
            Thread streaming = Thread.ofPlatform().name("http-agent").start(() -> {
                for (int i = 1; i < 10_000 && !run.isFenced(); i++) {
                    long started = System.nanoTime();
                    reply.delta(tokens(i));
                    agent.flush();
                    long wait = POST_INTERVAL.toNanos() - (System.nanoTime() - started);
                    if (wait > 0) LockSupport.parkNanos(wait);
                }
            });
            Thread.sleep(300 + random.nextInt(400));
            long cancelSent = System.nanoTime();
            user.cancel("run-1").get(30, TimeUnit.SECONDS);
            long cancelRecorded = System.nanoTime();
            streaming.join(30_000);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (learned.get() == 0 && System.nanoTime() < deadline) Benchmarks.sleep(5);
            if (learned.get() == 0) throw new IllegalStateException("the agent never learned of the stop");
            int postsAfter = (int) posts.stream()
                    .filter(p -> p.firstSentNanos() >= cancelRecorded && p.firstSentNanos() < learned.get())
                    .count();
            return new StopTrial((learned.get() - cancelSent) / 1000, postsAfter);
        }
    }

    private static String tokens(int i) {
        StringBuilder sb = new StringBuilder();
        for (int t = 0; t < 8; t++) sb.append("t").append(i * 8 + t).append(' ');
        return sb.toString();
    }

    static List<String> header() {
        return List.of("transport", "appends", "WCU / append", "RCU / append", "p50 ms", "p99 ms", "max ms");
    }

    static String[] row(AppendCost c) {
        return new String[] {
            c.transport(),
            String.valueOf(c.appends()),
            Benchmarks.fmt(c.wcuPerAppend()),
            Benchmarks.fmt(c.rcuPerAppend()),
            Benchmarks.ms(c.micros(), 50),
            Benchmarks.ms(c.micros(), 99),
            Benchmarks.fmt(c.micros().getMaxValue() / 1000.0)
        };
    }

    static List<String[]> stopRows(List<StopTrial> trials) {
        Histogram h = new Histogram(3_600_000_000L, 3);
        int maxPosts = 0;
        for (StopTrial t : trials) {
            h.recordValue(Math.max(0, t.micros()));
            maxPosts = Math.max(maxPosts, t.postsAfterRecorded());
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {
            String.valueOf(trials.size()),
            Benchmarks.ms(h, 50),
            Benchmarks.ms(h, 95),
            Benchmarks.fmt(h.getMaxValue() / 1000.0),
            String.valueOf(maxPosts)
        });
        return rows;
    }
}
