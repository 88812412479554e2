package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.fanout.DirectDelivery;
import io.durablesessions.functions.fanout.FanoutHandler;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.DeliveryMarks;
import io.durablesessions.functions.store.Keys;
import io.durablesessions.functions.store.SessionCatalog;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Direct delivery (docs/architecture.md, Delivery): an append posts its events to the session's
 * live subscribers itself; the Streams fan-out delivers only what that missed.
 */
class DirectDeliveryTest {
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        // a run must outlive a slow, loaded machine's pauses here (no heartbeats are sent)
        stack = EmbeddedStack.start(EmbeddedStack.Config.builder()
                .store(new StoreSettings(
                        Duration.ofMinutes(10),
                        StoreSettings.DEFAULTS.ackTimeout(),
                        StoreSettings.DEFAULTS.presenceGrace()))
                .build());
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @AfterEach
    void everythingRunsAgain() {
        stack.gateway().setManagementApiAvailable(true);
        if (!stack.fanout().isRunning()) stack.fanout().start();
    }

    static List<Long> oneTo(long n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    static WsClient subscriber(String session, String name) {
        return subscriber(stack, session, name);
    }

    static WsClient subscriber(EmbeddedStack on, String session, String name) {
        WsClient c = WsClient.connect(on.webSocketUrl(), "id=" + name);
        ObjectNode ok = c.request(Json.object()
                .put("action", "subscribe")
                .put("sessionId", session)
                .put("afterSeq", 0));
        assertThat(ok.path("type").asText()).as("subscribe answer %s", ok).isEqualTo("subscribed");
        return c;
    }

    @Test
    void anAppendReachesItsSubscribersWithoutTheStreamAndTheFanOutDoesNotSendItAgain() {
        String s = "direct-" + UUID.randomUUID();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1"); // creates the session before anyone subscribes
            try (WsClient tab = subscriber(s, "tab-1")) {
                DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
                // what was written so far (the tab's presence.joined too) reached the tab, by its catch-up,
                // directly or through the fan-out (what nobody was due when written is never marked)
                long written = StoredLog.events(stack, s).size();
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().containsAll(oneTo(written)));
                long before = stack.fanout().counters().recordsDelivered();
                stack.fanout().stop();
                for (int i = 0; i < 20; i++) agent.delta("run-1", "m-1", "t" + i + " ");
                long head = StoredLog.events(stack, s).size();
                // with the stream stopped, only the appends themselves can have posted these
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(head));
                // each append marks its seqs once its posts are done (its writer is answered sooner)
                await().atMost(Duration.ofSeconds(30)).until(() -> coversAll(marks.read(s), written + 1, head));
                stack.fanout().start();
                // the fan-out catches up on the stream, and posts nothing it knows was delivered
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> stack.fanout().counters().recordsDelivered() - before >= head - 3);
                agent.delta("run-1", "m-1", "last");
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(head + 1));
                // what was delivered while the stream stood still came once, the fan-out sent none of it
                // again (seq 3, the tab's own presence.joined, and the last one were written while the
                // fan-out ran: either may have raced the direct post and come twice; the client rule
                // drops such a duplicate). In any order: the writer's ack does not wait for the posts, so
                // an append's post may overtake its predecessor's (the client rule puts them in order)
                assertThat(tab.rawSeqs())
                        .filteredOn(seq -> seq > 3 && seq <= head)
                        .containsExactlyInAnyOrderElementsOf(
                                LongStream.rangeClosed(4, head).boxed().toList());
            }
        }
    }

    @Test
    void postsToTenReadersReuseTheirConnectionsInsteadOfOpeningOnePerPost() {
        String s = "direct-keepalive-" + UUID.randomUUID();
        List<WsClient> tabs = new java.util.ArrayList<>();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            for (int i = 0; i < 10; i++) tabs.add(subscriber(s, "tab-" + i));
            agent.delta("run-1", "m-1", "warm-up ");
            long warmHead = StoredLog.events(stack, s).size();
            for (WsClient tab : tabs)
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(warmHead));
            long accepted = stack.gateway().connectionsAccepted();
            for (int i = 0; i < 30; i++) agent.delta("run-1", "m-1", "t" + i + " ");
            long head = StoredLog.events(stack, s).size();
            for (WsClient tab : tabs)
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(head));
            // 300 posts: with the JDK's default of 5 kept-alive connections per host, about half of
            // them opened a connection of their own (over 100 here); kept alive, hardly any do
            assertThat(stack.gateway().connectionsAccepted() - accepted)
                    .as("connections opened for 30 appends to 10 readers")
                    .isLessThan(20);
        } finally {
            tabs.forEach(WsClient::close);
        }
    }

    @Test
    void aSessionNobodyReadsWritesNoDeliveryMarkAndALaterReaderStillGetsEverything() {
        String s = "unwatched-" + UUID.randomUUID();
        DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            agent.listenForControl(); // the agent's own control-only subscription is due no deltas
            long before = stack.fanout().counters().recordsDelivered();
            for (int i = 0; i < 10; i++) agent.delta("run-1", "m-1", "t" + i + " ");
            long head = StoredLog.events(stack, s).size();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> stack.fanout().counters().recordsDelivered() - before >= 10);
            // nobody was due these events: neither the appends nor the fan-out wrote a mark for them
            assertThat(marks.read(s).marksNothing()).isTrue();
            try (WsClient tab = subscriber(s, "tab-1")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().containsAll(oneTo(head)));
            }
        }
    }

    @Test
    void whatADirectPostMissedTheFanOutDeliversAndTheWriterIsStillAnswered() {
        String s = "direct-missed-" + UUID.randomUUID();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            try (WsClient tab = subscriber(s, "tab-1")) {
                stack.fanout().stop();
                stack.gateway().setManagementApiAvailable(false);
                // the posts fail (503); the ack still comes, as the route's own response
                ObjectNode ack = agent.append("run-1", TestAgent.delta("m-1", "while posts fail"));
                long seq = ack.path("lastSeq").asLong();
                assertThat(new DeliveryMarks(stack.services().dynamo(), stack.tables())
                                .read(s)
                                .covers(seq))
                        .isFalse();
                stack.gateway().setManagementApiAvailable(true);
                stack.fanout().start();
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(seq));
                assertThat(tab.rawSeqs()).filteredOn(x -> x == seq).hasSize(1);
            }
        }
    }

    @Test
    void theWriterIsAnsweredOnceItsAppendIsStoredWithoutWaitingForASlowSubscriber() throws Exception {
        String s = "direct-slow-" + UUID.randomUUID();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            Set<String> others = stack.gateway().connectionIds();
            try (WsClient tab = subscriber(s, "tab-1")) {
                String tabId = stack.gateway().connectionIds().stream()
                        .filter(id -> !others.contains(id))
                        .findFirst()
                        .orElseThrow();
                DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
                long seq;
                try (AutoCloseable slow = stack.gateway().holdPostsTo(tabId)) {
                    // the answer comes while the post to the tab is held (the hold outlasts the agent's wait)
                    seq = agent.append("run-1", TestAgent.delta("m-1", "to a slow tab"))
                            .path("lastSeq")
                            .asLong();
                    assertThat(tab.rawSeqs()).doesNotContain(seq);
                    assertThat(marks.read(s).covers(seq)).isFalse();
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(seq));
                // delivered directly once the tab took it, and marked so
                await().atMost(Duration.ofSeconds(30)).until(() -> marks.read(s).covers(seq));
            }
        }
    }

    @Test
    void aCancelReachesTheAgentsOfTheRunAndOfItsSubRunsWithoutTheStream() {
        String s = "direct-cancel-" + UUID.randomUUID();
        try (TestAgent parent = new TestAgent(stack.webSocketUrl(), s, "agent-1");
                TestAgent child = new TestAgent(stack.webSocketUrl(), s, "agent-2")) {
            parent.startRun("run-1", null);
            child.startRun("run-2", "run-1");
            parent.listenForControl();
            child.listenForControl();
            try (WsClient user = subscriber(s, "user-1")) {
                long written = StoredLog.events(stack, s).size();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> user.rawSeqs().containsAll(oneTo(written)));
                stack.fanout().stop();
                ObjectNode ack = user.request(Json.object()
                        .put("action", "control")
                        .put("sessionId", s)
                        .put("runId", "run-1")
                        .put("command", "cancel"));
                assertThat(ack.path("type").asText())
                        .as("cancel answer %s", ack)
                        .isEqualTo("ack");
                // with the stream stopped, only the writes themselves can have posted the stops
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> stopRequested(parent, "run-1") && stopRequested(child, "run-2"));
            }
        }
    }

    private static boolean stopRequested(TestAgent agent, String runId) {
        return agent.controlEvents().stream()
                .anyMatch(e -> e.path("type").asText().equals("run.stop_requested")
                        && e.path("runId").asText().equals(runId));
    }

    @Test
    void aSessionWithMoreSubscribersThanTheDirectCapIsLeftToTheFanOut() {
        String s = "direct-crowd-" + UUID.randomUUID();
        List<WsClient> tabs = new java.util.ArrayList<>();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            for (int i = 0; i <= DirectDelivery.MAX_SUBSCRIBERS; i++) tabs.add(subscriber(s, "tab-" + i));
            DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
            long written = StoredLog.events(stack, s).size();
            for (WsClient tab : tabs)
                await().atMost(Duration.ofSeconds(60)).until(() -> tab.rawSeqs().containsAll(oneTo(written)));
            stack.fanout().stop();
            long seq = agent.append("run-1", TestAgent.delta("m-1", "to a crowd"))
                    .path("lastSeq")
                    .asLong();
            // the append posted nothing to the crowd, so marked nothing
            assertThat(marks.read(s).covers(seq)).isFalse();
            stack.fanout().start();
            for (WsClient tab : tabs)
                await().atMost(Duration.ofSeconds(60)).until(() -> tab.rawSeqs().contains(seq));
            // the fan-out posted it, once: had the append posted it too, it would not have been marked
            // when the fan-out read the mark, and every tab would hold it twice
            for (WsClient tab : tabs)
                assertThat(tab.rawSeqs()).filteredOn(x -> x == seq).hasSize(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> marks.read(s).upTo() >= seq);
        } finally {
            tabs.forEach(WsClient::close);
        }
    }

    @Test
    void concurrentWritersEachMarkTheirOwnAppendsSoTheFanOutPostsNoneOfThemAgain() throws Exception {
        String s = "direct-writers-" + UUID.randomUUID();
        int writers = 4;
        int appendsEach = 15;
        try (TestAgent first = new TestAgent(stack.webSocketUrl(), s, "agent-0")) {
            first.startReply("run-0", "m-0");
            try (WsClient tab = subscriber(s, "tab-1")) {
                DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
                long written = StoredLog.events(stack, s).size();
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().containsAll(oneTo(written)));
                stack.fanout().stop();
                // the writers' appends commit and post in any order: none waits for another's mark
                // a writer's failed append fails the test with its own message (get rethrows it)
                List<TestAgent> agents = new java.util.ArrayList<>();
                try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<CompletableFuture<Void>> writing = new java.util.ArrayList<>();
                    for (int w = 1; w <= writers; w++) {
                        TestAgent a = new TestAgent(stack.webSocketUrl(), s, "agent-" + w);
                        agents.add(a);
                        String run = "run-" + w;
                        writing.add(CompletableFuture.runAsync(
                                () -> {
                                    a.startReply(run, "m-" + run);
                                    for (int i = 0; i < appendsEach; i++) a.delta(run, "m-" + run, "t" + i + " ");
                                },
                                pool));
                    }
                    CompletableFuture.allOf(writing.toArray(CompletableFuture[]::new))
                            .get(120, TimeUnit.SECONDS);
                }
                agents.forEach(TestAgent::close);
                long head = StoredLog.events(stack, s).size();
                assertThat(head).isEqualTo(written + writers * (2L + appendsEach));
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(head));
                await().atMost(Duration.ofSeconds(30)).until(() -> coversAll(marks.read(s), written + 1, head));
                long before = stack.fanout().counters().recordsDelivered();
                stack.fanout().start();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> stack.fanout().counters().recordsDelivered() - before >= head - written);
                first.delta("run-0", "m-0", "last");
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().contains(head + 1));
                assertThat(tab.rawSeqs())
                        .filteredOn(seq -> seq > written && seq <= head)
                        .hasSize((int) (head - written))
                        .doesNotHaveDuplicates();
            }
        }
    }

    @Test
    void theMarksSetOfDirectSeqsStaysSmallTheFanOutMovesUpToPastThem() {
        String s = "direct-compact-" + UUID.randomUUID();
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
            try (WsClient tab = subscriber(s, "tab-1")) {
                DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
                for (int i = 0; i < 3 * FanoutHandler.COMPACT_MARK_AT; i++) agent.delta("run-1", "m-1", "t" + i + " ");
                long head = StoredLog.events(stack, s).size();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> marks.read(s).upTo() >= FanoutHandler.COMPACT_MARK_AT);
                DeliveryMarks.Mark m = marks.read(s);
                assertThat(coversAll(m, 1, head)).isTrue();
                // at most what came after the fan-out's last move, plus one stream batch (≤ 100 records)
                assertThat(m.direct()).hasSizeLessThan(FanoutHandler.COMPACT_MARK_AT + 100);
            }
        }
    }

    @Test
    void aMarkThatLandsAfterTheSessionWasErasedBringsBackNoRow() {
        String s = "erased-" + UUID.randomUUID();
        DeliveryMarks marks = new DeliveryMarks(stack.services().dynamo(), stack.tables());
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-1", "m-1");
        }
        // the append that created the session created its (empty) mark row, named after the session's
        // incarnation (its createdAt), which its events carry too
        assertThat(deliveredRow(s)).isTrue();
        long erased = marks.read(s, true).incarnation();
        assertThat(erased).isPositive();
        assertThat(eventItems(s))
                .isNotEmpty()
                .allSatisfy(item -> assertThat(incarnationOf(item)).isEqualTo(erased));
        new SessionCatalog(
                        stack.services().dynamo(),
                        stack.tables(),
                        stack.services().clock())
                .erase(s);
        assertThat(deliveredRow(s)).isFalse();
        // a fan-out or a direct post still finishing for the erased session (the fan-out waits up to
        // DIRECT_GRACE for direct delivery) moves the mark: nothing is written
        marks.deliveredThrough(s, 2, DeliveryMarks.Mark.NONE, erased);
        marks.deliveredDirectly(s, 3, 3, erased);
        assertThat(deliveredRow(s)).isFalse();
        // created again: a fresh, empty row of a new incarnation
        try (TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            agent.startReply("run-2", "m-2");
        }
        DeliveryMarks.Mark fresh = marks.read(s, true);
        assertThat(fresh.marksNothing()).isTrue();
        assertThat(fresh.incarnation()).isGreaterThan(erased);
        // the erased session's marks, landing only now, do not match it: nothing is written
        marks.deliveredThrough(s, 2, DeliveryMarks.Mark.NONE, erased);
        marks.deliveredDirectly(s, 3, 3, erased); // its events were written before the new session was
        assertThat(marks.read(s, true)).isEqualTo(fresh);
        // while the new session's own marks do
        marks.deliveredThrough(s, 1, fresh, fresh.incarnation());
        marks.deliveredDirectly(s, 2, 2, fresh.incarnation());
        assertThat(marks.read(s, true)).isEqualTo(new DeliveryMarks.Mark(1, Set.of(2L), fresh.incarnation()));
    }

    @Test
    void anErasedSessionsLastEventsAreNotPostedToTheSessionCreatedAgainUnderItsId() {
        // a stack of its own: its fan-out's record count is this test's alone
        try (EmbeddedStack own = EmbeddedStack.start()) {
            String s = "again-" + UUID.randomUUID();
            SessionCatalog catalog = new SessionCatalog(
                    own.services().dynamo(), own.tables(), own.services().clock());
            own.fanout().stop(); // the stream stands still: the first session's events wait in it
            try (TestAgent agent = new TestAgent(own.webSocketUrl(), s, "agent-1")) {
                agent.startReply("run-erased", "m-1");
                // more events than the new session will have: no seq of theirs is marked delivered there
                for (int i = 0; i < 8; i++) agent.delta("run-erased", "m-1", "erased" + i + " ");
            }
            long erased = StoredLog.events(own, s).size();
            catalog.erase(s);
            assertThat(catalog.create(s, "agent-1", null, null, null)).isTrue();
            try (WsClient tab = subscriber(own, s, "tab-1")) {
                own.fanout().start(); // the erased session's events reach the fan-out only now
                try (TestAgent agent = new TestAgent(own.webSocketUrl(), s, "agent-1")) {
                    agent.startReply("run-new", "m-2");
                    agent.delta("run-new", "m-2", "new ");
                }
                long created = StoredLog.events(own, s).size();
                // one shard per session: once the fan-out has had every record, it had the old ones first
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> own.fanout().counters().recordsDelivered() >= erased + created);
                await().atMost(Duration.ofSeconds(30)).until(() -> tab.rawSeqs().containsAll(oneTo(created)));
                List<String> runs = new java.util.ArrayList<>();
                for (ObjectNode f : tab.framesOfType("events"))
                    f.get("events").forEach(e -> runs.add(e.path("runId").asText(null)));
                assertThat(runs).contains("run-new").doesNotContain("run-erased");
            }
        }
    }

    static boolean deliveredRow(String session) {
        return stack.dynamoClient()
                .getItem(g -> g.tableName(stack.tables().sessions())
                        .consistentRead(true)
                        .key(Map.of(
                                Attrs.SESSION_ID,
                                AttributeValue.fromS(session),
                                Attrs.SK,
                                AttributeValue.fromS(Keys.DELIVERED))))
                .hasItem();
    }

    static List<Map<String, AttributeValue>> eventItems(String session) {
        return StoredLog.rows(stack, stack.tables().events(), Attrs.SESSION_ID, session);
    }

    static long incarnationOf(Map<String, AttributeValue> eventItem) {
        AttributeValue inc = eventItem.get(Attrs.INCARNATION);
        return inc == null ? 0 : Long.parseLong(inc.n());
    }

    static boolean coversAll(DeliveryMarks.Mark m, long from, long to) {
        return LongStream.rangeClosed(from, to).allMatch(m::covers);
    }
}
