package io.durablesessions.lab.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.client.AppendRecord;
import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.DurableSessionException;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.lab.bench.SdkClients;
import io.durablesessions.local.EmbeddedStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Jepsen-style consistency check of the whole embedded stack under faults, driving the Java SDK as
 * users run it: agents are {@link DurableAgent}s (one producer each, retries with the same producer
 * seq, the stop's acknowledgement), subscribers {@link SessionSubscriber}s (the client rule of
 * docs/protocol.md §7, reconnects, gap re-subscribes, a ping that finds a dead socket). A seeded
 * fault injector kills subscriber sockets, drops agent acks, stops/restarts the stream poller, makes
 * the management API unavailable, delays fan-out and throttles DynamoDB writes; a client cancels runs
 * mid-stream (SessionSubscriber.cancel). At the end every subscriber's applied log must equal the
 * stored log, every acked append (DurableAgent's onAppend records) must be stored exactly once where
 * its ack said, and every stop must hold.
 *
 * <p>It runs twice: once as above, and once with DynamoDB's transaction conflicts injected all
 * along (20 % of the requests on an item a transaction held in the last 20 ms, in bursts 60 %)
 * instead of throttling; then no client may ever get INTERNAL, and no route may fail.
 *
 * <p>{@code -Dchaos.seed=N} picks the fault schedule (default printed), {@code -Dchaos.long=true}
 * runs ≥ 100,000 events instead of ≥ 10,000, {@code -Dchaos.events=N} sets the count exactly.
 */
@WithTestStack
class ChaosConsistencyTest {
    static final long DEFAULT_SEED = 20261129L;
    static final int AGENTS = 4;
    static final int SUBSCRIBERS = 3;
    /** Event types the service writes itself (never in an agent's append). */
    static final java.util.Set<String> SERVICE_TYPES = java.util.Set.of(
            "run.stop_requested",
            "run.stopped",
            "run.failed",
            "run.interrupted",
            "run.steered",
            "presence.joined",
            "presence.left");

    final long seed = Long.getLong("chaos.seed", DEFAULT_SEED);
    final boolean longMode = Boolean.getBoolean("chaos.long");
    final long targetEvents = Long.getLong("chaos.events", longMode ? 100_000 : 10_000);

    final EmbeddedStack stack;
    String session;
    final AtomicLong ackedEvents = new AtomicLong();
    final AtomicBoolean stopWriting = new AtomicBoolean();
    final Map<String, AtomicLong> faults = new ConcurrentHashMap<>();
    final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());

    ChaosConsistencyTest(EmbeddedStack stack) {
        this.stack = stack;
    }

    void count(String fault) {
        faults.computeIfAbsent(fault, k -> new AtomicLong()).incrementAndGet();
    }

    /** Conflicts between the writes and in-flight transactions, the way DynamoDB raises them. */
    boolean conflicts;

    static final double CONFLICTS = 0.2, CONFLICT_BURST = 0.6;
    static final Duration CONFLICT_HOLD = Duration.ofMillis(20);

    @ParameterizedTest(name = "transaction conflicts: {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void underFaultsEverySubscriberEndsWithTheStoredLogExactlyOnceInOrderAndEveryStopHolds(boolean withConflicts)
            throws Exception {
        conflicts = withConflicts;
        System.out.printf(
                "[chaos] seed=%d (-Dchaos.seed=%d to reproduce the fault schedule) target events=%d%s%s%n",
                seed,
                seed,
                targetEvents,
                longMode ? " (long mode)" : "",
                conflicts ? " with transaction conflicts" : "");
        long t0 = System.nanoTime();
        if (conflicts) stack.dynamo().faults().transactionConflicts(CONFLICTS, CONFLICT_HOLD, seed);
        long integrationErrors0 = stack.gateway().counters().integrationErrors();
        // load what the end of the test reads now (other builds may rewrite target/classes meanwhile)
        System.out.println("[chaos] start: " + stack.fanout().counters() + " "
                + stack.gateway().counters());
        session = "chaos-" + seed + "-" + Long.toHexString(System.nanoTime());
        List<Agent> agents = new ArrayList<>();
        List<Subscriber> subs = new ArrayList<>();
        SessionSubscriber controller = null;
        try {
            for (int i = 0; i < SUBSCRIBERS; i++) subs.add(new Subscriber("sub-" + i));
            for (int i = 0; i < AGENTS; i++) agents.add(new Agent("agent-" + i, new Random(seed * 31 + i)));
            agents.forEach(Agent::start);
            controller = SdkClients.reader(stack.webSocketUrl(), session, "ctl-1", e -> {}, new CompletableFuture<>())
                    .start();
            Injector injector = new Injector(new Random(seed), agents, subs, controller);
            Thread inj = Thread.ofPlatform().name("chaos-injector").start(injector);

            for (Agent a : agents) a.thread.join(TimeUnit.MINUTES.toMillis(15));
            for (Agent a : agents) if (a.thread.isAlive()) violations.add(a.name + " did not finish writing");
            injector.stop = true;
            inj.join();
            injector.clearAll();
            for (Agent a : agents) a.agent.flush();
            double writeSecs = (System.nanoTime() - t0) / 1e9;

            long head = stack.services().sessions().head(session);
            long c0 = System.nanoTime();
            long deadline = c0 + Duration.ofSeconds(longMode ? 120 : 60).toNanos();
            while (System.nanoTime() < deadline && !subs.stream().allMatch(s -> s.reader.lastSeq() >= head))
                Thread.sleep(50);
            double convergeSecs = (System.nanoTime() - c0) / 1e9;
            // close the sockets before reading the log: the service may append more (a presence leave found
            // by the sweeper), and a subscriber that applied it after the read would look ahead of the log
            for (Subscriber s : subs) s.reader.close();
            for (Agent a : agents) a.agent.close();

            List<String> stored = storedLog();
            check(stored, agents, subs, injector);

            System.out.printf(
                    "[chaos] seed=%d events stored=%d (agent appends acked=%d, events acked=%d) write phase %.1f s, "
                            + "convergence %.1f s, total %.1f s%n",
                    seed,
                    stored.size(),
                    agents.stream().mapToLong(a -> a.stored().size()).sum(),
                    ackedEvents.get(),
                    writeSecs,
                    convergeSecs,
                    (System.nanoTime() - t0) / 1e9);
            System.out.println("[chaos] faults injected: " + new TreeMap<>(faults));
            if (conflicts) {
                System.out.printf(
                        "[chaos] transaction conflicts injected: %d TransactionConflictException, %d transactions "
                                + "cancelled with TransactionConflict%n",
                        stack.dynamo().faults().transactionConflictExceptions(),
                        stack.dynamo().faults().transactionConflictCancellations());
            }
            System.out.printf(
                    "[chaos] agents (DurableAgent): appends acked=%d retries=%d duplicate acks=%d RUN_FENCED=%d runs=%d; "
                            + "cancels requested=%d accepted=%d%n",
                    agents.stream().mapToLong(a -> a.agent.appendsAcked()).sum(),
                    agents.stream().mapToLong(a -> a.agent.retries()).sum(),
                    agents.stream().mapToLong(a -> a.agent.duplicateAcks()).sum(),
                    agents.stream().mapToLong(a -> a.fenced.get()).sum(),
                    agents.stream().mapToLong(a -> a.runs).sum(),
                    injector.cancelsRequested,
                    injector.cancelsAccepted);
            for (Subscriber s : subs) {
                System.out.printf(
                        "[chaos] %s (SessionSubscriber): applied=%d connections=%d duplicates dropped=%d "
                                + "out-of-order arrivals=%d%n",
                        s.name,
                        s.reader.lastSeq(),
                        s.reader.connects(),
                        s.reader.duplicatesDropped(),
                        s.reader.outOfOrderArrivals());
            }
            System.out.printf(
                    "[chaos] fan-out: %s; failed batches (on-failure destination): %d; management calls: %s%n",
                    stack.fanout().counters(),
                    stack.failedBatches().size(),
                    stack.gateway().counters().managementCallsByStatus());
            System.out.println("[chaos] result: "
                    + (violations.isEmpty()
                            ? "OK (0 lost, 0 duplicated, 0 out of order; "
                                    + "every acked append exactly once; every stop respected)"
                            : violations.size() + " VIOLATIONS"));
            violations.stream().limit(30).forEach(v -> System.out.println("[chaos] VIOLATION " + v));
            assertThat(violations)
                    .as("consistency violations with -Dchaos.seed=%d", seed)
                    .isEmpty();
            assertThat(ackedEvents.get()).as("events acked (seed %d)", seed).isGreaterThanOrEqualTo(targetEvents);
            if (conflicts) {
                // the appends' transactions meet conflicts by the hundred; single-item writes to an item a
                // transaction holds (a stop claim or heartbeat on a run row) are a handful per run and may be none:
                // they are covered deterministically by ClientsTest and the store's contract tests in conflict mode
                assertThat(stack.dynamo().faults().transactionConflictCancellations())
                        .as("conflicts injected")
                        .isPositive();
                assertThat(faults.keySet())
                        .as("a conflict is never INTERNAL to a client (nothing else fails here)")
                        .noneMatch(k -> k.contains("INTERNAL"));
                assertThat(stack.gateway().counters().integrationErrors() - integrationErrors0)
                        .as("no route failed (API Gateway's 'Internal server error')")
                        .isZero();
            }
        } finally {
            stopWriting.set(true);
            if (controller != null) controller.close();
            agents.forEach(a -> a.agent.close());
            subs.forEach(s -> s.reader.close());
            stack.dynamo().faults().clear();
        }
    }

    // ---------------------------------------------------------------------------------------- checks

    List<String> storedLog() {
        List<String> all = new ArrayList<>();
        stack.services().sessions().forEachAfter(session, 0, e -> all.add(e.json()));
        return all;
    }

    void check(List<String> storedJson, List<Agent> agents, List<Subscriber> subs, Injector injector) {
        List<JsonNode> stored =
                storedJson.stream().map(j -> (JsonNode) Json.parseObject(j)).toList();
        for (int i = 0; i < stored.size(); i++) {
            if (stored.get(i).get("seq").asLong() != i + 1) {
                violations.add("stored log is not gapless at index " + i + ": seq "
                        + stored.get(i).get("seq"));
                break;
            }
        }
        // 1. every subscriber applied exactly the stored log
        for (Subscriber s : subs) {
            List<String> applied = s.applied();
            int n = Math.min(applied.size(), stored.size());
            int firstDiff = -1;
            for (int i = 0; i < n; i++) {
                if (!Json.parseObject(applied.get(i)).equals(stored.get(i))) {
                    firstDiff = i;
                    break;
                }
            }
            if (firstDiff >= 0)
                violations.add(s.name + ": applied event #" + (firstDiff + 1) + " differs from the stored one");
            if (applied.size() < stored.size()) {
                violations.add(s.name + ": LOST " + (stored.size() - applied.size()) + " events (applied up to seq "
                        + applied.size() + " of " + stored.size() + ")");
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
            for (AppendRecord ack : a.stored()) {
                events += ack.events().size();
                if (ack.firstSeq() == 0) {
                    // acked without seqs: our own earlier, unanswered attempt ended the run (its run.completed or
                    // run.failed); the count below checks it is stored once
                    continue;
                }
                // acknowledging a stop also records the service's run.stopped, right after it, in the same append
                boolean acknowledgesStop =
                        ack.events().stream().anyMatch(ev -> ev.type() == EventType.RUN_STOP_ACKNOWLEDGED);
                int expected = ack.events().size() + (acknowledgesStop ? 1 : 0);
                if (ack.lastSeq() - ack.firstSeq() + 1 != expected) {
                    violations.add(a.name + ": ack of producer seq " + ack.producerSeq() + " names " + ack.firstSeq()
                            + ".." + ack.lastSeq() + " for " + ack.events().size() + " events");
                    continue;
                }
                for (int i = 0; i < ack.events().size(); i++) {
                    long seq = ack.firstSeq() + i;
                    if (seq > stored.size()) {
                        violations.add(a.name + ": acked seq " + seq + " is not stored");
                        break;
                    }
                    JsonNode e = stored.get((int) seq - 1);
                    EventInput sent = ack.events().get(i);
                    if (!e.get("agentId").asText().equals(a.name)
                            || !e.get("type").asText().equals(sent.type().wire())
                            || !e.get("data").equals(sent.data())) {
                        violations.add(a.name + ": stored event " + seq + " is not what producer seq "
                                + ack.producerSeq() + " appended: " + e + " (its ack: " + ack + ")");
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
                // after a stop request: the agent's acknowledgement (then always the service's run.stopped), a
                // timeout's run.stopped, or a failure; after an acknowledgement: only its run.stopped
                boolean allowed = (fence.equals("run.stop_requested")
                                && (type.equals("run.stop_acknowledged")
                                        || type.equals("run.stopped")
                                        || type.equals("run.failed")))
                        || (fence.equals("run.stop_acknowledged") && type.equals("run.stopped"));
                if (!allowed) violations.add("run " + run + ": " + type + " at seq " + seq + " after its " + fence);
                if (allowed) fencedBy.put(run, type);
                continue;
            }
            if (type.equals("run.stop_requested")) {
                long said = e.path("data").path("stoppedAtSeq").asLong(-1);
                long actual = lastOfRun.getOrDefault(run, -1L);
                if (said != actual)
                    violations.add("run " + run + ": stoppedAtSeq " + said + " but its last event was " + actual);
                stoppedAt.put(run, said);
                fencedBy.put(run, type);
            } else if (type.equals("run.completed") || type.equals("run.failed") || type.equals("run.stopped")) {
                fencedBy.put(run, type);
            }
            lastOfRun.put(run, seq);
        }
        // one unambiguous terminal event: an acknowledged stop is always followed by run.stopped
        fencedBy.forEach((run, last) -> {
            if (last.equals("run.stop_acknowledged"))
                violations.add("run " + run + ": acknowledged but never run.stopped");
        });
        // every subscriber saw the same stoppedAtSeq for every stop
        for (Subscriber s : subs) {
            Map<String, Long> seen = new HashMap<>();
            for (String j : s.applied()) {
                JsonNode e = Json.parseObject(j);
                if (e.get("type").asText().equals("run.stop_requested")) {
                    seen.put(
                            e.get("runId").asText(),
                            e.path("data").path("stoppedAtSeq").asLong());
                }
            }
            if (!seen.equals(stoppedAt))
                violations.add(s.name + ": saw stops " + seen + " but the log has " + stoppedAt);
        }
        if (injector.cancelsAccepted == 0) violations.add("no cancel was accepted: the stop check did not run");
        if (stoppedAt.size() != injector.cancelsAccepted) {
            violations.add(injector.cancelsAccepted + " cancels acked but " + stoppedAt.size() + " stops in the log");
        }
    }

    // ---------------------------------------------------------------------------------------- agents

    /**
     * An agent: a DurableAgent writing runs of one reply each (start, 40–160 text deltas in appends of 1–10
     * — appendAll — or streamed through the coalescer, end, completion) until the target is reached. The
     * SDK re-sends after a dropped ack, acknowledges a stop and drops what the stop fenced.
     */
    final class Agent implements Runnable {
        final String name;
        final Random rnd;
        final DurableAgent agent;
        final List<AppendRecord> records = new CopyOnWriteArrayList<>();
        final AtomicLong dropAcks = new AtomicLong();
        final AtomicLong fenced = new AtomicLong();
        volatile String currentRun;
        long runs;
        Thread thread;

        Agent(String name, Random rnd) {
            this.name = name;
            this.rnd = rnd;
            this.agent = SdkClients.agent(stack.webSocketUrl(), session, name)
                    .requestTimeout(Duration.ofSeconds(3))
                    .heartbeatInterval(Duration.ofMillis(200))
                    .onAppend(this::answered)
                    // a dropped ack: the answer never arrives, the SDK times out and re-sends the same producer seq
                    .deliverInbound(f -> {
                        if (!"ack".equals(f.path("type").asText())
                                || dropAcks.get() <= 0
                                || dropAcks.decrementAndGet() < 0) return true;
                        count("agent ack dropped");
                        return false;
                    })
                    .onControl(e -> {
                        if (e.kind() == ControlEvent.Kind.CANCEL) count("agent told of a cancel");
                    })
                    .connect();
        }

        /** Every append the service answered for good (the SDK's onAppend). */
        void answered(AppendRecord r) {
            records.add(r);
            for (String why : r.retries())
                count("agent " + (why.startsWith("lost") ? "timeout/lost" : why) + " (retried)");
            if (r.stored()) {
                ackedEvents.addAndGet(r.events().size());
                return;
            }
            if ("RUN_FENCED".equals(r.refusal())) {
                fenced.incrementAndGet();
            } else if (!("INVALID_TRANSITION".equals(r.refusal())
                    && r.events().stream().allMatch(e -> e.type() == EventType.RUN_STOP_ACKNOWLEDGED))) {
                // a stop acknowledgement the service's own run.stopped beat is the only other refusal expected
                violations.add(name + ": producer seq " + r.producerSeq() + " refused " + r.refusal());
            }
        }

        List<AppendRecord> stored() {
            return records.stream().filter(AppendRecord::stored).toList();
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
                    DurableAgent.Run run = agent.startRun(runId);
                    DurableAgent.Reply reply = run.startReply(msg);
                    int deltas = 40 + rnd.nextInt(120);
                    for (int d = 0; d < deltas && !run.isFenced(); ) {
                        int n = Math.min(deltas - d, 1 + rnd.nextInt(10));
                        if (rnd.nextInt(5) == 0) {
                            // streamed: the coalescer merges it into one delta, sent with the next flush
                            for (int i = 0; i < n; i++) reply.delta(name + "/" + k + "/" + d + "/" + i + " ");
                            agent.flush();
                        } else {
                            List<EventInput> evs = new ArrayList<>();
                            for (int i = 0; i < n; i++) {
                                evs.add(EventInput.of(
                                        EventType.TEXT_DELTA,
                                        runId,
                                        Json.object()
                                                .put("messageId", msg)
                                                .put("text", name + "/" + k + "/" + d + "/" + i + " ")));
                            }
                            agent.appendAll(evs).join(); // false: the run was stopped; the SDK acknowledges it
                        }
                        d += n;
                    }
                    if (!run.isFenced()) {
                        reply.end();
                        run.complete();
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
    }

    // ---------------------------------------------------------------------------------------- subscribers

    /** A reader: a SessionSubscriber from seq 0, keeping every event it applied (in order) for the check. */
    final class Subscriber {
        final String name;
        final List<String> applied = new CopyOnWriteArrayList<>();
        final SessionSubscriber reader;

        Subscriber(String name) {
            this.name = name;
            // a socket silent for 2 s gets a ping; no pong in 3 s: dead, reconnect (docs/benchmarks.md: killed sockets
            // the client never notices)
            this.reader = SdkClients.reader(
                            stack.webSocketUrl(),
                            session,
                            name,
                            e -> applied.add(e.toJson()),
                            new CompletableFuture<>())
                    .pingInterval(Duration.ofSeconds(2))
                    .requestTimeout(Duration.ofSeconds(3))
                    .start();
        }

        List<String> applied() {
            return List.copyOf(applied);
        }
    }

    // ---------------------------------------------------------------------------------------- faults

    final class Injector implements Runnable {
        final Random rnd;
        final List<Agent> agents;
        final List<Subscriber> subs;
        final SessionSubscriber controller;
        volatile boolean stop;
        int cancelsRequested, cancelsAccepted;

        Injector(Random rnd, List<Agent> agents, List<Subscriber> subs, SessionSubscriber controller) {
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
                        if (conflicts) {
                            count("transaction conflict burst");
                            stack.dynamo().faults().transactionConflicts(CONFLICT_BURST, CONFLICT_HOLD, rnd.nextLong());
                            sleep(200 + rnd.nextInt(600));
                            stack.dynamo().faults().transactionConflicts(CONFLICTS, CONFLICT_HOLD, rnd.nextLong());
                            continue;
                        }
                        count("DynamoDB writes throttled");
                        stack.dynamo()
                                .faults()
                                .throttleWrites(
                                        0.05 + rnd.nextDouble() * (rnd.nextInt(3) == 0 ? 0.9 : 0.3), rnd.nextLong());
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
            try {
                controller.cancel(run).get(30, TimeUnit.SECONDS);
                cancelsAccepted++;
            } catch (ExecutionException e) {
                ErrorCode code = e.getCause() instanceof DurableSessionException d ? d.errorCode() : null;
                if (code == ErrorCode.RUN_FENCED || code == ErrorCode.RUN_NOT_FOUND) return; // it ended first
                if (code != null && code.retryable()) {
                    count("cancel " + code + " (gave up: nothing written)");
                    return;
                }
                // no answer: the stop may or may not be written; the count check below tolerates neither
                violations.add("cancel of " + run + " failed: " + e.getCause());
            } catch (Exception e) {
                violations.add("cancel of " + run + " got no answer: " + e);
            }
        }

        void killSubscriber(Subscriber s) {
            for (String id : stack.gateway().connectionIds()) {
                var c = stack.services().connections().get(id);
                if (c != null && s.name.equals(c.principal())) {
                    int connections = s.reader.connects();
                    if (stack.gateway().killConnection(id)) {
                        count("subscriber socket killed");
                        // diagnosis: does the client see the cut (its ping does, at the latest)?
                        Thread.ofVirtual().start(() -> {
                            sleep(1500);
                            if (s.reader.connects() == connections && s.reader.isConnected()) {
                                count("kill not noticed by the client after 1.5 s (its ping finds it)");
                            }
                        });
                    }
                    return;
                }
            }
        }

        void clearAll() {
            stack.dynamo().faults().clear();
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
