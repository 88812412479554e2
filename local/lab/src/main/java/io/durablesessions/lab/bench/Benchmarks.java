package io.durablesessions.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.client.AppendRecord;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.Coalescing;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.SessionState;
import io.durablesessions.functions.store.Hydration;
import io.durablesessions.functions.store.SessionStore;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.local.EmbeddedStack;
import io.durablesessions.local.apigateway.WebSocketApiEmulator;
import io.durablesessions.local.dynamodb.Stats;
import io.durablesessions.local.streams.StreamEventSource;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;

/**
 * Benchmarks of the local stack, all on loopback, each bounded in count and time:
 * cost meter (coalesced vs naive), latency, throughput, resume/hydrate, fan-out, Lambda package.
 * {@code --quick} runs the same code at sanity sizes (CI); the default is the full run. Prints the
 * tables and writes docs/benchmarks.md (unless {@code --no-write}).
 *
 * <p>Options: {@code --quick}, {@code --only=cost,latency,throughput,resume,fanout,http,package,peer},
 * {@code --out=PATH}, {@code --no-write}.
 */
public final class Benchmarks {

    /** AWS us-east-1 list prices used by the cost meter (checked on the date below). */
    static final class Prices {
        static final String CHECKED = "2026-11-29";
        static final double APIGW_PER_MILLION_MESSAGES = 1.00; // WebSocket, per million 32 KB units (first 1 B)
        static final double APIGW_PER_MILLION_CONN_MINUTES = 0.25;
        static final double LAMBDA_PER_MILLION_REQUESTS = 0.20;
        static final double LAMBDA_PER_GB_SECOND_ARM = 0.0000133334;
        static final double DDB_PER_MILLION_WRU = 0.625; // on-demand
        static final double DDB_PER_MILLION_RRU = 0.125;
        /** Assumed Lambda configuration (not measured locally): memory and average billed duration. */
        static final double LAMBDA_MEMORY_GB = 0.5;

        static final double ROUTE_MS = 20;
        static final double FANOUT_MS = 40;
    }

    private final boolean quick;
    private final Set<String> only;
    private final Path root;
    private final Report report = new Report();
    private EmbeddedStack stack;

    private Benchmarks(boolean quick, Set<String> only, Path root) {
        this.quick = quick;
        this.only = only;
        this.root = root;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        boolean write = true;
        Set<String> only = new LinkedHashSet<>();
        Path out = null;
        for (String a : args) {
            if (a.equals("--quick")) quick = true;
            else if (a.equals("--no-write")) write = false;
            else if (a.startsWith("--only="))
                only.addAll(Arrays.asList(a.substring(7).split(",")));
            else if (a.startsWith("--out=")) out = Path.of(a.substring(6));
            else if (!a.isBlank()) throw new IllegalArgumentException("unknown option " + a);
        }
        Path root = findRoot();
        if (out == null) out = root.resolve("docs/benchmarks.md");
        Benchmarks b = new Benchmarks(quick, only, root);
        b.report.loadAtStart = PeerBench.loadAverage();
        long t0 = System.nanoTime();
        int rc = 0;
        try {
            b.runAll(args);
        } catch (Throwable t) {
            t.printStackTrace();
            rc = 1;
        }
        b.report.wallSeconds = (System.nanoTime() - t0) / 1e9;
        b.report.loadAtEnd = PeerBench.loadAverage();
        String md = b.report.markdown(quick, String.join(" ", args));
        // the chaos suite's recorded results (written by hand from its output) survive regeneration
        if (Files.exists(out)) {
            String old = Files.readString(out);
            int a = old.indexOf(KEEP_BEGIN);
            int z = old.indexOf(KEEP_END);
            if (a >= 0 && z > a) md = md + "\n" + old.substring(a, z + KEEP_END.length()) + "\n";
            // --only=peer updates just the side-by-side table; other runs keep the last one they did not measure
            md = PeerBench.merge(md, old, only.equals(Set.of("peer")));
        }
        System.out.println();
        System.out.println(md);
        if (write) {
            Files.createDirectories(out.getParent());
            Files.writeString(out, md);
            System.out.println("wrote " + out);
        }
        System.exit(rc);
    }

    private static Path findRoot() {
        Path p = Path.of("").toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) {
            if (Files.exists(q.resolve("mvnw")) && Files.isDirectory(q.resolve("docs"))) return q;
        }
        return p;
    }

    private boolean enabled(String name) {
        return only.isEmpty() || only.contains(name);
    }

    private void runAll(String[] args) throws Exception {
        stack = EmbeddedStack.start();
        try {
            // first, on a quiet stack: its capacity figures are per append, so background writes (presence
            // leaving after other sections' clients, their compaction) must not land in its window
            if (enabled("http")) section("HTTP agent", this::httpAgent);
            if (enabled("cost")) section("cost meter", this::costMeter);
            if (enabled("latency")) section("latency", this::latency);
            if (enabled("throughput")) section("throughput", this::throughput);
            if (enabled("resume")) section("resume and hydrate", this::resume);
            if (enabled("fanout")) section("fan-out", this::fanout);
        } finally {
            stack.close();
        }
        // side by side with the Durable Streams reference server; starts its own stacks (PeerBench)
        if (enabled("peer")) section("peer", this::peer);
        if (enabled("package")) section("lambda package", this::lambdaPackage);
    }

    interface Body {
        void run() throws Exception;
    }

    private void section(String name, Body body) {
        long t0 = System.nanoTime();
        log("== " + name);
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            report.problem(name + " failed: " + e);
            e.printStackTrace();
        }
        log("== " + name + " took " + fmt((System.nanoTime() - t0) / 1e9) + " s");
    }

    // ------------------------------------------------------------------------------------ cost meter

    /** One cost run, counted where AWS bills it: the gateway's messages (and 32 KB units), DynamoDB's capacity. */
    record Counts(
            double wcu,
            double rcu,
            long ddbRequests,
            long msgIn,
            long msgOut,
            long unitsIn,
            long unitsOut,
            long connects,
            long disconnects,
            long fanoutInvocations,
            double connectionMinutes,
            int appends,
            Histogram tokenLatency,
            Histogram agentWait,
            String wcuByTable,
            Histogram windowWait,
            Histogram ack,
            double replyWcu,
            long replyMessages,
            double firstTokenMs) {
        long messageUnits() {
            return unitsIn + unitsOut;
        }

        long routeInvocations() {
            return msgIn + connects + disconnects;
        }

        double dollars() {
            double apigw = messageUnits() / 1e6 * Prices.APIGW_PER_MILLION_MESSAGES
                    + connectionMinutes / 1e6 * Prices.APIGW_PER_MILLION_CONN_MINUTES;
            double lambda = (routeInvocations() + fanoutInvocations) / 1e6 * Prices.LAMBDA_PER_MILLION_REQUESTS
                    + (routeInvocations() * Prices.ROUTE_MS + fanoutInvocations * Prices.FANOUT_MS)
                            / 1000.0
                            * Prices.LAMBDA_MEMORY_GB
                            * Prices.LAMBDA_PER_GB_SECOND_ARM;
            double ddb = wcu / 1e6 * Prices.DDB_PER_MILLION_WRU + rcu / 1e6 * Prices.DDB_PER_MILLION_RRU;
            return apigw + lambda + ddb;
        }

        double apigwDollars() {
            return messageUnits() / 1e6 * Prices.APIGW_PER_MILLION_MESSAGES
                    + connectionMinutes / 1e6 * Prices.APIGW_PER_MILLION_CONN_MINUTES;
        }

        double lambdaDollars() {
            return (routeInvocations() + fanoutInvocations) / 1e6 * Prices.LAMBDA_PER_MILLION_REQUESTS
                    + (routeInvocations() * Prices.ROUTE_MS + fanoutInvocations * Prices.FANOUT_MS)
                            / 1000.0
                            * Prices.LAMBDA_MEMORY_GB
                            * Prices.LAMBDA_PER_GB_SECOND_ARM;
        }

        double ddbDollars() {
            return wcu / 1e6 * Prices.DDB_PER_MILLION_WRU + rcu / 1e6 * Prices.DDB_PER_MILLION_RRU;
        }
    }

    private void costMeter() throws Exception {
        int tokens = quick ? 200 : 1000;
        int rate = 100;
        Duration window = Coalescing.DEFAULT_WINDOW; // the SDK's default
        // warm-up (JIT, connection pools), not measured: a cold first run inflates ack latency, which
        // would let the coalescing agent batch more than 10 tokens and flatter the ratio
        costRun(quick ? 50 : 200, rate, window);
        costRun(quick ? 20 : 100, rate, Duration.ZERO);
        Counts coalesced = costRun(tokens, rate, window);
        Counts naive = costRun(tokens, rate, Duration.ZERO);
        double perMillion = 1e6 / tokens;
        List<String[]> rows = new ArrayList<>();
        rows.add(row("appends (agent → append route)", coalesced.appends, naive.appends));
        rows.add(row("DynamoDB WCU (= on-demand WRU)", coalesced.wcu, naive.wcu));
        rows.add(row("DynamoDB RCU (= RRU)", coalesced.rcu, naive.rcu));
        rows.add(row("  reply only (connect/subscribe/disconnect excluded): WCU", coalesced.replyWcu, naive.replyWcu));
        rows.add(row("  reply only: API Gateway messages in + out", coalesced.replyMessages, naive.replyMessages));
        rows.add(row(
                "  WCU per append (reply only)",
                coalesced.replyWcu / coalesced.appends,
                naive.replyWcu / naive.appends));
        rows.add(row(
                "DynamoDB table requests (stream reads excluded: free for Lambda triggers)",
                coalesced.ddbRequests,
                naive.ddbRequests));
        rows.add(row("API Gateway messages in (frames from clients, 32 KB units)", coalesced.unitsIn, naive.unitsIn));
        rows.add(row(
                "API Gateway messages out (answers + events to 2 subscribers, 32 KB units)",
                coalesced.unitsOut,
                naive.unitsOut));
        rows.add(row(
                "  of which messages (in / out)",
                coalesced.msgIn + " / " + coalesced.msgOut,
                naive.msgIn + " / " + naive.msgOut));
        rows.add(row(
                "Lambda route invocations (messages in + $connect + $disconnect)",
                coalesced.routeInvocations(),
                naive.routeInvocations()));
        rows.add(row("Lambda fan-out invocations", coalesced.fanoutInvocations, naive.fanoutInvocations));
        rows.add(row(
                "connection minutes (agent + 2 subscribers)", coalesced.connectionMinutes, naive.connectionMinutes));
        rows.add(row(
                "token → subscriber latency p50 / p99 / max (ms)",
                pcts(coalesced.tokenLatency),
                pcts(naive.tokenLatency)));
        rows.add(row(
                "the reply's first token → on both subscribers (ms)",
                fmt(coalesced.firstTokenMs),
                fmt(naive.firstTokenMs)));
        rows.add(row(
                "token generated → its append sent, p50 / p99 / max (ms)",
                pcts(coalesced.agentWait),
                pcts(naive.agentWait)));
        rows.add(row(
                "  of which waiting for the window to close (the coalescing delay) p50 / p99 / max (ms)",
                pcts(coalesced.windowWait),
                pcts(naive.windowWait)));
        rows.add(row(
                "  of which queued behind the previous append's ack (ack p50 / p99 / max ms)",
                pcts(coalesced.ack),
                pcts(naive.ack)));
        rows.add(row("$ per reply", dollars(coalesced.dollars()), dollars(naive.dollars())));
        rows.add(row(
                "$ per million tokens to 2 clients: API Gateway",
                dollars(coalesced.apigwDollars() * perMillion),
                dollars(naive.apigwDollars() * perMillion)));
        rows.add(row(
                "$ per million tokens to 2 clients: Lambda",
                dollars(coalesced.lambdaDollars() * perMillion),
                dollars(naive.lambdaDollars() * perMillion)));
        rows.add(row(
                "$ per million tokens to 2 clients: DynamoDB",
                dollars(coalesced.ddbDollars() * perMillion),
                dollars(naive.ddbDollars() * perMillion)));
        rows.add(row(
                "**$ per million tokens streamed to 2 clients**",
                "**" + dollars(coalesced.dollars() * perMillion) + "**",
                "**" + dollars(naive.dollars() * perMillion) + "**"));
        double writeRatio = naive.wcu / coalesced.wcu;
        double msgRatio = (double) naive.messageUnits() / coalesced.messageUnits();
        report.table(
                "Cost meter: one reply of " + tokens + " tokens at " + rate + " tokens/s, 2 subscribers",
                List.of(
                        "",
                        "coalesced (DurableAgent's default " + window.toMillis()
                                + " ms window: Coalescing.DEFAULT_WINDOW)",
                        "naive (one append per token: window 0, each delta flushed)"),
                rows,
                "Ratios naive / coalesced: writes (WCU) " + fmt(writeRatio) + "×, appends "
                        + fmt((double) naive.appends / coalesced.appends) + "×, API Gateway messages " + fmt(msgRatio)
                        + "×, Lambda invocations "
                        + fmt((double) (naive.routeInvocations() + naive.fanoutInvocations)
                                / (coalesced.routeInvocations() + coalesced.fanoutInvocations))
                        + "× (target ≥ 10× fewer writes and messages: "
                        + (writeRatio >= 10 && msgRatio >= 10 ? "met" : "NOT met")
                        + " for the whole conversation; reply only: writes "
                        + fmt(naive.replyWcu / coalesced.replyWcu) + "×, messages "
                        + fmt((double) naive.replyMessages / coalesced.replyMessages)
                        + "×). At " + rate + " tokens/s a " + window.toMillis() + " ms window holds "
                        + fmt(rate * window.toMillis() / 1000.0)
                        + " tokens, which bounds the ratio, and the reply's first text goes at once (the leading edge: one "
                        + "append more, so the first token is on screen in the transport's time, not the window's); an agent "
                        + "whose ack is still outstanding when a window closes merges windows too (more under load). "
                        + "Cost target (issue 18: ≤ $0.50 per million tokens and ≥ 20× cheaper than the naive writer): "
                        + (coalesced.dollars() * perMillion <= 0.50 && naive.dollars() / coalesced.dollars() >= 20
                                ? "met"
                                : "NOT met")
                        + " (" + dollars(coalesced.dollars() * perMillion) + ", "
                        + fmt(naive.dollars() / coalesced.dollars()) + "×). "
                        + "the fixed per-conversation cost (connects, subscribes, presence, disconnects) is the same in both. "
                        + "Coalescing delay (window wait) max " + fmt(coalesced.windowWait.getMaxValue() / 1000.0)
                        + " ms vs window "
                        + window.toMillis() + " ms ("
                        + (coalesced.windowWait.getMaxValue() / 1000.0 <= window.toMillis() + 1 ? "within" : "OVER")
                        + " the window); the rest of the wait is the agent's one-append-in-flight queue, which the naive agent "
                        + "suffers far more (it cannot sustain 100 appends/s when an ack takes longer than 10 ms). The agent and the 2 readers are the Java SDK's "
                        + "(DurableAgent, SessionSubscriber); the appends row counts the reply's (run.started, an append of its own that "
                        + "the SDK waits for; message.start, which goes with the first text; the deltas; then run.complete(), which "
                        + "sends the last text, message.end and run.completed as one append), and a "
                        + "token's append is the one whose acked seqs hold the token's event (DurableAgent's onAppend). "
                        + "Each run counts everything from connect to disconnect (3 connections, 2 subscribes, the reply) as the gateway "
                        + "emulator meters it (32 KB units). "
                        + "WCU by table, coalesced: " + coalesced.wcuByTable + "; naive: " + naive.wcuByTable + ". "
                        + "Prices (us-east-1, checked " + Prices.CHECKED + "): API Gateway WebSocket $"
                        + Prices.APIGW_PER_MILLION_MESSAGES + "/M messages (32 KB units) + $"
                        + Prices.APIGW_PER_MILLION_CONN_MINUTES
                        + "/M connection-minutes; Lambda $" + Prices.LAMBDA_PER_MILLION_REQUESTS + "/M requests + $"
                        + Prices.LAMBDA_PER_GB_SECOND_ARM + "/GB-s arm64, ASSUMING "
                        + (int) (Prices.LAMBDA_MEMORY_GB * 1024)
                        + " MB and " + (int) Prices.ROUTE_MS + " ms per route invocation, " + (int) Prices.FANOUT_MS
                        + " ms per fan-out invocation (not measurable locally); DynamoDB on-demand $"
                        + Prices.DDB_PER_MILLION_WRU
                        + "/M WRU, $" + Prices.DDB_PER_MILLION_RRU
                        + "/M RRU (WCU/RCU as computed by the embedded DynamoDB, "
                        + "transactional writes 2 per KB). Connection minutes are the reply's wall time × 3 connections; "
                        + "free tiers ignored.");
        windowTradeOff(tokens, rate, window, coalesced, naive);
    }

    /**
     * What a longer coalescing window buys and costs: the same reply with the agent's window set
     * longer than the default (DurableAgent.Builder.coalesceWindow), against the same naive run.
     */
    private void windowTradeOff(int tokens, int rate, Duration defaultWindow, Counts atDefault, Counts naive)
            throws Exception {
        double perMillion = 1e6 / tokens;
        List<String[]> rows = new ArrayList<>();
        java.util.TreeSet<Duration> windows = new java.util.TreeSet<>(List.of(
                Duration.ofMillis(150), Duration.ofMillis(250), Duration.ofMillis(300), Duration.ofMillis(500)));
        windows.add(defaultWindow);
        for (Duration w : windows) {
            Counts c = w.equals(defaultWindow) ? atDefault : costRun(tokens, rate, w);
            rows.add(new String[] {
                w.toMillis() + " ms" + (w.equals(defaultWindow) ? " (default)" : ""),
                String.valueOf(c.appends),
                dollars(c.dollars() * perMillion),
                fmt(naive.dollars() / c.dollars()) + "×",
                pcts(c.tokenLatency),
                fmt(c.firstTokenMs)
            });
        }
        report.table(
                "Coalescing window: cost against latency (same reply, same naive run)",
                List.of(
                        "window",
                        "appends",
                        "$ per million tokens to 2 clients",
                        "cheaper than naive",
                        "token → subscriber p50 / p99 / max (ms)",
                        "first token → subscribers (ms)"),
                rows,
                "An agent chooses its window (DurableAgent.Builder.coalesceWindow, the TypeScript agent's "
                        + "coalesceWindowMs): every cost of a reply is per append, and a window holds rate × window tokens, "
                        + "which bounds the saving (at 100 tokens/s a w ms window is at most w/10 times cheaper than one "
                        + "append per token); the price is the window's wait before a token is sent. The first text of a "
                        + "reply goes at once whatever the window (Coalescing: the leading edge).");
    }

    /**
     * One reply of {@code tokens} tokens at {@code rate} tokens/s by a {@link DurableAgent} with the coalescing
     * {@code window}, read by 2 {@link SessionSubscriber}s. A window of zero is the naive baseline: each token is
     * its own append ({@code delta} then {@code flush}), tokens generated meanwhile wait for it.
     */
    private Counts costRun(int tokens, int rate, Duration window) throws Exception {
        String session = "cost-" + (window.isZero() ? "naive-" : "coalesced-") + UUID.randomUUID();
        Histogram latency = new Histogram(3_600_000_000L, 3);
        Stats stats = stack.dynamo().stats();
        settle();
        quiesce(stats); // earlier sections' clients leave (presence) a few seconds after they close
        stats.reset();
        WebSocketApiEmulator.Counters gw0 = stack.gateway().counters();
        StreamEventSource.Counters fo0 = stack.fanout().counters();
        List<long[]> arrivals = new ArrayList<>();
        long[] tokenSeq = new long[tokens]; // the seq of the event that carried each token
        int[] firstOfEvent = new int[tokens]; // the first token of that event
        AtomicInteger completed = new AtomicInteger();
        List<SessionSubscriber> tabs = new ArrayList<>();
        long opened = System.nanoTime();
        for (int i = 0; i < 2; i++) {
            long[] mine = new long[tokens];
            arrivals.add(mine);
            CompletableFuture<Void> connected = new CompletableFuture<>();
            tabs.add(SdkClients.reader(
                            stack.webSocketUrl(),
                            session,
                            "tab-" + i,
                            e -> {
                                long now = System.nanoTime();
                                if (e.type() == EventType.RUN_COMPLETED) completed.incrementAndGet();
                                if (e.type() != EventType.TEXT_DELTA) return;
                                int[] carried = tokensOf(e.dataText("text"));
                                for (int t : carried) {
                                    mine[t] = now;
                                    tokenSeq[t] = e.seq();
                                    firstOfEvent[t] = carried[0];
                                }
                            },
                            connected)
                    .start());
            connected.get(10, TimeUnit.SECONDS);
        }
        List<AppendRecord> appends = new CopyOnWriteArrayList<>();
        DurableAgent agent = SdkClients.agent(stack.webSocketUrl(), session, "agent-1")
                .coalesceWindow(window)
                .onAppend(appends::add)
                .connect();
        settle();
        Stats.Snapshot sr0 = stats.snapshot();
        WebSocketApiEmulator.Counters gr0 = stack.gateway().counters();
        long acked0 = agent.appendsAcked();
        appends.clear();
        long[] generated = streamReply(agent, tokens, rate, window.isZero());
        int replyAppends = (int) (agent.appendsAcked() - acked0);
        boolean done = awaitTrue(Duration.ofSeconds(60), () -> completed.get() >= 2);
        Stats.Snapshot sr1 = stats.snapshot();
        WebSocketApiEmulator.Counters gr1 = stack.gateway().counters();
        double replyWcu = sumWcu(sr1) - sumWcu(sr0);
        long replyMessages = gr1.messagesIn() - gr0.messagesIn() + gr1.messagesOut() - gr0.messagesOut();
        if (!done) {
            report.problem("cost run: a subscriber did not get run.completed");
        }
        for (long[] mine : arrivals) {
            for (int t = 0; t < tokens; t++) {
                if (mine[t] == 0) report.problem("token " + t + " never reached a subscriber");
                else latency.recordValue(Math.max(0, (mine[t] - generated[t]) / 1000));
            }
        }
        // when each token's append was first sent: the append whose seqs hold the token's event (onAppend)
        Histogram wait = new Histogram(3_600_000_000L, 3);
        Histogram windowWait = new Histogram(3_600_000_000L, 3);
        Histogram ack = new Histogram(3_600_000_000L, 3);
        for (AppendRecord r : appends) ack.recordValue(Math.max(0, (r.answeredNanos() - r.firstSentNanos()) / 1000));
        // the reply's text appends in the order sent: the coalescer holds text until a window after the previous one
        List<AppendRecord> textAppends = appends.stream()
                .filter(x -> x.stored() && x.events().stream().anyMatch(e -> e.type() == EventType.TEXT_DELTA))
                .sorted(java.util.Comparator.comparingLong(AppendRecord::firstSentNanos))
                .toList();
        for (int t = 0; t < tokens; t++) {
            long seq = tokenSeq[t];
            AppendRecord r = appends.stream()
                    .filter(x -> x.stored() && x.firstSeq() <= seq && seq <= x.lastSeq())
                    .findFirst()
                    .orElse(null);
            if (r == null) {
                report.problem("cost run: no append holds token " + t + " (seq " + seq + ")");
                continue;
            }
            long sent = r.firstSentNanos();
            // the event's window closed a window after the reply's previous text append, or at once when that was
            // a window or more before the event's first token (the leading edge); never after it was sent
            long first = generated[firstOfEvent[t]];
            AppendRecord previous = null;
            for (AppendRecord x : textAppends) if (x.firstSentNanos() < sent) previous = x;
            long closed = window.isZero() || previous == null || first - previous.firstSentNanos() >= window.toNanos()
                    ? first
                    : previous.firstSentNanos() + window.toNanos();
            closed = Math.min(sent, Math.max(closed, first));
            wait.recordValue(Math.max(0, (sent - generated[t]) / 1000));
            windowWait.recordValue(Math.max(0, (Math.max(closed, generated[t]) - generated[t]) / 1000));
        }
        agent.close();
        tabs.forEach(SessionSubscriber::close);
        // the reply's wall time × 3 connections (what API Gateway bills as connection minutes)
        double minutes = 3 * (System.nanoTime() - opened) / 60e9;
        awaitTrue(Duration.ofSeconds(10), () -> stack.gateway().counters().disconnects() - gw0.disconnects() >= 3);
        settle();
        Stats.Snapshot s = stats.snapshot();
        WebSocketApiEmulator.Counters gw = stack.gateway().counters();
        StreamEventSource.Counters fo = stack.fanout().counters();
        double wcu = sumWcu(s);
        double rcu = sumRcu(s);
        StringBuilder byTable = new StringBuilder();
        s.writeCapacityUnitsByTable()
                .forEach((t, v) -> byTable.append(t).append(' ').append(fmt(v)).append(", "));
        if (byTable.length() > 2) byTable.setLength(byTable.length() - 2);
        Map<String, Long> ops = new TreeMap<>(s.requestsByOperation());
        ops.keySet()
                .removeIf(k -> k.equals("GetRecords")
                        || k.equals("GetShardIterator")
                        || k.equals("DescribeStream")
                        || k.equals("ListStreams"));
        byTable.append(" (requests: ").append(ops).append(')');
        long unitsIn = gw.unitsIn() - gw0.unitsIn(), unitsOut = gw.unitsOut() - gw0.unitsOut();
        log(String.format(
                Locale.ROOT,
                "cost %s: appends=%d wcu=%.1f rcu=%.1f in=%d out=%d fanout=%d",
                window.isZero() ? "naive" : "coalesced",
                replyAppends,
                wcu,
                rcu,
                unitsIn,
                unitsOut,
                fo.invocations() - fo0.invocations()));
        return new Counts(
                wcu,
                rcu,
                ops.values().stream().mapToLong(Long::longValue).sum(),
                gw.messagesIn() - gw0.messagesIn(),
                gw.messagesOut() - gw0.messagesOut(),
                unitsIn,
                unitsOut,
                gw.connects() - gw0.connects(),
                gw.disconnects() - gw0.disconnects(),
                fo.invocations() - fo0.invocations(),
                minutes,
                replyAppends,
                latency,
                wait,
                byTable.toString(),
                windowWait,
                ack,
                replyWcu,
                replyMessages,
                arrivals.stream()
                                .mapToLong(mine -> mine[0] - generated[0])
                                .max()
                                .orElse(0)
                        / 1e6);
    }

    /**
     * A model producing {@code tokens} tokens {@code "t<i> "} at {@code rate} per second into one reply of a new run,
     * then the run's completion (which ends the reply in the same append); returns when each token was generated. {@code oneAppendEach}:
     * each token is sent and waited for before the next (the naive agent; tokens generated meanwhile queue).
     */
    private static long[] streamReply(DurableAgent agent, int tokens, int rate, boolean oneAppendEach)
            throws Exception {
        long[] generated = new long[tokens];
        LinkedBlockingQueue<Integer> model = new LinkedBlockingQueue<>();
        DurableAgent.Run run = agent.startRun("run-1");
        DurableAgent.Reply reply = run.startReply("m-1");
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime();
        Thread generator = Thread.ofPlatform().daemon().name("model").start(() -> {
            for (int i = 0; i < tokens; i++) {
                long due = start + i * interval;
                long w;
                while ((w = due - System.nanoTime()) > 0) LockSupport.parkNanos(w);
                generated[i] = System.nanoTime();
                model.add(i);
            }
        });
        for (int taken = 0; taken < tokens; taken++) {
            reply.delta("t" + model.take() + " ");
            if (oneAppendEach && !agent.flush()) throw new IllegalStateException("a token's append was not stored");
        }
        generator.join();
        // the run's end ends the reply too: its last text, message.end and run.completed are one append
        if (!run.complete()) throw new IllegalStateException("the reply did not end");
        return generated;
    }

    /** The token indices in a delta text written by {@link #streamReply}. */
    static int[] tokensOf(String text) {
        String[] parts = text.trim().split(" ");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Integer.parseInt(parts[i].substring(1));
        return out;
    }

    // ------------------------------------------------------------------------------------ latency

    private void latency() throws Exception {
        int events = quick ? 500 : 10_000;
        int[] subscriberCounts = quick ? new int[] {1, 10} : new int[] {1, 10, 100};
        int rate = 100; // appends/s offered in total (× 4 events each)
        int writers = 4;
        int perAppend = 4;
        List<String[]> rows = new ArrayList<>();
        for (int n : subscriberCounts) {
            String session = "lat-" + n + "-" + UUID.randomUUID();
            List<Histogram> hs = new ArrayList<>();
            List<SessionSubscriber> subs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Histogram h = new Histogram(3_600_000_000L, 3);
                hs.add(h);
                CompletableFuture<Void> connected = new CompletableFuture<>();
                subs.add(SdkClients.reader(
                                stack.webSocketUrl(),
                                session,
                                "sub-" + i,
                                e -> {
                                    long now = System.nanoTime();
                                    JsonNode t = e.data().path("payload").path("t");
                                    if (t.isNumber()) {
                                        synchronized (h) {
                                            h.recordValue(Math.max(0, (now - t.asLong()) / 1000));
                                        }
                                    }
                                },
                                connected)
                        .start());
                connected.get(30, TimeUnit.SECONDS);
            }
            long bound = System.nanoTime() + Duration.ofSeconds(quick ? 8 : 60).toNanos();
            AtomicLong sentCount = new AtomicLong();
            List<DurableAgent> agents = new ArrayList<>();
            for (int w = 0; w < writers; w++)
                agents.add(SdkClients.agent(stack.webSocketUrl(), session, "agent-" + w)
                        .connect());
            long t0 = System.nanoTime();
            long interval = 1_000_000_000L * writers / rate;
            Thread[] threads = new Thread[writers];
            for (int w = 0; w < writers; w++) {
                DurableAgent agent = agents.get(w);
                int share = events / writers / perAppend;
                long offset = interval * w / writers;
                threads[w] = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < share && System.nanoTime() < bound; i++) {
                        long due = t0 + offset + i * interval;
                        long d;
                        while ((d = due - System.nanoTime()) > 0) LockSupport.parkNanos(d);
                        long sendAt = System.nanoTime();
                        List<EventInput> batch = new ArrayList<>();
                        for (int k = 0; k < perAppend; k++) {
                            ObjectNode data = Json.object().put("name", "lat");
                            data.putObject("payload").put("t", sendAt);
                            batch.add(EventInput.of(EventType.CUSTOM, null, data));
                        }
                        if (!agent.appendAll(batch).join()) throw new IllegalStateException("append not stored");
                        sentCount.addAndGet(perAppend);
                    }
                });
            }
            for (Thread t : threads) t.join();
            double sendSeconds = (System.nanoTime() - t0) / 1e9;
            long total = sentCount.get();
            boolean all = awaitTrue(
                    Duration.ofSeconds(60),
                    () -> hs.stream().allMatch(h -> {
                        synchronized (h) {
                            return h.getTotalCount() >= total;
                        }
                    }));
            Histogram sum = new Histogram(3_600_000_000L, 3);
            hs.forEach(h -> {
                synchronized (h) {
                    sum.add(h);
                }
            });
            long dups = subs.stream()
                    .mapToLong(SessionSubscriber::duplicatesDropped)
                    .sum();
            rows.add(new String[] {
                String.valueOf(n),
                String.valueOf(total),
                String.valueOf(sum.getTotalCount()),
                fmt(total / perAppend / sendSeconds),
                ms(sum, 50),
                ms(sum, 95),
                ms(sum, 99),
                fmt(sum.getMaxValue() / 1000.0),
                all ? "yes" : "NO",
                String.valueOf(dups)
            });
            log("latency n=" + n + ": p50=" + ms(sum, 50) + " p99=" + ms(sum, 99) + " max="
                    + fmt(sum.getMaxValue() / 1000.0));
            subs.forEach(SessionSubscriber::close);
            agents.forEach(DurableAgent::close);
            settle();
        }
        report.table(
                "Latency: append sent → event received by each subscriber (Java SDK clients)",
                List.of(
                        "subscribers",
                        "events",
                        "samples",
                        "offered appends/s",
                        "p50 ms",
                        "p95 ms",
                        "p99 ms",
                        "max ms",
                        "all delivered",
                        "duplicates dropped"),
                rows,
                "4 agents (DurableAgent, one WebSocket each) append 4 `custom` events per append (appendAll; all stamped with the "
                        + "append's send time; one append in flight per agent) paced to " + rate
                        + " appends/s in total (bounded to "
                        + (quick ? 8 : 60)
                        + " s per row: when the stack cannot keep up, 'offered appends/s' shows what it took and "
                        + "'events' is what was sent); the send time (System.nanoTime) rides in the event data and is compared with "
                        + "the time each subscriber (SessionSubscriber) applied it, in the same JVM. Includes the stream poll "
                        + "interval (20 ms locally; AWS polls ~4×/s per shard, so add up to ~250 ms there).");
    }

    // ------------------------------------------------------------------------------------ HTTP agent

    private void httpAgent() throws Exception {
        HttpAgentBench b = new HttpAgentBench(stack);
        int n = quick ? 100 : 500;
        settle();
        HttpAgentBench.AppendCost overWs = b.webSocketAppends(n);
        settle();
        HttpAgentBench.AppendCost overHttp = b.httpAppends(n);
        report.table(
                "HTTP agent: one streaming append (a text.delta of 8 tokens, with producer and run), sequential",
                HttpAgentBench.header(),
                List.of(HttpAgentBench.row(overWs), HttpAgentBench.row(overHttp)),
                "Capacity units as the embedded DynamoDB bills them (the same formulas as DynamoDB on-demand), for every "
                        + "request of the append, including the per-message checks. Latency is the client's round trip "
                        + "(the WebSocket's ack, the POST's answer). The HTTP answer also carries the run's state and pending "
                        + "control (a GetItem of the run, and a BatchGetItem when control is pending), which is what lets an "
                        + "agent without a socket obey a stop.");
        Random random = new Random(20261130L);
        List<HttpAgentBench.StopTrial> trials = new ArrayList<>();
        for (int i = 0; i < (quick ? 5 : 20); i++) trials.add(b.stopTrial(random));
        report.table(
                "HTTP agent: cancel → the agent knows (it posts every " + HttpAgentBench.POST_INTERVAL.toMillis()
                        + " ms and has no socket)",
                List.of(
                        "trials",
                        "p50 ms",
                        "p95 ms",
                        "max ms",
                        "most posts started after the stop was recorded, before it knew"),
                HttpAgentBench.stopRows(trials),
                "A user POSTs cancel at a random moment (seed 20261130); the agent learns from the answer to its own post: "
                        + "`run.stop_requested` in `control`, or 409 `RUN_FENCED`. Measured from the cancel being sent to that "
                        + "answer arriving. The last column counts the agent's posts that began after the cancel's own answer "
                        + "(the stop recorded): 1 means the first such post told it; 0 that the post already in flight did.");
    }

    // ------------------------------------------------------------------------------------ throughput

    private void throughput() throws Exception {
        Duration d = Duration.ofSeconds(quick ? 3 : 10);
        // warm-up (JIT), not recorded, until the rate stops climbing: run alone (--only=throughput) the section would
        // otherwise measure a cold JVM (8 writers: about 150 appends/s in the first 10 s, 5 times that after a minute)
        Duration step = Duration.ofSeconds(quick ? 2 : 5);
        int maxSteps = quick ? 3 : 18;
        warmUntilSteady(maxSteps, () -> throughputRun("warm-up", 1, 8, step).rate());
        List<String[]> rows = new ArrayList<>();
        rows.add(throughputRun("one session, 8 writers", 1, 8, d).row());
        rows.add(throughputRun(
                        quick ? "10 sessions, 1 writer each" : "100 sessions, 1 writer each", quick ? 10 : 100, 1, d)
                .row());
        report.table(
                "Throughput: sustained appends (1 event each, with producer), closed loop",
                List.of(
                        "scenario",
                        "seconds",
                        "appends acked",
                        "appends/s",
                        "ack p50 ms",
                        "ack p99 ms",
                        "retries (CONTENTION/INTERNAL/timeout)"),
                rows,
                "Every writer is a DurableAgent (its own WebSocket connection) with one append in flight, each call "
                        + "waiting for its ack (so one event per append); contention on one "
                        + "session's head is retried inside the store and, past its bound, by the writer with the same producer seq. "
                        + "The fan-out runs meanwhile (no subscribers). Measured after a warm-up of the first scenario in "
                        + step.toSeconds()
                        + " s steps, not recorded, until a step's rate was within 10 % of the one before "
                        + "(JIT; at most " + maxSteps * step.toSeconds()
                        + " s). 2 cores shared by the clients, the gateway, "
                        + "the handlers and the embedded DynamoDB.");
    }

    /** One warm-up step: runs it and returns its rate. */
    interface WarmUpStep {
        double run() throws Exception;
    }

    /**
     * Runs {@code step} until its rate is within 10 % of the step before (at most {@code maxSteps} times): the
     * JIT is warm before anything is recorded. The throughput section and every side-by-side column use it.
     */
    static void warmUntilSteady(int maxSteps, WarmUpStep step) throws Exception {
        double last = 0;
        for (int i = 0; i < maxSteps; i++) {
            double rate = step.run();
            if (last > 0 && rate < last * 1.1) return;
            last = rate;
        }
    }

    /** One closed-loop run: its table row and its rate (appends/s). */
    private record Throughput(String[] row, double rate) {}

    private Throughput throughputRun(String name, int sessions, int writersPerSession, Duration d) throws Exception {
        List<DurableAgent> writers = new ArrayList<>();
        for (int s = 0; s < sessions; s++) {
            String session = "tp-" + s + "-" + UUID.randomUUID();
            for (int w = 0; w < writersPerSession; w++)
                writers.add(SdkClients.agent(stack.webSocketUrl(), session, "w" + s + "-" + w)
                        .connect());
        }
        Histogram ack = new Histogram(3_600_000_000L, 3);
        AtomicLong acked = new AtomicLong();
        long deadline = System.nanoTime() + d.toNanos();
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (DurableAgent w : writers) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < deadline) {
                    long a = System.nanoTime();
                    if (!w.append(EventType.CUSTOM, Json.object().put("name", "tp"))
                            .join()) {
                        throw new IllegalStateException("append not stored");
                    }
                    long us = (System.nanoTime() - a) / 1000;
                    synchronized (ack) {
                        ack.recordValue(us);
                    }
                    acked.incrementAndGet();
                }
            }));
        }
        for (Thread t : threads) t.join();
        double secs = (System.nanoTime() - t0) / 1e9;
        long retries = writers.stream().mapToLong(DurableAgent::retries).sum();
        writers.forEach(DurableAgent::close);
        settle();
        log("throughput " + name + ": " + fmt(acked.get() / secs) + " appends/s");
        String[] row = {
            name,
            fmt(secs),
            String.valueOf(acked.get()),
            fmt(acked.get() / secs),
            ms(ack, 50),
            ms(ack, 99),
            String.valueOf(retries)
        };
        return new Throughput(row, acked.get() / secs);
    }

    // ------------------------------------------------------------------------------------ resume and hydrate

    private void resume() throws Exception {
        int replies = quick ? 10 : 100;
        int deltas = quick ? 100 : 1000;
        String session = "resume-" + UUID.randomUUID();
        long t0 = System.nanoTime();
        long head = seedReplies(session, replies, deltas);
        double seedSecs = (System.nanoTime() - t0) / 1e9;
        log("seeded " + head + " events in " + fmt(seedSecs) + " s");
        awaitTrue(Duration.ofMinutes(3), () -> stack.fanout().counters().recordsDelivered() > 0 && streamIdle());
        long[] behind = quick ? new long[] {1, 100, 1000} : new long[] {1, 1000, 100_000};
        List<String[]> rows = new ArrayList<>();
        for (long k : behind) {
            long after = Math.max(0, head - k);
            rows.add(catchUpRow("resume " + k + " behind", session, after, head));
        }
        rows.add(catchUpRow("full log read (afterSeq 0)", session, 0, head));
        // hydrate over the socket
        Stats stats = stack.dynamo().stats();
        settle();
        AtomicLong snapFrames = new AtomicLong();
        AtomicLong snapBytes = new AtomicLong();
        CompletableFuture<SessionState> snapshot = new CompletableFuture<>();
        stats.reset();
        long h0 = System.nanoTime();
        SessionSubscriber hydrator = SessionSubscriber.builder(stack.webSocketUrl(), session)
                .httpClient(SdkClients.HTTP)
                .connectQuery(() -> "token=" + EmbeddedStack.devToken("hydrator", "client"))
                .hydrate()
                .deliverInbound(f -> {
                    if ("snapshot".equals(f.path("type").asText())) {
                        snapFrames.incrementAndGet();
                        snapBytes.addAndGet(Json.write(f).getBytes(StandardCharsets.UTF_8).length);
                    }
                    return true;
                })
                .listener(new SessionSubscriber.Listener() {
                    @Override
                    public void onSnapshot(SessionState state) {
                        snapshot.complete(state);
                    }
                })
                .start();
        SessionState state = snapshot.get(60, TimeUnit.SECONDS);
        double hMs = (System.nanoTime() - h0) / 1e6;
        Stats.Snapshot s = stats.snapshot();
        hydrator.close();
        Hydration hyd = stack.services().sessions().hydrate(session);
        rows.add(new String[] {
            "hydrate (snapshot)",
            String.valueOf(state.headSeq()),
            fmt(hMs),
            hyd.itemsRead() + " items + " + hyd.eventsRead() + " events",
            String.valueOf(s.requests("Query")),
            String.valueOf(s.requests("GetItem")),
            fmt(sumRcu(s)),
            snapFrames.get() + " frames, " + fmt(snapBytes.get() / 1024.0) + " KiB"
        });
        report.table(
                "Resume and hydrate: a session of " + replies + " replies × " + deltas + " deltas (" + head
                        + " events)",
                List.of(
                        "read",
                        "events / headSeq",
                        "time to complete ms",
                        "rows read",
                        "Query requests",
                        "GetItem requests",
                        "RCU",
                        "frames received"),
                rows,
                "Time from starting a SessionSubscriber (it connects, then subscribes with afterSeq, or hydrate) until it "
                        + "applied the head (it subscribes again from its last seq when the server ends a catch-up with "
                        + "complete=false after " + Limits.MAX_CATCH_UP_EVENTS
                        + " events) or received "
                        + "the whole snapshot. RCU and requests from the embedded DynamoDB's meter, reset before each read; they "
                        + "include the connection's and the subscribe's connection-table writes/reads. The session was written directly through the store in "
                        + "appends of 64 events (" + fmt(seedSecs) + " s).");
    }

    private boolean streamIdle() {
        long a = stack.fanout().counters().recordsDelivered();
        sleep(500);
        return a == stack.fanout().counters().recordsDelivered();
    }

    private String[] catchUpRow(String name, String session, long after, long head) throws Exception {
        Stats stats = stack.dynamo().stats();
        AtomicLong frames = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        settle();
        stats.reset();
        long t0 = System.nanoTime();
        SessionSubscriber resumer = SessionSubscriber.builder(stack.webSocketUrl(), session)
                .httpClient(SdkClients.HTTP)
                .connectQuery(() -> "token=" + EmbeddedStack.devToken("resumer", "client"))
                .afterSeq(after)
                .deliverInbound(f -> {
                    if ("events".equals(f.path("type").asText())) {
                        frames.incrementAndGet();
                        bytes.addAndGet(Json.write(f).getBytes(StandardCharsets.UTF_8).length);
                    }
                    return true;
                })
                .start();
        resumer.awaitSeq(head, Duration.ofSeconds(120));
        double took = (System.nanoTime() - t0) / 1e6;
        Stats.Snapshot s = stats.snapshot();
        long reached = resumer.lastSeq();
        resumer.close();
        if (reached < head) report.problem(name + ": reached " + reached + " of " + head);
        log(name + ": " + fmt(took) + " ms, rcu " + fmt(sumRcu(s)));
        return new String[] {
            name,
            String.valueOf(head - after),
            fmt(took),
            (head - after) + " events",
            String.valueOf(s.requests("Query")),
            String.valueOf(s.requests("GetItem")),
            fmt(sumRcu(s)),
            frames.get() + " frames, " + fmt(bytes.get() / 1024.0) + " KiB"
        };
    }

    /** Writes replies straight through the store (64 events per append); returns the head. */
    private long seedReplies(String session, int replies, int deltas) throws Exception {
        var store = stack.services().sessions();
        long head = 0;
        for (int r = 0; r < replies; r++) {
            String run = "run-" + r;
            String msg = "m-" + r;
            List<EventInput> batch = new ArrayList<>();
            batch.add(EventInput.of(EventType.fromWire("run.started").orElseThrow(), run, Json.object()));
            batch.add(EventInput.of(
                    EventType.fromWire("message.start").orElseThrow(),
                    run,
                    Json.object().put("messageId", msg).put("role", "assistant")));
            for (int i = 0; i < deltas; i++) {
                batch.add(EventInput.of(
                        EventType.fromWire("text.delta").orElseThrow(),
                        run,
                        Json.object().put("messageId", msg).put("text", "word" + i + " and some more text ")));
                if (batch.size() == 64) {
                    head = appendSeed(store, session, batch);
                    batch = new ArrayList<>();
                }
            }
            batch.add(EventInput.of(
                    EventType.fromWire("message.end").orElseThrow(),
                    run,
                    Json.object().put("messageId", msg).put("reason", "complete")));
            batch.add(EventInput.of(EventType.fromWire("run.completed").orElseThrow(), run, Json.object()));
            if (batch.size() > 64) {
                head = appendSeed(store, session, batch.subList(0, 64));
                batch = new ArrayList<>(batch.subList(64, batch.size()));
            }
            head = appendSeed(store, session, batch);
        }
        return head;
    }

    private static long appendSeed(SessionStore store, String session, List<EventInput> batch) {
        var result = store.append(new AppendRequest(session, "seed-agent", null, List.copyOf(batch)));
        if (result instanceof AppendResult.Appended a) return a.lastSeq();
        throw new IllegalStateException("seed append refused: " + result);
    }

    /** Waits (up to 20 s) until nothing is written for a second: other work's writes must not count. */
    static void quiesce(Stats stats) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        double last = sumWcu(stats.snapshot());
        while (System.nanoTime() < deadline) {
            sleep(1000);
            double now = sumWcu(stats.snapshot());
            if (now == last) return;
            last = now;
        }
    }

    static double sumWcu(Stats.Snapshot s) {
        return s.writeCapacityUnitsByTable().values().stream()
                .mapToDouble(Double::doubleValue)
                .sum();
    }

    static double sumRcu(Stats.Snapshot s) {
        return s.readCapacityUnitsByTable().values().stream()
                .mapToDouble(Double::doubleValue)
                .sum();
    }

    // ------------------------------------------------------------------------------------ fan-out

    private void fanout() throws Exception {
        int n = quick ? 50 : 1000;
        int events = quick ? 10 : 20;
        String session = "fanout-" + UUID.randomUUID();
        DurableAgent agent =
                SdkClients.agent(stack.webSocketUrl(), session, "agent-f").connect();
        agent.append(EventType.CUSTOM, Json.object().put("name", "hello")).join();
        List<SessionSubscriber> subs = Collections.synchronizedList(new ArrayList<>());
        long[][] arrival = new long[n][events + 1];
        long c0 = System.nanoTime();
        Semaphore gate = new Semaphore(32);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int idx = i;
                fs.add(pool.submit(() -> {
                    gate.acquireUninterruptibly();
                    try {
                        CompletableFuture<Void> connected = new CompletableFuture<>();
                        subs.add(SdkClients.reader(
                                        stack.webSocketUrl(),
                                        session,
                                        "fan-" + idx,
                                        e -> {
                                            long now = System.nanoTime();
                                            String nm = e.data().path("name").asText("");
                                            if (nm.startsWith("e"))
                                                arrival[idx][Integer.parseInt(nm.substring(1))] = now;
                                            else if (nm.equals("hello")) arrival[idx][events] = now;
                                        },
                                        connected)
                                .start());
                        connected.get(60, TimeUnit.SECONDS);
                    } finally {
                        gate.release();
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
        }
        double connectSecs = (System.nanoTime() - c0) / 1e9;
        log("fan-out: " + n + " subscribers connected in " + fmt(connectSecs) + " s");
        awaitTrue(Duration.ofSeconds(30), () -> {
            for (long[] a : arrival) if (a[events] == 0) return false;
            return true;
        });
        long[] sentAt = new long[events + 1];
        Histogram allHave = new Histogram(3_600_000_000L, 3);
        Histogram each = new Histogram(3_600_000_000L, 3);
        long missing = 0;
        for (int e = 0; e < events; e++) {
            int k = e;
            sentAt[k] = System.nanoTime();
            agent.append(EventType.CUSTOM, Json.object().put("name", "e" + e)).join();
            awaitTrue(Duration.ofSeconds(60), () -> {
                for (long[] a : arrival) if (a[k] == 0) return false;
                return true;
            });
            long worst = 0;
            for (int i = 0; i < n; i++) {
                long a = arrival[i][k];
                if (a == 0) {
                    missing++;
                    continue;
                }
                long us = (a - sentAt[k]) / 1000;
                each.recordValue(Math.max(0, us));
                worst = Math.max(worst, us);
            }
            allHave.recordValue(worst);
        }
        long head = stack.services().sessions().head(session);
        awaitTrue(Duration.ofSeconds(30), () -> subs.stream().allMatch(r -> r.lastSeq() >= head));
        boolean allOk = missing == 0 && subs.size() == n && subs.stream().allMatch(r -> r.lastSeq() >= head);
        long dups =
                subs.stream().mapToLong(SessionSubscriber::duplicatesDropped).sum();
        long ooo =
                subs.stream().mapToLong(SessionSubscriber::outOfOrderArrivals).sum();
        WebSocketApiEmulator.Counters gw = stack.gateway().counters();
        subs.forEach(SessionSubscriber::close);
        agent.close();
        awaitTrue(Duration.ofSeconds(60), () -> stack.gateway().connectionIds().isEmpty());
        report.table(
                "Fan-out: one session, " + n + " connected subscribers, " + events + " events appended one at a time",
                List.of(
                        "subscribers",
                        "connect + subscribe all (s)",
                        "time until ALL have an event: p50 / max ms",
                        "per-subscriber delivery p50 / p99 / max ms",
                        "all got all events in order (client rule)",
                        "duplicates dropped",
                        "out-of-order arrivals"),
                List.<String[]>of(new String[] {
                    String.valueOf(n),
                    fmt(connectSecs),
                    ms(allHave, 50) + " / " + fmt(allHave.getMaxValue() / 1000.0),
                    ms(each, 50) + " / " + ms(each, 99) + " / " + fmt(each.getMaxValue() / 1000.0),
                    allOk ? "yes" : "NO",
                    String.valueOf(dups),
                    String.valueOf(ooo)
                }),
                "The subscribers are SessionSubscribers, the agent a DurableAgent. All = every subscriber applied the stored "
                        + "head (" + head + ", which includes the service's presence events) and every one of the "
                        + events
                        + " events arrived. "
                        + "Each event is appended after the previous one reached everybody; the time runs from sending the append "
                        + "to the arrival at the last subscriber. The fan-out Lambda posts to each connection through the "
                        + "management API (at most 256 posts in flight per invocation). Management calls so far: "
                        + gw.managementCallsByStatus() + ".");
        settle();
    }

    // ------------------------------------------------------------------------------------ peer

    private void peer() {
        if (quick && !only.contains("peer")) {
            log("peer: skipped (quick run; ./scripts/bench --quick --only=peer runs it)");
            return;
        }
        new PeerBench(quick).run(root, report);
    }

    // ------------------------------------------------------------------------------------ Lambda package

    private void lambdaPackage() throws Exception {
        Path jar;
        try (var files = Files.list(root.resolve("functions/target"))) {
            jar = files.filter(p -> p.getFileName().toString().matches("functions-.*-lambda\\.jar"))
                    .findFirst()
                    .orElseThrow(
                            () -> new IllegalStateException("no functions/target/functions-*-lambda.jar; build first"));
        }
        // work on a copy: other builds may rewrite functions/target while we measure
        Path copy = Files.createTempFile("functions-lambda-", ".jar");
        copy.toFile().deleteOnExit();
        Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
        long size = Files.size(copy);
        Path classes = Path.of(HandlerInit.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        List<String[]> rows = new ArrayList<>();
        int runs = quick ? 1 : 3;
        try (EmbeddedStack s = EmbeddedStack.start()) {
            for (String flags : quick
                    ? List.of("-XX:+TieredCompilation -XX:TieredStopAtLevel=1")
                    : List.of("", "-XX:+TieredCompilation -XX:TieredStopAtLevel=1")) {
                List<long[]> results = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    // a real agent connection registered by $connect; the child invokes the handler as it
                    Set<String> before = s.gateway().connectionIds();
                    DurableAgent agentWs = SdkClients.agent(s.webSocketUrl(), "init-" + UUID.randomUUID(), "init-agent")
                            .connect();
                    awaitTrue(
                            Duration.ofSeconds(5),
                            () -> s.gateway().connectionIds().stream().anyMatch(id -> !before.contains(id)));
                    String conn = s.gateway().connectionIds().stream()
                            .filter(id -> !before.contains(id))
                            .findFirst()
                            .orElseThrow();
                    List<String> cmd = new ArrayList<>();
                    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString());
                    if (!flags.isEmpty()) cmd.addAll(Arrays.asList(flags.split(" ")));
                    cmd.addAll(List.of(
                            "-cp",
                            copy + File.pathSeparator + classes,
                            HandlerInit.class.getName(),
                            s.dynamoEndpoint().toString(),
                            s.managementEndpoint().toString(),
                            conn,
                            "init-" + UUID.randomUUID()));
                    long p0 = System.nanoTime();
                    Process p =
                            new ProcessBuilder(cmd).redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes());
                    int rc = p.waitFor();
                    long wall = (System.nanoTime() - p0) / 1_000_000;
                    String line = out.lines()
                            .filter(l -> l.startsWith("main="))
                            .findFirst()
                            .orElse(null);
                    if (rc != 0 || line == null)
                        throw new IllegalStateException("handler init run failed (" + rc + "): " + out);
                    long[] v = new long[5];
                    for (String kv : line.split(" ")) {
                        String[] p2 = kv.split("=");
                        switch (p2[0]) {
                            case "main" -> v[0] = Long.parseLong(p2[1]);
                            case "constructed" -> v[1] = Long.parseLong(p2[1]);
                            case "firstInvocation" -> v[2] = Long.parseLong(p2[1]);
                            case "secondInvocationMs" -> v[3] = Long.parseLong(p2[1]);
                            default -> {}
                        }
                    }
                    v[4] = wall;
                    results.add(v);
                    agentWs.close();
                }
                long[] med = new long[5];
                for (int k = 0; k < 5; k++) {
                    int kk = k;
                    long[] col = results.stream().mapToLong(r -> r[kk]).sorted().toArray();
                    med[k] = col[col.length / 2];
                }
                rows.add(new String[] {
                    flags.isEmpty() ? "default JIT" : flags,
                    String.valueOf(med[0]),
                    String.valueOf(med[1]),
                    String.valueOf(med[2]),
                    String.valueOf(med[3]),
                    String.valueOf(med[4])
                });
            }
        }
        report.table(
                "Lambda package: " + jar.getFileName() + " = " + fmt(size / 1024.0 / 1024.0) + " MiB (" + size
                        + " bytes)",
                List.of(
                        "JVM flags",
                        "JVM start → main ms",
                        "→ AppendHandler constructed ms (without DynamoDB call)",
                        "→ first append invocation answered ms (with first DynamoDB calls)",
                        "second invocation ms",
                        "process wall ms (spawn → exit)"),
                rows,
                "Median of " + runs + " fresh JVMs (" + System.getProperty("java.vm.name") + " "
                        + System.getProperty("java.version")
                        + ") running only the shaded jar plus the tiny `bench.HandlerInit` class against a loopback embedded "
                        + "DynamoDB; the first invocation is a real append (GetItem connection, GetItem head/producer, "
                        + "TransactWriteItems). Lambda's java21 runtime is a different JVM build on other hardware, without "
                        + "SnapStart here; treat as relative figures.");
    }

    // ------------------------------------------------------------------------------------ helpers

    /** Lets in-flight handler/fan-out work finish before counters are read or reset. */
    private void settle() {
        sleep(300);
    }

    private static boolean awaitTrue(Duration timeout, BooleanSupplier cond) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (cond.getAsBoolean()) return true;
            sleep(5);
        }
        return cond.getAsBoolean();
    }

    /** Pacing for the measurements (a benchmark waits on purpose; tests wait on conditions). */
    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void log(String s) {
        System.out.println("[bench " + LocalTime.now().withNano(0) + "] " + s);
        System.out.flush();
    }

    static String fmt(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return String.valueOf(v);
        if (Math.abs(v) >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String dollars(double v) {
        return String.format(Locale.ROOT, "$%.4f", v);
    }

    static String ms(Histogram h, double p) {
        return fmt(h.getValueAtPercentile(p) / 1000.0);
    }

    static String pcts(Histogram h) {
        return ms(h, 50) + " / " + ms(h, 99) + " / " + fmt(h.getMaxValue() / 1000.0);
    }

    static String[] row(String name, Object a, Object b) {
        return new String[] {name, str(a), str(b)};
    }

    private static String str(Object o) {
        return o instanceof Double d ? fmt(d) : String.valueOf(o);
    }

    /** The tables, as markdown for stdout and docs/benchmarks.md. */
    static final class Report {
        record Table(String title, List<String> header, List<String[]> rows, String note) {}

        final List<Table> tables = new ArrayList<>();
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        double wallSeconds;
        /** The machine's 1-minute load average when the run began and ended: other work shares the cores. */
        double loadAtStart, loadAtEnd;

        void table(String title, List<String> header, List<String[]> rows, String note) {
            tables.add(new Table(title, header, rows, note));
            System.out.println(render(tables.get(tables.size() - 1)));
        }

        void problem(String p) {
            problems.add(p);
            log("PROBLEM: " + p);
        }

        /** The CPU's model name (/proc/cpuinfo), or the architecture where that is not readable. */
        static String cpuModel() {
            try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
                return lines.filter(l -> l.startsWith("model name"))
                        .map(l -> l.substring(l.indexOf(':') + 1).strip())
                        .findFirst()
                        .orElse(System.getProperty("os.arch"));
            } catch (IOException | RuntimeException e) {
                return System.getProperty("os.arch");
            }
        }

        static String render(Table t) {
            StringBuilder sb = new StringBuilder();
            sb.append("### ").append(t.title).append("\n\n");
            sb.append("| ").append(String.join(" | ", t.header)).append(" |\n");
            sb.append("|").append(" --- |".repeat(t.header.size())).append("\n");
            for (String[] r : t.rows)
                sb.append("| ").append(String.join(" | ", r)).append(" |\n");
            if (t.note != null) sb.append("\n").append(t.note).append("\n");
            return sb.toString();
        }

        String markdown(boolean quick, String args) {
            StringBuilder sb = new StringBuilder();
            sb.append("# Benchmarks\n\n");
            sb.append("Generated by `./scripts/bench")
                    .append(args.isBlank() ? "" : " " + args)
                    .append("` (")
                    .append(quick ? "quick mode: sanity sizes, not figures to quote" : "full run")
                    .append(").\n\n");
            sb.append("| | |\n| --- | --- |\n");
            sb.append("| date | ").append(LocalDate.now(ZoneOffset.UTC)).append(" |\n");
            sb.append("| machine | ")
                    .append(cpuModel())
                    .append(", ")
                    .append(Runtime.getRuntime().availableProcessors())
                    .append(" cores (nproc), ")
                    .append(Runtime.getRuntime().maxMemory() / (1024 * 1024))
                    .append(" MiB max heap, ")
                    .append(System.getProperty("os.name"))
                    .append(' ')
                    .append(System.getProperty("os.arch"))
                    .append(" |\n");
            sb.append("| JDK | ")
                    .append(System.getProperty("java.vm.name"))
                    .append(' ')
                    .append(System.getProperty("java.version"))
                    .append(" |\n");
            sb.append("| wall time | ").append(fmt(wallSeconds)).append(" s |\n");
            sb.append("| load average (1 min) at start / end | ")
                    .append(fmt(loadAtStart))
                    .append(" / ")
                    .append(fmt(loadAtEnd))
                    .append(
                            " (the machine is shared: other builds and tests ran meanwhile; above the core count, work waited for a core) |\n");
            sb.append(
                    "| traffic | loopback only (127.0.0.1); the whole stack (gateway emulator, handlers, embedded DynamoDB, stream poller) and all clients in one JVM |\n\n");
            if (!problems.isEmpty()) {
                sb.append("**Problems during the run:**\n\n");
                problems.forEach(p -> sb.append("- ").append(p).append('\n'));
                sb.append('\n');
            }
            for (Table t : tables) sb.append(render(t)).append('\n');
            sb.append(CHAOS_DOC);
            return sb.toString();
        }
    }

    static final String KEEP_BEGIN = "<!-- chaos-results:begin (kept when the benchmarks regenerate this file) -->";
    static final String KEEP_END = "<!-- chaos-results:end -->";

    static final String CHAOS_DOC = """
            ## Chaos / consistency suite

            `ChaosConsistencyTest` (JUnit, runs with `./scripts/test`) is a
            Jepsen-style checker on the embedded stack, driving the Java SDK as users run it. Agents are
            `DurableAgent`s (one producer each; a lost answer is sent again with the SAME producer seq, `INTERNAL`,
            `CONTENTION` and `RATE_LIMITED` are retried after the backoff or the service's `retryAfterMs`, a stop is
            acknowledged); subscribers are `SessionSubscriber`s (the protocol's client rule: drop seq ≤ last, hold
            gaps, re-subscribe with `afterSeq = last` when a gap stays open or after a reconnect; a ping finds a dead
            socket). A seeded fault injector meanwhile kills subscriber sockets, drops agent acks, stops and restarts
            the stream poller, makes the management API unavailable, delays fan-out and throttles DynamoDB writes (a
            second run injects DynamoDB transaction conflicts instead). A client cancels runs mid-stream
            (`SessionSubscriber.cancel`). At the end every subscriber's applied log must equal the stored log (0 lost,
            0 duplicated, 0 out of order), every acked append (the SDK's `onAppend` records) must be stored exactly
            once at its acked seqs, and every stop must be respected (no event of a fenced run after its stop, the
            same `stoppedAtSeq` for all). On a violation the test fails naming the seed.

            ```
            # CI mode (≥ 10,000 events, ~1–3 min per run)
            ./mvnw -q -B -o -pl local/lab test -Dtest='io.durablesessions.lab.chaos.**'
            # reproduce a failure / try another schedule
            ./mvnw -q -B -o -pl local/lab test -Dtest='io.durablesessions.lab.chaos.**' -Dchaos.seed=12345
            # long mode (≥ 100,000 events)
            ./mvnw -q -B -o -pl local/lab test -Dtest='io.durablesessions.lab.chaos.**' -Dchaos.long=true
            ```

            The seed is printed at the start and in every failure message; `-Dchaos.events=N` overrides the event count.
            The fault schedule is drawn from the seed; thread timing is not, so a seed reproduces the faults, not
            the exact interleaving.
            """;
}
