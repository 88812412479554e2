package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.RunState;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The agent over the HTTP API ({@code http://} base URL instead of {@code ws://}), end to end
 * against the local stack: the same coalescing, idempotent retries, fencing and control callbacks
 * as over the WebSocket, with control arriving in the answers to its POSTs.
 */
// short liveness (6 s) so a quiet run without heartbeats would fail within the test, yet a live
// agent on a busy machine (heartbeats every 500 ms) is not taken for dead
@WithTestStack(livenessMillis = 6000, stopAckMillis = 5000, presenceGraceMillis = 2000, sweepMillis = 200)
class HttpAgentTest {
    final TestStack stack;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    HttpAgentTest(TestStack stack) {
        this.stack = stack;
    }

    DurableAgent.Builder agent(String session, HttpClient http) {
        return DurableAgent.builder(stack.httpApiUrl(), session, "p1")
                .httpClient(http)
                .bearerToken(() -> stack.token("agent-1", "agent"));
    }

    /** A user's control request over the HTTP API; returns the seq of the recorded control event. */
    long control(String session, String run, String command, String text) {
        return stack.control(session, run, command, text);
    }

    /** Streams "t0 t1 …" into the reply every few ms until told to stop; returns what it wrote. */
    static Thread stream(DurableAgent.Reply reply, AtomicBoolean stop, StringBuilder written) {
        return Stacks.startThread(() -> {
            for (int i = 0; i < 4000 && !stop.get(); i++) {
                String token = "t" + i + " ";
                synchronized (written) {
                    written.append(token);
                }
                reply.delta(token);
                LockSupport.parkNanos(5_000_000);
            }
        });
    }

    static List<Long> controlSeqs(TappedHttpClient.Exchange x) {
        List<Long> seqs = new ArrayList<>();
        if (x.body().isBlank()) return seqs;
        for (JsonNode e : Json.parseObject(x.body()).path("control"))
            seqs.add(e.path("seq").asLong());
        return seqs;
    }

    /** The stop event in the answer's control, or the refusal of a fenced run (409 RUN_FENCED). */
    static boolean tellsOfTheStop(TappedHttpClient.Exchange x, long stopSeq) {
        return controlSeqs(x).contains(stopSeq)
                || x.status() == 409
                        && "RUN_FENCED"
                                .equals(Json.parseObject(x.body()).path("code").asText());
    }

    @Test
    void thousandDeltasAt200PerSecondAreCoalescedIntoFewPostsAndTheTextIsExact() {
        String s = "http-coal-" + UUID.randomUUID();
        StringBuilder expected = new StringBuilder();
        TappedHttpClient tap = new TappedHttpClient();
        try (DurableAgent agent =
                agent(s, tap).coalesceWindow(Duration.ofMillis(75)).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            agent.flush();
            long before = agent.appendsAcked();
            expected.append(Stacks.streamTokens(reply, 1000, 200));
            agent.flush();
            long appends = agent.appendsAcked() - before;
            // ≈ 67 windows of 75 ms in 5 s; fewer when a POST takes longer than the window
            assertThat(appends).isBetween(5L, 80L);
            assertThat(agent.retries()).isZero();
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        assertThat(Stacks.text(stack.storedLog(s), "m-1")).isEqualTo(expected.toString());
        assertThat(tap.appends()).allSatisfy(x -> assertThat(x.status()).isEqualTo(200));
    }

    @Test
    void lostResponsesAreResentWithTheSameProducerSeqAndNeverWriteTwice() {
        String s = "http-dedup-" + UUID.randomUUID();
        AtomicInteger appendsAnswered = new AtomicInteger();
        // every third answer to an append is lost after the service wrote it
        TappedHttpClient tap = new TappedHttpClient(
                r -> r.uri().getPath().endsWith("/events") && appendsAnswered.incrementAndGet() % 3 == 0);
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = agent(s, tap)
                .coalesceWindow(Duration.ZERO)
                .backoff(new Backoff(Duration.ofMillis(20), Duration.ofMillis(200)))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            for (int i = 0; i < 120; i++) {
                String token = "t" + i + " ";
                expected.append(token);
                reply.delta(token);
                if (i % 10 == 0) agent.flush();
            }
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
            assertThat(agent.retries()).isGreaterThan(5);
            assertThat(agent.duplicateAcks()).isGreaterThan(5);
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo(expected.toString());
        assertThat(log).filteredOn(e -> e.type() == EventType.RUN_STARTED).hasSize(1);
        assertThat(log).filteredOn(e -> e.type() == EventType.MESSAGE_START).hasSize(1);
        assertThat(log).filteredOn(e -> e.type() == EventType.MESSAGE_END).hasSize(1);
        assertThat(log).filteredOn(e -> e.type() == EventType.RUN_COMPLETED).hasSize(1);
        assertThat(tap.appends()).filteredOn(TappedHttpClient.Exchange::lost).hasSizeGreaterThan(5);
    }

    @Test
    void aStopReachesTheAgentInTheNextPostsAnswerItsLaterAppendsAreFencedAndTheRunEndsStopped() throws Exception {
        String s = "http-stop-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        TappedHttpClient tap = new TappedHttpClient();
        StringBuilder written = new StringBuilder();
        DurableAgent.Run run;
        long cancelSeq;
        long cancelAnsweredAt;
        try (DurableAgent agent = agent(s, tap)
                .onControl(e -> {
                    controls.add(e);
                    if (e.kind() == ControlEvent.Kind.CANCEL) stop.set(true);
                })
                .connect()) {
            run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            Thread streaming = stream(reply, stop, written);
            await().atMost(Duration.ofSeconds(20)).until(() -> tap.appends().size() >= 5); // posting every ~75 ms
            cancelSeq = control(s, "run-1", "cancel", null);
            cancelAnsweredAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(20)).untilTrue(stop);
            streaming.join();
            assertThat(run.isFenced()).isTrue();
            assertThat(reply.isFenced()).isTrue();
            await().atMost(Duration.ofSeconds(20))
                    .until(() ->
                            stack.storedLog(s).stream().anyMatch(e -> e.type() == EventType.RUN_STOP_ACKNOWLEDGED));
            long appends = agent.appendsAcked();
            reply.delta("after the stop");
            assertThat(reply.end()).isFalse();
            assertThat(run.complete()).isFalse();
            assertThat(agent.appendsAcked()).isEqualTo(appends);
        }
        // within one post: the answer to the post in flight when the stop was requested, or at the
        // latest to the first post sent after it, tells the agent
        List<TappedHttpClient.Exchange> posts = tap.appends();
        int next = 0;
        while (next < posts.size() && posts.get(next).sentNanos() < cancelAnsweredAt) next++;
        int first = 0;
        while (first < posts.size() && !tellsOfTheStop(posts.get(first), cancelSeq)) first++;
        assertThat(first)
                .as("the first post whose answer tells of the stop")
                .isLessThan(posts.size())
                .isLessThanOrEqualTo(next);
        // once: from the stop event (its seq), or from the refusal while the service was still
        // recording the stop (seq 0, as over the WebSocket)
        assertThat(controls)
                .filteredOn(c -> c.kind() == ControlEvent.Kind.CANCEL)
                .singleElement()
                .satisfies(c -> assertThat(c.seq()).isIn(cancelSeq, 0L));

        List<Event> log = stack.storedLog(s);
        long stoppedAt = log.stream()
                .filter(e -> e.type() == EventType.RUN_STOP_REQUESTED)
                .findFirst()
                .orElseThrow()
                .data()
                .get("stoppedAtSeq")
                .asLong();
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.TEXT_DELTA)
                .allSatisfy(e -> assertThat(e.seq()).isLessThanOrEqualTo(stoppedAt));
        assertThat(log)
                .filteredOn(e -> e.type() == EventType.RUN_STOP_ACKNOWLEDGED)
                .hasSize(1);
        assertThat(written.toString()).startsWith(Stacks.text(log, "m-1"));
        assertThat(stack.runState(s, "run-1")).isEqualTo(RunState.STOPPED.wire());
    }

    @Test
    void aSteerReachesTheAgentOnceAndIsNotRepeatedOnceAcknowledged() throws Exception {
        String s = "http-steer-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        TappedHttpClient tap = new TappedHttpClient();
        StringBuilder written = new StringBuilder();
        try (DurableAgent agent = agent(s, tap).onControl(controls::add).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            Thread streaming = stream(reply, stop, written);
            await().atMost(Duration.ofSeconds(20)).until(() -> tap.appends().size() >= 3);
            long steerSeq = control(s, "run-1", "steer", "be brief");
            await().atMost(Duration.ofSeconds(20)).until(() -> !controls.isEmpty());
            // the acknowledgement lands: answers from then on name it as acknowledged and repeat it no more
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> tap.exchanges.stream()
                            .anyMatch(x -> x.isAppend()
                                    && Json.parseObject(x.body())
                                                    .path("runs")
                                                    .path(0)
                                                    .path("controlAckSeq")
                                                    .asLong()
                                            >= steerSeq));
            int acknowledgedAt = tap.exchanges.size();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> tap.appends().size() >= 5 + countAppends(tap, acknowledgedAt));
            stop.set(true);
            streaming.join();
            List<TappedHttpClient.Exchange> all = List.copyOf(tap.exchanges);
            assertThat(all.subList(acknowledgedAt, all.size()))
                    .filteredOn(TappedHttpClient.Exchange::isAppend)
                    .allSatisfy(x -> assertThat(controlSeqs(x)).doesNotContain(steerSeq));
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
            assertThat(controls).singleElement().satisfies(c -> {
                assertThat(c.kind()).isEqualTo(ControlEvent.Kind.STEER);
                assertThat(c.text()).isEqualTo("be brief");
                assertThat(c.seq()).isEqualTo(steerSeq);
            });
        }
        assertThat(Stacks.text(stack.storedLog(s), "m-1")).isEqualTo(written.toString());
    }

    static int countAppends(TappedHttpClient tap, int firstExchanges) {
        return (int) List.copyOf(tap.exchanges).subList(0, firstExchanges).stream()
                .filter(TappedHttpClient.Exchange::isAppend)
                .count();
    }

    @Test
    void anIdleRunIsKeptAliveByHeartbeatsWhichAlsoBringItsControl() throws Exception {
        String s = "http-idle-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        TappedHttpClient tap = new TappedHttpClient();
        try (DurableAgent agent = agent(s, tap)
                .heartbeatInterval(Duration.ofMillis(500))
                .onControl(controls::add)
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            int appends = tap.appends().size();
            long steerSeq = control(s, "run-1", "steer", "look again");
            await().atMost(Duration.ofSeconds(20)).until(() -> !controls.isEmpty());
            Thread.sleep(8000); // longer than the 6 s liveness timeout, writing nothing
            assertThat(run.isFenced()).isFalse();
            assertThat(tap.appends()).hasSize(appends); // it came with a heartbeat's answer
            assertThat(tap.exchanges)
                    .filteredOn(TappedHttpClient.Exchange::isHeartbeat)
                    .hasSizeGreaterThan(3);
            assertThat(controls).singleElement().satisfies(c -> {
                assertThat(c.kind()).isEqualTo(ControlEvent.Kind.STEER);
                assertThat(c.seq()).isEqualTo(steerSeq);
            });
            assertThat(run.complete()).isTrue();
        }
    }

    @Test
    void anInterruptFencesTheReplyAndTheRunGoesOnWithANewOne() throws Exception {
        String s = "http-int-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        try (DurableAgent agent = agent(s, new TappedHttpClient())
                .heartbeatInterval(Duration.ofMillis(500))
                .onControl(controls::add)
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply first = run.startReply("m-1");
            first.delta("hello");
            agent.flush();
            control(s, "run-1", "interrupt", null);
            first.delta(" more"); // refused with MESSAGE_FENCED, or dropped once the interrupt is known
            await().atMost(Duration.ofSeconds(20)).until(first::isFenced);
            await().atMost(Duration.ofSeconds(20)).until(() -> !controls.isEmpty());
            assertThat(controls).extracting(ControlEvent::kind).containsExactly(ControlEvent.Kind.INTERRUPT);
            assertThat(first.end()).isFalse();
            DurableAgent.Reply second = run.startReply("m-2");
            second.delta("again");
            assertThat(second.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-1")).isEqualTo("hello");
        assertThat(Stacks.text(log, "m-2")).isEqualTo("again");
    }

    @Test
    void aBadTokenIsAClearUnauthorizedError() {
        String s = "http-auth-" + UUID.randomUUID();
        try (DurableAgent agent = DurableAgent.builder(stack.httpApiUrl(), s, "p1")
                .bearerToken(() -> "not-a-token")
                .connect()) {
            assertThatThrownBy(() -> agent.startRun("run-1"))
                    .isInstanceOfSatisfying(
                            DurableSessionException.class,
                            e -> assertThat(e.code()).isEqualTo("UNAUTHORIZED"));
            assertThat(agent.retries()).isZero();
        }
        assertThat(stack.storedLog(s)).isEmpty();
    }

    @Test
    void apiGatewaysOwnRefusalsAndServerErrorsMapToTheProtocolsCodes() {
        // API Gateway answers these itself, before the function runs: no problem+json, no code
        assertThat(HttpAgentTransport.outcome(401, null, Json.parseObject("{\"message\":\"Unauthorized\"}")))
                .isEqualTo(new AgentTransport.Refused("UNAUTHORIZED", "Unauthorized", Json.object(), 0));
        assertThat(HttpAgentTransport.outcome(403, null, Json.parseObject("{\"message\":\"Forbidden\"}")))
                .extracting(o -> ((AgentTransport.Refused) o).code())
                .isEqualTo("UNAUTHORIZED");
        // a grant missing is the function's FORBIDDEN, not an authentication failure
        assertThat(HttpAgentTransport.outcome(403, null, Json.parseObject("{\"status\":403,\"code\":\"FORBIDDEN\"}")))
                .extracting(o -> ((AgentTransport.Refused) o).code())
                .isEqualTo("FORBIDDEN");
        assertThat(HttpAgentTransport.outcome(429, "2", Json.object()))
                .isEqualTo(new AgentTransport.Refused("RATE_LIMITED", "HTTP 429", Json.object(), 2000));
        assertThat(HttpAgentTransport.outcome(503, null, Json.object()))
                .extracting(o -> ((AgentTransport.Refused) o).code())
                .isEqualTo("INTERNAL");
    }

    @Test
    void theTokenIsAskedForEveryRequestAndTheSignerSeesTheExactRequest() {
        String s = "http-sign-" + UUID.randomUUID();
        AtomicLong tokens = new AtomicLong();
        List<String> signed = new CopyOnWriteArrayList<>();
        TappedHttpClient tap = new TappedHttpClient();
        RequestSigner signer = (method, uri, headers, body) -> {
            assertThat(headers.get("Authorization")).startsWith("Bearer ");
            if (uri.getPath().endsWith("/events")) {
                // the body as it goes out: the append with its producer
                assertThat(Json.parseObject(new String(body, StandardCharsets.UTF_8))
                                .path("producer")
                                .path("id")
                                .asText())
                        .isEqualTo("p1");
            }
            String sig = method + " " + uri.getPath() + " " + UUID.nameUUIDFromBytes(body);
            signed.add(sig);
            return Map.of("X-Test-Signature", sig);
        };
        try (DurableAgent agent = DurableAgent.builder(stack.httpApiUrl(), s, "p1")
                .httpClient(tap)
                .bearerToken(() -> {
                    tokens.incrementAndGet();
                    return stack.token("agent-1", "agent");
                })
                .requestSigner(signer)
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            run.startReply("m-1").end();
            assertThat(run.complete()).isTrue();
        }
        assertThat(tap.exchanges).hasSize(signed.size()).hasSizeGreaterThanOrEqualTo(3);
        assertThat(tokens.get()).isEqualTo(tap.exchanges.size());
        assertThat(tap.exchanges)
                .allSatisfy(x -> assertThat(signed)
                        .contains(x.requestHeaders()
                                .firstValue("X-Test-Signature")
                                .orElseThrow()));
        assertThat(tap.exchanges.get(0).requestHeaders().firstValue("Content-Type"))
                .contains("application/json");
    }
}
