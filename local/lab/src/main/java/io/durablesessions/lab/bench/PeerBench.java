package io.durablesessions.lab.bench;

import io.durablesessions.local.EmbeddedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Side by side, in one run, with one method: our local stack (default timing), our local stack
 * with AWS-like timing ({@link EmbeddedStack.Timing#awsLike()}), and the Durable Streams reference
 * server ({@link PeerServer}) with its file store and in memory. Every figure comes from the same
 * code driving a {@link BenchTarget}: append → live reader latency for 1, 10 and 100 readers, append
 * ack latency, one producer's appends/s with 1 and with several appends in flight, 8 producers on one
 * stream, many streams. All columns are started and warmed up first; then each row is measured on
 * one column after the other while the others are paused, so the shared machine's load changes
 * affect all columns alike.
 *
 * <p>{@code ./scripts/bench --only=peer} runs it; a full run includes it. Where node or the peer
 * cannot be installed its columns say "skipped" and the reason is printed as {@code peer: skipped (why)}.
 */
final class PeerBench {
    /** How many appends one producer keeps in flight when pipelining: the peer's own client's default (maxInFlight 5). */
    static final int PIPELINE_DEPTH = 5;

    /** The workload, the same for every column. */
    record Sizes(
            int[] readerCounts,
            Duration latencyRun,
            int latencyRate,
            int latencyWriters,
            Duration throughputRun,
            int streams,
            Duration warmup) {
        static Sizes of(boolean quick) {
            return quick
                    ? new Sizes(
                            new int[] {1, 10},
                            Duration.ofSeconds(3),
                            20,
                            4,
                            Duration.ofSeconds(2),
                            10,
                            Duration.ofSeconds(1))
                    : new Sizes(
                            new int[] {1, 10, 100},
                            Duration.ofSeconds(20),
                            20,
                            4,
                            Duration.ofSeconds(10),
                            100,
                            Duration.ofSeconds(5));
        }
    }

    /** One column: a way to start a target, or why it cannot run. */
    interface Column {
        String label();

        BenchTarget start() throws PeerServer.Unavailable;
    }

    private static final int MAX_WARMUP_STEPS = 12;

    private final Sizes sizes;
    private final boolean quick;

    PeerBench(boolean quick) {
        this.quick = quick;
        this.sizes = Sizes.of(quick);
    }

    /** Measures every column in turn and adds the side-by-side table to {@code report}. */
    void run(Path root, Benchmarks.Report report) {
        List<Column> columns = new ArrayList<>();
        columns.add(ours("ours, local timing", EmbeddedStack.Timing.local(), true));
        columns.add(ours("ours, AWS-like timing", EmbeddedStack.Timing.awsLike(), true));
        // the same without direct delivery: every event waits for the stream's poll, as before it was built
        columns.add(ours("ours, AWS-like timing, Streams only", EmbeddedStack.Timing.awsLike(), false));
        String peerSkipped = null;
        PeerServer.Installed installed = null;
        try {
            installed = PeerServer.install(root);
        } catch (PeerServer.Unavailable e) {
            peerSkipped = e.getMessage();
        }
        PeerServer.Installed peer = installed;
        int firstPeer = columns.size();
        for (boolean fileStore : new boolean[] {true, false}) {
            columns.add(new Column() {
                @Override
                public String label() {
                    return "Durable Streams reference server" + (peer == null ? "" : " " + peer.version())
                            + (fileStore ? " (file store)" : " (in memory)");
                }

                @Override
                public BenchTarget start() throws PeerServer.Unavailable {
                    if (peer == null) throw new PeerServer.Unavailable("not installed");
                    return BenchTarget.peer(peer, fileStore);
                }
            });
        }

        Map<String, String> rowNames = rowNames();
        List<Map<String, String>> cells = new ArrayList<>();
        List<String> headers = new ArrayList<>();
        List<String> described = new ArrayList<>();
        List<BenchTarget> targets = new ArrayList<>(); // null where a column cannot run
        List<double[]> loads = new ArrayList<>(); // min, max load average seen when its cells began
        try {
            for (Column column : columns) {
                cells.add(new LinkedHashMap<>());
                headers.add(column.label());
                loads.add(new double[] {Double.MAX_VALUE, 0});
                if (columns.indexOf(column) >= firstPeer && peerSkipped != null) {
                    String line = "peer: skipped (" + peerSkipped + ")";
                    if (!described.contains(line)) { // once for both peer columns
                        Benchmarks.log(line);
                        described.add(line);
                    }
                    targets.add(null);
                    continue;
                }
                try {
                    BenchTarget t = column.start();
                    targets.add(t);
                    described.add(t.describe());
                    // warm-up, alone and not recorded: JIT, connection pools, the peer's first files
                    Benchmarks.log("peer section: warming up " + t.label());
                    latency(t, 10, false, sizes.warmup());
                    warmUp(t);
                    t.pause();
                } catch (PeerServer.Unavailable e) {
                    Benchmarks.log("peer: skipped (" + e.getMessage() + ")");
                    described.add("peer: skipped (" + e.getMessage() + ")");
                    if (peerSkipped == null) peerSkipped = e.getMessage();
                    targets.add(null);
                } catch (Exception | AssertionError e) {
                    report.problem("peer section, " + column.label() + ": " + e);
                    described.add(column.label() + " FAILED to start: " + e);
                    e.printStackTrace();
                    if (targets.size() < cells.size()) targets.add(null);
                }
            }
            // every scenario on every column in turn: a change in the shared machine's load hits all columns alike
            for (Scenario scenario : scenarios()) {
                for (int i = 0; i < targets.size(); i++) {
                    BenchTarget t = targets.get(i);
                    if (t == null) continue;
                    double load = loadAverage();
                    loads.get(i)[0] = Math.min(loads.get(i)[0], load);
                    loads.get(i)[1] = Math.max(loads.get(i)[1], load);
                    t.resume();
                    try {
                        Map<String, String> got = scenario.body().run(t);
                        cells.get(i).putAll(got);
                        Benchmarks.log(t.label() + ": " + scenario.name() + " " + got + " (load average " + load + ")");
                    } catch (Exception | AssertionError e) {
                        report.problem("peer section, " + t.label() + ", " + scenario.name() + ": " + e);
                        cells.get(i)
                                .put(scenario.key(), "failed: " + e.getClass().getSimpleName());
                        e.printStackTrace();
                    } finally {
                        t.pause();
                    }
                    pause();
                }
            }
        } finally {
            for (BenchTarget t : targets) {
                if (t != null) t.close();
            }
        }
        for (int i = 0; i < cells.size(); i++) {
            double[] l = loads.get(i);
            if (l[1] > 0) cells.get(i).put("load", Benchmarks.fmt(l[0]) + " – " + Benchmarks.fmt(l[1]));
        }

        List<String[]> rows = new ArrayList<>();
        boolean peerMissing = peerSkipped != null;
        rowNames.forEach((key, name) -> {
            String[] r = new String[columns.size() + 1];
            r[0] = name;
            for (int i = 0; i < columns.size(); i++)
                r[i + 1] = cells.get(i).getOrDefault(key, i >= firstPeer && peerMissing ? "skipped" : "—");
            rows.add(r);
        });
        List<String> header = new ArrayList<>();
        header.add("");
        header.addAll(headers);
        report.table(
                TITLE.substring(4)
                        + " our stack (local and AWS-like timing) and the Durable Streams reference server (file store, in memory), same run, same client code",
                header,
                rows,
                note(described));
    }

    private Map<String, String> rowNames() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int n : sizes.readerCounts()) {
            m.put("lat" + n, "append → live reader, " + n + (n == 1 ? " reader" : " readers") + ": p50 / p99 / max ms");
        }
        m.put("ack", "append ack (1-reader run): p50 / p99 ms");
        m.put("longpoll", "append → 1 reader over long-poll: p50 / p99 / max ms");
        m.put("t1", "one producer, 1 append in flight: appends/s (ack p50 / p99 ms)");
        m.put(
                "tk",
                "one producer, " + PIPELINE_DEPTH + " appends in flight: appends/s (ack p50 / p99 ms; gap retries)");
        m.put("t8", "8 producers, one stream: appends/s (ack p50 / p99 ms)");
        m.put("ts", sizes.streams() + " streams, 1 producer each: appends/s (ack p50 / p99 ms)");
        m.put("load", "load average (1 min) when this column's measurements began: lowest – highest");
        return m;
    }

    private String note(List<String> described) {
        return "One JVM run. Each row was measured on one column after the other, the idle columns paused meanwhile "
                + "(our stacks' stream pollers stopped), so load changes on the shared machine hit every column alike; each "
                + "column warmed up first (" + sizes.warmup().toSeconds() + " s with 10 readers, then 8 producers in "
                + sizes.warmup().toSeconds()
                + " s steps until a step's rate was within 10 % of the one before, at most " + MAX_WARMUP_STEPS
                + " steps; not recorded). All clients are Java in the bench's JVM: ours the SDK users run "
                + "(DurableAgent, SessionSubscriber), the peer's JDK HttpClient requests; each event is stamped with "
                + "System.nanoTime() just before it is handed to the producer, and a reader records when the event reached "
                + "it (SessionSubscriber's callback in seq order after the client rule; the SSE `data` event; the long-poll "
                + "response). Latency rows: " + sizes.latencyWriters() + " producers on one new "
                + "stream, 1 event per append, paced to " + sizes.latencyRate() + " appends/s in total for "
                + sizes.latencyRun().toSeconds()
                + " s (one append in flight per producer; a column that cannot keep up "
                + "says what rate it kept), HdrHistogram over every (event, reader) pair. Throughput rows: closed loop for "
                + sizes.throughputRun().toSeconds()
                + " s, 1 event per append, every producer idempotent (ours: the SDK's "
                + "`producer`; the peer: Producer-Id/Epoch/Seq). With " + PIPELINE_DEPTH
                + " appends in flight the peer "
                + "pipelines as its own client does (an append that overtakes an earlier one is refused, 409 with "
                + "Producer-Expected-Seq, and re-sent once the earlier ones are stored: the gap retries), and our SDK keeps "
                + "up to " + PIPELINE_DEPTH
                + " appends in flight as well (DurableAgent maxInFlight; the service holds an "
                + "append until its predecessors are stored), merging into one append what callers queued while every slot "
                + "was taken, so that row counts the callers' appends stored (events) per second. Our producers are one "
                + "WebSocket "
                + "connection each; the peer's share one HTTP client (one connection per request in flight). '—' = the "
                + "target has no "
                + "such mode. Columns: " + String.join("; ", described)
                + ". AWS-like timing = the Streams poll cadence "
                + "Lambda documents (4 polls a second per shard) plus an ASSUMED 10 ms per fan-out and per route invocation "
                + "(EmbeddedStack.Timing, DS_AWS_TIMING=1). Our first two columns run with direct delivery (on by default: "
                + "an append posts its events to the live subscribers right after its commit, while its writer is "
                + "answered by a post of its own, and the Streams fan-out delivers only what that missed), so the poll "
                + "cadence matters only for what a direct post missed; "
                + "the third turns it off (DIRECT_DELIVERY=false, CDK -c directDelivery=false): every event waits for the "
                + "stream's poll and the fan-out, as before direct delivery was built. "
                + "What the peer's figures depend on (its 0.3.7 source): with the file store every SSE wake-up of every "
                + "reader re-reads the stream's log file from its start and records the read as an access with a synchronous "
                + "LMDB write, on the server's single thread, so more readers slow its deliveries and its acks; the in-memory "
                + "column is the same server without that. It is the protocol's reference (development) server; the "
                + "project's production server is a separate Caddy plugin, not measured here. "
                + (quick ? "QUICK MODE: sanity sizes, not figures to quote. " : "")
                + "Measured on a shared 2-core machine other builds were using at the same time (see the load average row); "
                + "a single-threaded node process gets a smaller share of a crowded CPU than a many-threaded JVM: compare "
                + "the columns with each other and with that in mind, not with other machines.";
    }

    private static Column ours(String label, EmbeddedStack.Timing timing, boolean directDelivery) {
        return new Column() {
            @Override
            public String label() {
                return label + " ("
                        + (timing.isLocal()
                                ? "stream poll " + timing.streamPollInterval().toMillis() + " ms"
                                : "poll " + timing.streamPollInterval().toMillis() + " ms, +"
                                        + timing.fanoutInvokeOverhead().toMillis() + " ms per invocation")
                        + ")";
            }

            @Override
            public BenchTarget start() {
                return BenchTarget.ours(label, timing, directDelivery);
            }
        };
    }

    // ------------------------------------------------------------------------------------ one column

    /** One measurement on one column; its cells by row key (empty when the column has no such mode). */
    record Scenario(String key, String name, Body body) {
        interface Body {
            Map<String, String> run(BenchTarget target) throws Exception;
        }
    }

    private List<Scenario> scenarios() {
        List<Scenario> list = new ArrayList<>();
        for (int n : sizes.readerCounts()) {
            list.add(new Scenario("lat" + n, n + " readers", t -> {
                Latency l = latency(t, n, false, sizes.latencyRun());
                Map<String, String> m = new LinkedHashMap<>();
                m.put("lat" + n, l.cell());
                if (n == 1) m.put("ack", Benchmarks.ms(l.ack, 50) + " / " + Benchmarks.ms(l.ack, 99));
                return m;
            }));
        }
        list.add(new Scenario("longpoll", "1 long-poll reader", t -> {
            Latency l = latency(t, 1, true, sizes.latencyRun());
            return l == null ? Map.of() : Map.of("longpoll", l.cell());
        }));
        Duration d = sizes.throughputRun();
        list.add(new Scenario(
                "t1",
                "one producer",
                t -> Map.of("t1", closedLoop(t, 1, 1, 1, d).cell(false))));
        list.add(new Scenario(
                "tk",
                "one producer pipelined",
                t -> Map.of("tk", closedLoop(t, 1, 1, PIPELINE_DEPTH, d).cell(true))));
        list.add(new Scenario(
                "t8",
                "8 producers one stream",
                t -> Map.of("t8", closedLoop(t, 1, 8, 1, d).cell(false))));
        list.add(new Scenario(
                "ts",
                sizes.streams() + " streams",
                t -> Map.of("ts", closedLoop(t, sizes.streams(), 1, 1, d).cell(false))));
        return list;
    }

    /** Between scenarios: the previous one's closing connections (our $disconnect, presence) finish first. */
    private static void pause() {
        Benchmarks.sleep(1000);
    }

    record Latency(
            int readers,
            long sent,
            long samples,
            long expected,
            double offeredRate,
            int targetRate,
            Histogram delivery,
            Histogram ack) {
        String cell() {
            String s = Benchmarks.ms(delivery, 50) + " / " + Benchmarks.ms(delivery, 99) + " / "
                    + Benchmarks.fmt(delivery.getMaxValue() / 1000.0);
            if (offeredRate < targetRate * 0.95)
                s += " (kept up with " + Benchmarks.fmt(offeredRate) + " of " + targetRate + " appends/s)";
            return samples >= expected ? s : s + " (only " + samples + " of " + expected + " delivered)";
        }
    }

    /** Paced appends from several producers to one stream with {@code readers} live readers; null if the target has no long-poll. */
    private Latency latency(BenchTarget target, int readers, boolean longPoll, Duration run) throws Exception {
        String stream = target.createStream("lat" + readers);
        List<Histogram> hs = new ArrayList<>();
        List<AtomicLong> counts = new ArrayList<>();
        List<BenchTarget.Reader> rs = new ArrayList<>();
        List<BenchTarget.Producer> writers = new ArrayList<>();
        try {
            for (int i = 0; i < readers; i++) {
                Histogram h = new Histogram(3_600_000_000L, 3);
                AtomicLong n = new AtomicLong();
                BenchTarget.StampConsumer onEvent = (sent, arrived) -> {
                    synchronized (h) {
                        h.recordValue(Math.max(0, (arrived - sent) / 1000));
                    }
                    n.incrementAndGet();
                };
                BenchTarget.Reader r =
                        longPoll ? target.longPollReader(stream, onEvent) : target.reader(stream, onEvent);
                if (r == null) return null;
                hs.add(h);
                counts.add(n);
                rs.add(r);
            }
            CompletableFuture.allOf(rs.stream().map(BenchTarget.Reader::live).toArray(CompletableFuture[]::new))
                    .get(120, TimeUnit.SECONDS);
            Benchmarks.sleep(300); // a reader's request reached the server (long-poll) / its subscription settled
            for (int w = 0; w < sizes.latencyWriters(); w++)
                writers.add(target.producer(stream, "lat-w" + w + "-" + readers, 1));

            Histogram ack = new Histogram(3_600_000_000L, 3);
            AtomicLong sent = new AtomicLong();
            long interval = 1_000_000_000L * writers.size() / sizes.latencyRate();
            long t0 = System.nanoTime();
            long end = t0 + run.toNanos();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < writers.size(); w++) {
                BenchTarget.Producer p = writers.get(w);
                long offset = interval * w / writers.size();
                threads.add(Thread.ofPlatform().start(() -> {
                    for (long i = 0; ; i++) {
                        long due = t0 + offset + i * interval;
                        // a writer that fell behind does not catch up after the end: the offered rate shows it
                        if (due >= end || System.nanoTime() >= end) return;
                        long d;
                        while ((d = due - System.nanoTime()) > 0) LockSupport.parkNanos(d);
                        long stamp = System.nanoTime();
                        p.append(1, stamp);
                        long us = (System.nanoTime() - stamp) / 1000;
                        synchronized (ack) {
                            ack.recordValue(us);
                        }
                        sent.incrementAndGet();
                    }
                }));
            }
            for (Thread t : threads) t.join();
            long total = sent.get();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline && counts.stream().anyMatch(c -> c.get() < total)) Benchmarks.sleep(10);
            Histogram sum = new Histogram(3_600_000_000L, 3);
            for (Histogram h : hs) {
                synchronized (h) {
                    sum.add(h);
                }
            }
            return new Latency(
                    readers,
                    total,
                    sum.getTotalCount(),
                    total * readers,
                    total * 1e9 / run.toNanos(),
                    sizes.latencyRate(),
                    sum,
                    ack);
        } finally {
            rs.forEach(BenchTarget.Reader::close);
            writers.forEach(BenchTarget.Producer::close);
        }
    }

    record Throughput(long appends, double seconds, Histogram ack, long gaps, long retries) {
        String cell(boolean showGaps) {
            return Benchmarks.fmt(appends / seconds) + " (" + Benchmarks.ms(ack, 50) + " / " + Benchmarks.ms(ack, 99)
                    + (showGaps ? "; " + gaps : "") + ")" + (retries > 0 ? " [" + retries + " transient retries]" : "");
        }
    }

    /**
     * 8 producers on one stream in steps of {@link Sizes#warmup}, until a step's rate is within 10 % of the one
     * before (at most {@link #MAX_WARMUP_STEPS} steps): a JIT (ours, and node's) is warm before anything is recorded.
     */
    private void warmUp(BenchTarget t) throws Exception {
        Benchmarks.warmUntilSteady(MAX_WARMUP_STEPS, () -> {
            Throughput th = closedLoop(t, 1, 8, 1, sizes.warmup());
            return th.appends() / th.seconds();
        });
    }

    /** {@code streams} × {@code producersPerStream} producers, each with {@code inFlight} appends outstanding, for {@code run}. */
    private Throughput closedLoop(BenchTarget target, int streams, int producersPerStream, int inFlight, Duration run)
            throws Exception {
        List<BenchTarget.Producer> pipelines = new ArrayList<>();
        try {
            for (int s = 0; s < streams; s++) {
                String stream = target.createStream("tp" + s);
                for (int p = 0; p < producersPerStream; p++) {
                    pipelines.add(target.producer(stream, "tp-" + s + "-" + p + "-" + inFlight, inFlight));
                }
            }
            Histogram ack = new Histogram(3_600_000_000L, 3);
            AtomicLong acked = new AtomicLong();
            long t0 = System.nanoTime();
            long end = t0 + run.toNanos();
            List<Thread> threads = new ArrayList<>();
            for (BenchTarget.Producer p : pipelines) {
                for (int k = 0; k < inFlight; k++) {
                    threads.add(Thread.ofVirtual().start(() -> {
                        while (System.nanoTime() < end) {
                            long stamp = System.nanoTime();
                            p.append(1, stamp);
                            long us = (System.nanoTime() - stamp) / 1000;
                            synchronized (ack) {
                                ack.recordValue(us);
                            }
                            acked.incrementAndGet();
                        }
                    }));
                }
            }
            for (Thread t : threads) t.join();
            double seconds = (System.nanoTime() - t0) / 1e9;
            Throughput r = new Throughput(
                    acked.get(),
                    seconds,
                    ack,
                    pipelines.stream()
                            .mapToLong(BenchTarget.Producer::gapRetries)
                            .sum(),
                    pipelines.stream()
                            .mapToLong(BenchTarget.Producer::transientRetries)
                            .sum());
            Benchmarks.log(target.label() + ": " + streams + " streams × " + producersPerStream + " producers × "
                    + inFlight + " in flight: " + r.cell(true));
            return r;
        } finally {
            pipelines.forEach(BenchTarget.Producer::close);
        }
    }

    // ------------------------------------------------------------------------------------ docs/benchmarks.md

    static final String TITLE = "### Side by side:";

    /**
     * The side-by-side table of {@code fresh} (a new report) merged with {@code old} (the file as it was):
     * with {@code peerOnly} the old file is kept and only its side-by-side table replaced (or added before
     * the chaos section); otherwise a report without the table carries the old one over.
     */
    static String merge(String fresh, String old, boolean peerOnly) {
        String freshBlock = block(fresh);
        String oldBlock = block(old);
        if (peerOnly) {
            if (freshBlock == null) return old; // nothing measured: leave the file as it was
            String stamped = freshBlock.stripTrailing() + "\n\n(This table: `./scripts/bench --only=peer` on "
                    + LocalDate.now(ZoneOffset.UTC)
                    + "; the rest of the file is from its own run.)\n\n";
            return oldBlock != null ? old.replace(oldBlock, stamped) : insertBeforeChaos(old, stamped);
        }
        if (freshBlock == null && oldBlock != null) return insertBeforeChaos(fresh, oldBlock);
        return fresh;
    }

    /** From the side-by-side title to the next heading (exclusive), or null. */
    private static String block(String md) {
        int a = md.indexOf(TITLE);
        if (a < 0) return null;
        int z = md.length();
        for (String h : List.of("\n### ", "\n## ")) {
            int i = md.indexOf(h, a + TITLE.length());
            if (i >= 0) z = Math.min(z, i + 1);
        }
        return md.substring(a, z);
    }

    private static String insertBeforeChaos(String md, String block) {
        int i = md.indexOf("## Chaos / consistency suite");
        return i < 0 ? md + "\n" + block : md.substring(0, i) + block + md.substring(i);
    }

    /** The 1-minute load average (Linux), 0 where unknown. */
    /** The 1-minute load average of the machine (0 where /proc/loadavg is not there). */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (Exception e) {
            return 0;
        }
    }
}
