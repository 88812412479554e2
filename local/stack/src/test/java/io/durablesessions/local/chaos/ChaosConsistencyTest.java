package io.durablesessions.local.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.local.LocalStack;
import io.durablesessions.local.bench.BenchClient;
import io.durablesessions.local.bench.ClientRule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Jepsen-style consistency check of the whole local stack under faults. Agents append with
 * producers and retries; subscribers apply the client rule (docs/protocol.md §7); a seeded fault
 * injector kills subscriber sockets, drops agent acks, stops/restarts the stream poller, makes the
 * management API unavailable, delays fan-out and throttles DynamoDB writes; a client cancels runs
 * mid-stream. At the end every subscriber's applied log must equal the stored log, every acked
 * append must be stored exactly once where its ack said, and every stop must hold.
 *
 * <p>{@code -Dchaos.seed=N} picks the fault schedule (default printed), {@code -Dchaos.long=true}
 * runs ≥ 100,000 events instead of ≥ 10,000, {@code -Dchaos.events=N} sets the count exactly.
 */
class ChaosConsistencyTest {
    static final long DEFAULT_SEED = 20261129L;
    static final int AGENTS = 4;
    static final int SUBSCRIBERS = 3;
    /** The client rule's gap timeout (protocol §7: SHOULD be 2 s). */
    static final long GAP_TIMEOUT_MS = 2000;
    /** Event types the service writes itself (never in an agent's append). */
    static final java.util.Set<String> SERVICE_TYPES = java.util.Set.of("run.stop_requested", "run.stopped", "run.failed",
            "run.interrupted", "run.steered", "presence.joined", "presence.left");

    final long seed = Long.getLong("chaos.seed", DEFAULT_SEED);
    final boolean longMode = Boolean.getBoolean("chaos.long");
    final long targetEvents = Long.getLong("chaos.events", longMode ? 100_000 : 10_000);

    LocalStack stack;
    String session;
    final AtomicLong ackedEvents = new AtomicLong();
    final AtomicBoolean stopWriting = new AtomicBoolean();
    final AtomicBoolean stopAll = new AtomicBoolean();
    final Map<String, AtomicLong> faults = new ConcurrentHashMap<>();
    final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());

    void count(String fault) {
        faults.computeIfAbsent(fault, k -> new AtomicLong()).incrementAndGet();
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void underFaultsEverySubscriberEndsWithTheStoredLogExactlyOnceInOrderAndEveryStopHolds() throws Exception {
        System.out.printf("[chaos] seed=%d (-Dchaos.seed=%d to reproduce the fault schedule) target events=%d%s%n",
                seed, seed, targetEvents, longMode ? " (long mode)" : "");
        long t0 = System.nanoTime();
        stack = LocalStack.start();
        // load what the end of the test reads now (other builds may rewrite target/classes meanwhile)
        System.out.println("[chaos] start: " + stack.fanout().counters() + " " + stack.gateway().counters());
        session = "chaos-" + seed + "-" + Long.toHexString(System.nanoTime());
        List<Agent> agents = new ArrayList<>();
        List<Subscriber> subs = new ArrayList<>();
        BenchClient controller = null;
        try {
            for (int i = 0; i < SUBSCRIBERS; i++) subs.add(new Subscriber("sub-" + i));
            subs.forEach(Subscriber::start);
            for (int i = 0; i < AGENTS; i++) agents.add(new Agent("agent-" + i, new Random(seed * 31 + i)));
            agents.forEach(Agent::start);
            controller = BenchClient.connect(stack.webSocketUrl(), "ctl-1", "client", f -> {});
            Injector injector = new Injector(new Random(seed), agents, subs, controller);
            Thread inj = Thread.ofPlatform().name("chaos-injector").start(injector);

            for (Agent a : agents) a.thread.join(TimeUnit.MINUTES.toMillis(15));
            for (Agent a : agents) if (a.thread.isAlive()) violations.add(a.name + " did not finish writing");
            injector.stop = true;
            inj.join();
            injector.clearAll();
            double writeSecs = (System.nanoTime() - t0) / 1e9;

            long head = stack.services().sessions().head(session);
            long c0 = System.nanoTime();
            long deadline = c0 + Duration.ofSeconds(longMode ? 120 : 60).toNanos();
            while (System.nanoTime() < deadline && !subs.stream().allMatch(s -> s.rule.last() >= head)) Thread.sleep(50);
            double convergeSecs = (System.nanoTime() - c0) / 1e9;
            stopAll.set(true);
            for (Subscriber s : subs) s.thread.join(5000);

            List<String> stored = storedLog();
            check(stored, agents, subs, injector);

            System.out.printf("[chaos] seed=%d events stored=%d (agent appends acked=%d, events acked=%d) write phase %.1f s, "
                            + "convergence %.1f s, total %.1f s%n", seed, stored.size(),
                    agents.stream().mapToLong(a -> a.acks.size()).sum(), ackedEvents.get(), writeSecs, convergeSecs,
                    (System.nanoTime() - t0) / 1e9);
            System.out.println("[chaos] faults injected: " + new TreeMap<>(faults));
            System.out.printf("[chaos] agents: retries=%d duplicate acks=%d RUN_FENCED=%d runs=%d; cancels requested=%d accepted=%d%n",
                    agents.stream().mapToLong(a -> a.retries).sum(), agents.stream().mapToLong(a -> a.duplicateAcks).sum(),
                    agents.stream().mapToLong(a -> a.fenced).sum(), agents.stream().mapToLong(a -> a.runs).sum(),
                    injector.cancelsRequested, injector.cancelsAccepted);
            for (Subscriber s : subs) {
                System.out.printf("[chaos] %s: applied=%d reconnects=%d gap re-subscribes=%d subscribe retries=%d dead sockets=%d "
                                + "duplicates dropped=%d out-of-order arrivals=%d%n", s.name, s.rule.last(), s.reconnects,
                        s.gapResubscribes, s.subscribeRetries, s.deadSockets, s.rule.duplicatesDropped(), s.rule.outOfOrderReceived());
            }
            System.out.printf("[chaos] fan-out: %s; failed batches (on-failure destination): %d; management calls: %s%n",
                    stack.fanout().counters(), stack.failedBatches().size(), stack.gateway().counters().managementCallsByStatus());
            System.out.println("[chaos] result: " + (violations.isEmpty() ? "OK (0 lost, 0 duplicated, 0 out of order; "
                    + "every acked append exactly once; every stop respected)" : violations.size() + " VIOLATIONS"));
            violations.stream().limit(30).forEach(v -> System.out.println("[chaos] VIOLATION " + v));
            assertThat(violations).as("consistency violations with -Dchaos.seed=%d", seed).isEmpty();
            assertThat(ackedEvents.get()).as("events acked (seed %d)", seed).isGreaterThanOrEqualTo(targetEvents);
        } finally {
            stopWriting.set(true);
            stopAll.set(true);
            if (controller != null) controller.close();
            agents.forEach(a -> a.ws.close());
            subs.forEach(Subscriber::close);
            stack.close();
        }
    }

    // ---------------------------------------------------------------------------------------- checks

    List<String> storedLog() {
        List<String> all = new ArrayList<>();
        stack.services().sessions().forEachAfter(session, 0, e -> all.add(e.json()));
        return all;
    }

    void check(List<String> storedJson, List<Agent> agents, List<Subscriber> subs, Injector injector) {
        List<JsonNode> stored = storedJson.stream().map(j -> (JsonNode) Json.parseObject(j)).toList();
        for (int i = 0; i < stored.size(); i++) {
            if (stored.get(i).get("seq").asLong() != i + 1) {
                violations.add("stored log is not gapless at index " + i + ": seq " + stored.get(i).get("seq"));
                break;
            }
        }
        // 1. every subscriber applied exactly the stored log
        for (Subscriber s : subs) {
            List<String> applied = s.rule.applied();
            int n = Math.min(applied.size(), stored.size());
            int firstDiff = -1;
            for (int i = 0; i < n; i++) {
                if (!Json.parseObject(applied.get(i)).equals(stored.get(i))) {
                    firstDiff = i;
                    break;
                }
            }
            if (firstDiff >= 0) violations.add(s.name + ": applied event #" + (firstDiff + 1) + " differs from the stored one");
            if (applied.size() < stored.size()) {
                violations.add(s.name + ": LOST " + (stored.size() - applied.size()) + " events (applied up to seq "
                        + applied.size() + " of " + stored.size() + "; buffered " + s.rule.bufferedCount() + ")");
            }
            if (applied.size() > stored.size()) violations.add(s.name + ": applied MORE events than stored");
        }
        // 2. every acked append stored exactly once, at its acked seqs, and nothing else written by agents
        Map<String, Long> storedByAgent = new HashMap<>();
        for (JsonNode e : stored) {
            String type = e.get("type").asText();
            if (SERVICE_TYPES.contains(type)) continue; // written by the service, not by an agent's append
            storedByAgent.merge(e.get("agentId").asText(), 1L, Long::sum);
        }
        for (Agent a : agents) {
            long events = 0;
            for (Map.Entry<Long, Ack> entry : a.acks.entrySet()) {
                Ack ack = entry.getValue();
                events += ack.events.size();
                if (ack.firstSeq == null) {
                    violations.add(a.name + ": producer seq " + entry.getKey() + " acked without seqs");
                    continue;
                }
                if (ack.lastSeq - ack.firstSeq + 1 != ack.events.size()) {
                    violations.add(a.name + ": ack of producer seq " + entry.getKey() + " names " + ack.firstSeq + ".."
                            + ack.lastSeq + " for " + ack.events.size() + " events");
                    continue;
                }
                for (int i = 0; i < ack.events.size(); i++) {
                    long seq = ack.firstSeq + i;
                    if (seq > stored.size()) {
                        violations.add(a.name + ": acked seq " + seq + " is not stored");
                        break;
                    }
                    JsonNode e = stored.get((int) seq - 1);
                    JsonNode sent = ack.events.get(i);
                    if (!e.get("agentId").asText().equals(a.name) || !e.get("type").equals(sent.get("type"))
                            || !e.get("data").equals(sent.get("data"))) {
                        violations.add(a.name + ": stored event " + seq + " is not what producer seq " + entry.getKey()
                                + " appended: " + e);
                        break;
                    }
                }
            }
            long storedCount = storedByAgent.getOrDefault(a.name, 0L);
            if (storedCount != events) {
                violations.add(a.name + ": " + storedCount + " events stored under its name but " + events
                        + " acked (an append stored twice, or an unacked one stored)");
            }
        }
        // 3. every fence holds: nothing of a run after its stop/completion/failure, stoppedAtSeq = the run's last event
        Map<String, Long> lastOfRun = new HashMap<>();
        Map<String, String> fencedBy = new HashMap<>();
        Map<String, Long> stoppedAt = new HashMap<>();
        for (JsonNode e : stored) {
            String run = e.path("runId").asText(null);
            if (run == null) continue;
            String type = e.get("type").asText();
            long seq = e.get("seq").asLong();
            String fence = fencedBy.get(run);
            if (fence != null) {
                boolean allowed = fence.equals("run.stop_requested")
                        && (type.equals("run.stop_acknowledged") || type.equals("run.stopped") || type.equals("run.failed"));
                if (!allowed) violations.add("run " + run + ": " + type + " at seq " + seq + " after its " + fence);
                if (allowed) fencedBy.put(run, type);
                continue;
            }
            if (type.equals("run.stop_requested")) {
                long said = e.path("data").path("stoppedAtSeq").asLong(-1);
                long actual = lastOfRun.getOrDefault(run, -1L);
                if (said != actual) violations.add("run " + run + ": stoppedAtSeq " + said + " but its last event was " + actual);
                stoppedAt.put(run, said);
                fencedBy.put(run, type);
            } else if (type.equals("run.completed") || type.equals("run.failed") || type.equals("run.stopped")) {
                fencedBy.put(run, type);
            }
            lastOfRun.put(run, seq);
        }
        // every subscriber saw the same stoppedAtSeq for every stop
        for (Subscriber s : subs) {
            Map<String, Long> seen = new HashMap<>();
            for (String j : s.rule.applied()) {
                JsonNode e = Json.parseObject(j);
                if (e.get("type").asText().equals("run.stop_requested")) {
                    seen.put(e.get("runId").asText(), e.path("data").path("stoppedAtSeq").asLong());
                }
            }
            if (!seen.equals(stoppedAt)) violations.add(s.name + ": saw stops " + seen + " but the log has " + stoppedAt);
        }
        if (injector.cancelsAccepted == 0) violations.add("no cancel was accepted: the stop check did not run");
        if (stoppedAt.size() != injector.cancelsAccepted) {
            violations.add(injector.cancelsAccepted + " cancels acked but " + stoppedAt.size() + " stops in the log");
        }
    }

    // ---------------------------------------------------------------------------------------- agents

    record Ack(Long firstSeq, Long lastSeq, List<ObjectNode> events) {}

    enum Outcome { ACKED, FENCED }

    final class Agent implements Runnable {
        final String name;
        final Random rnd;
        volatile BenchClient ws;
        long pseq;
        final Map<Long, Ack> acks = new ConcurrentHashMap<>();
        final AtomicLong dropAcks = new AtomicLong();
        volatile String currentRun;
        long retries, duplicateAcks, fenced, runs;
        Thread thread;

        Agent(String name, Random rnd) {
            this.name = name;
            this.rnd = rnd;
            this.ws = connect();
        }

        BenchClient connect() {
            for (int i = 0; ; i++) {
                try {
                    return BenchClient.connect(stack.webSocketUrl(), name, "agent", f -> {});
                } catch (RuntimeException e) {
                    if (i > 100) throw e;
                    sleep(100);
                }
            }
        }

        void start() {
            thread = Thread.ofPlatform().name(name).start(this);
        }

        @Override
        public void run() {
            try {
                int k = 0;
                while (!stopWriting.get()) {
                    String runId = name + "-r" + k;
                    String msg = name + "-m" + k;
                    k++;
                    runs++;
                    currentRun = runId;
                    if (append(runId, List.of(ev("run.started", Json.object()),
                            ev("message.start", Json.object().put("messageId", msg).put("role", "assistant")))) != Outcome.ACKED) {
                        continue;
                    }
                    int deltas = 40 + rnd.nextInt(120);
                    boolean stopped = false;
                    for (int d = 0; d < deltas && !stopped; ) {
                        int n = Math.min(deltas - d, 1 + rnd.nextInt(10));
                        List<ObjectNode> evs = new ArrayList<>();
                        for (int i = 0; i < n; i++) {
                            evs.add(ev("text.delta", Json.object().put("messageId", msg).put("text", name + "/" + pseq + "/" + i + " ")));
                        }
                        if (append(runId, evs) == Outcome.FENCED) stopped = true;
                        d += n;
                    }
                    if (stopped) {
                        // acknowledge the stop (protocol §6); refused if the service already stopped it: fine
                        append(runId, List.of(ev("run.stop_acknowledged", Json.object())));
                        continue;
                    }
                    if (append(runId, List.of(ev("message.end", Json.object().put("messageId", msg).put("reason", "complete")),
                            ev("run.completed", Json.object()))) == Outcome.FENCED) {
                        append(runId, List.of(ev("run.stop_acknowledged", Json.object())));
                    }
                    if (ackedEvents.get() >= targetEvents) stopWriting.set(true);
                }
            } catch (Throwable t) {
                violations.add(name + " crashed: " + t);
                t.printStackTrace();
            } finally {
                currentRun = null;
            }
        }

        /** One append, retried with the same producer seq until it is acked or definitely refused. */
        Outcome append(String runId, List<ObjectNode> events) {
            long seq = pseq;
            for (int attempt = 0; ; attempt++) {
                if (attempt > 2000) throw new IllegalStateException(name + ": producer seq " + seq + " never resolved");
                if (!ws.isOpen()) {
                    ws = connect();
                }
                ObjectNode f = Json.object().put("action", "append").put("sessionId", session).put("runId", runId);
                f.putObject("producer").put("id", name + "-p").put("epoch", 0).put("seq", seq);
                ArrayNode arr = f.putArray("events");
                events.forEach(arr::add);
                JsonNode answer;
                try {
                    answer = ws.request(f).get(3, TimeUnit.SECONDS).json();
                } catch (Exception timeoutOrClosed) {
                    retries++;
                    count("agent timeout/closed (retried)");
                    continue;
                }
                if (dropAcks.get() > 0 && dropAcks.decrementAndGet() >= 0) {
                    count("agent ack dropped");
                    retries++;
                    continue; // as if the answer never came: send the same producer seq again
                }
                String type = answer.path("type").asText();
                if (type.equals("ack")) {
                    boolean dup = answer.path("duplicate").asBoolean();
                    if (dup) duplicateAcks++;
                    Long first = answer.has("firstSeq") ? answer.get("firstSeq").asLong() : null;
                    Long last = answer.has("lastSeq") ? answer.get("lastSeq").asLong() : null;
                    Ack prev = acks.putIfAbsent(seq, new Ack(first, last, events));
                    if (prev != null) violations.add(name + ": producer seq " + seq + " acked twice as new");
                    pseq = seq + 1;
                    ackedEvents.addAndGet(events.size());
                    return Outcome.ACKED;
                }
                String code = answer.path("code").asText();
                switch (code) {
                    case "CONTENTION", "INTERNAL", "RATE_LIMITED" -> {
                        retries++;
                        count("agent " + code + " (retried)");
                        sleep(5 + rnd.nextInt(20));
                    }
                    case "RUN_FENCED" -> {
                        fenced++;
                        return Outcome.FENCED;
                    }
                    case "INVALID_TRANSITION" -> {
                        // expected only for a stop acknowledgement the service's own run.stopped beat
                        if (!events.get(0).path("type").asText().equals("run.stop_acknowledged")) {
                            violations.add(name + ": INVALID_TRANSITION for producer seq " + seq + ": " + answer);
                        }
                        return Outcome.FENCED;
                    }
                    default -> {
                        if (answer.has("message") && !answer.has("code")) {
                            // API Gateway's own "Internal server error" frame: the handler failed, retry
                            retries++;
                            count("agent gateway error (retried)");
                            sleep(10);
                            continue;
                        }
                        throw new IllegalStateException(name + ": unexpected answer to producer seq " + seq + ": " + answer);
                    }
                }
            }
        }
    }

    static ObjectNode ev(String type, ObjectNode data) {
        ObjectNode e = Json.object().put("type", type);
        e.set("data", data);
        return e;
    }

    // ---------------------------------------------------------------------------------------- subscribers

    final class Subscriber implements Runnable {
        final String name;
        final ClientRule rule = new ClientRule(0, true, null);
        volatile BenchClient ws;
        volatile CompletableFuture<BenchClient.Frame> pendingSubscribe;
        volatile boolean resubscribe;
        long reconnects, gapResubscribes, subscribeRetries, deadSockets;
        volatile long lastFrameNanos = System.nanoTime();
        volatile CompletableFuture<BenchClient.Frame> pendingPing;
        Thread thread;

        Subscriber(String name) {
            this.name = name;
        }

        void start() {
            thread = Thread.ofPlatform().name(name).start(this);
        }

        @Override
        public void run() {
            boolean first = true;
            while (!stopAll.get()) {
                try {
                    BenchClient c = ws;
                    if (c == null || !c.isOpen()) {
                        if (!first) reconnects++;
                        first = false;
                        c = BenchClient.connect(stack.webSocketUrl(), name, "client", f -> {
                            lastFrameNanos = System.nanoTime();
                            if ("events".equals(f.type())) rule.offerFrame(f.json(), f.receivedNanos());
                        });
                        ws = c;
                        lastFrameNanos = System.nanoTime();
                        pendingPing = null;
                        subscribe(c);
                        continue;
                    } else if (resubscribe) {
                        subscribeRetries++;
                        subscribe(c);
                    } else if (rule.gapOpenMillis() > GAP_TIMEOUT_MS) {
                        gapResubscribes++;
                        rule.restartGapClock();
                        subscribe(c);
                    }
                    // keepalive: a socket that is silent for 2 s gets a ping; no pong in 3 s = dead, reconnect
                    CompletableFuture<BenchClient.Frame> ping = pendingPing;
                    if (ping == null && System.nanoTime() - lastFrameNanos > 2_000_000_000L) {
                        pendingPing = c.request(Json.object().put("action", "ping")).orTimeout(3, TimeUnit.SECONDS);
                    } else if (ping != null && ping.isDone()) {
                        pendingPing = null;
                        if (ping.isCompletedExceptionally()) {
                            deadSockets++;
                            count("subscriber socket found dead by ping");
                            c.abort();
                            continue;
                        }
                        lastFrameNanos = System.nanoTime();
                    }
                    CompletableFuture<BenchClient.Frame> p = pendingSubscribe;
                    if (p != null && p.isDone()) {
                        pendingSubscribe = null;
                        BenchClient.Frame answer = p.isCompletedExceptionally() ? null : p.join();
                        if (answer == null || !"subscribed".equals(answer.type())
                                || !answer.json().path("complete").asBoolean(true)) {
                            resubscribe = true;
                        }
                    }
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // connect refused (e.g. $connect's write throttled): try again
                    sleep(100);
                }
            }
        }

        void subscribe(BenchClient c) {
            resubscribe = false;
            CompletableFuture<BenchClient.Frame> f = c.request(BenchClient.subscribe(session, rule.last()))
                    .orTimeout(15, TimeUnit.SECONDS);
            pendingSubscribe = f;
        }

        void close() {
            BenchClient c = ws;
            if (c != null) c.close();
        }
    }

    // ---------------------------------------------------------------------------------------- faults

    final class Injector implements Runnable {
        final Random rnd;
        final List<Agent> agents;
        final List<Subscriber> subs;
        final BenchClient controller;
        volatile boolean stop;
        int cancelsRequested, cancelsAccepted;

        Injector(Random rnd, List<Agent> agents, List<Subscriber> subs, BenchClient controller) {
            this.rnd = rnd;
            this.agents = agents;
            this.subs = subs;
            this.controller = controller;
        }

        @Override
        public void run() {
            // cancel a run at these fractions of the target: at least one per test
            double[] cancelAt = {0.2, 0.45, 0.7, 0.9};
            int nextCancel = 0;
            while (!stop && !stopWriting.get()) {
                sleep(100 + rnd.nextInt(400));
                if (nextCancel < cancelAt.length && ackedEvents.get() >= cancelAt[nextCancel] * targetEvents) {
                    nextCancel++;
                    cancel(agents.get(rnd.nextInt(agents.size())));
                    continue;
                }
                int which = rnd.nextInt(6);
                switch (which) {
                    case 0 -> killSubscriber(subs.get(rnd.nextInt(subs.size())));
                    case 1 -> {
                        agents.get(rnd.nextInt(agents.size())).dropAcks.addAndGet(1 + rnd.nextInt(3));
                        count("drop-acks order");
                    }
                    case 2 -> {
                        count("stream poller killed+restarted");
                        stack.fanout().stop();
                        sleep(100 + rnd.nextInt(700));
                        stack.fanout().start();
                    }
                    case 3 -> {
                        count("management API unavailable");
                        stack.gateway().setManagementApiAvailable(false);
                        sleep(100 + rnd.nextInt(rnd.nextInt(4) == 0 ? 3000 : 600));
                        stack.gateway().setManagementApiAvailable(true);
                    }
                    case 4 -> {
                        count("fan-out delayed");
                        stack.fanout().setInvocationDelay(Duration.ofMillis(20 + rnd.nextInt(200)));
                        sleep(300 + rnd.nextInt(1200));
                        stack.fanout().setInvocationDelay(Duration.ZERO);
                    }
                    default -> {
                        count("DynamoDB writes throttled");
                        stack.dynamo().faults().throttleWrites(0.05 + rnd.nextDouble() * (rnd.nextInt(3) == 0 ? 0.9 : 0.3), rnd.nextLong());
                        sleep(200 + rnd.nextInt(600));
                        stack.dynamo().faults().throttleWrites(0, 0);
                    }
                }
            }
        }

        void cancel(Agent a) {
            String run = a.currentRun;
            if (run == null) return;
            cancelsRequested++;
            count("cancel");
            for (int attempt = 0; attempt < 20; attempt++) {
                try {
                    ObjectNode f = Json.object().put("action", "control").put("sessionId", session).put("runId", run)
                            .put("command", "cancel");
                    JsonNode answer = controller.request(f).get(30, TimeUnit.SECONDS).json();
                    String type = answer.path("type").asText();
                    if (type.equals("ack")) {
                        cancelsAccepted++;
                        return;
                    }
                    String code = answer.path("code").asText();
                    if (code.equals("RUN_FENCED") || code.equals("RUN_NOT_FOUND")) return; // it ended first
                    sleep(50); // INTERNAL / CONTENTION: the stop was not written; try again
                } catch (Exception e) {
                    // timeout: the stop may or may not be written; the count check below tolerates neither
                    violations.add("cancel of " + run + " got no answer: " + e);
                    return;
                }
            }
        }

        void killSubscriber(Subscriber s) {
            for (String id : stack.gateway().connectionIds()) {
                var c = stack.services().connections().get(id);
                if (c != null && s.name.equals(c.principal())) {
                    BenchClient client = s.ws;
                    if (stack.gateway().killConnection(id)) {
                        count("subscriber socket killed");
                        // diagnosis: does the client see the cut, and is the server side gone?
                        Thread.ofVirtual().start(() -> {
                            sleep(1500);
                            if (client != null && client == s.ws && client.isOpen()) {
                                count("kill NOT observed by the client after 1.5 s (server still lists it: "
                                        + stack.gateway().connectionIds().contains(id) + ")");
                            }
                        });
                    }
                    return;
                }
            }
        }

        void clearAll() {
            stack.dynamo().faults().throttleWrites(0, 0);
            stack.gateway().setManagementApiAvailable(true);
            stack.fanout().setInvocationDelay(Duration.ZERO);
            if (!stack.fanout().isRunning()) stack.fanout().start();
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
