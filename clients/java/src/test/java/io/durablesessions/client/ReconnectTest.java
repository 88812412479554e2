package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.events.Event;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The gateway closes every connection after 2 s: agent and subscribers must not lose or repeat anything. */
@WithTestStack(maxConnectionAgeMillis = 2000)
class ReconnectTest {
    final TestStack stack;

    ReconnectTest(TestStack stack) {
        this.stack = stack;
    }

    @Test
    void forcedReconnectsDuringALongStreamEndWithTheCompleteOrderedLog() throws Exception {
        String s = "recon-" + UUID.randomUUID();
        List<Event> live = new CopyOnWriteArrayList<>();
        List<Event> proactive = new CopyOnWriteArrayList<>();
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .requestTimeout(Duration.ofSeconds(2))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            agent.flush();
            // one subscriber is closed by the gateway every 2 s; the other replaces its connection at 1.2 s itself
            try (SessionSubscriber closedByGateway = SessionSubscriber.builder(stack.webSocketUrl(), s)
                            .connectQuery(() -> stack.clientQuery("user-1", "tab-1"))
                            .listener(collect(live))
                            .start();
                    SessionSubscriber replacing = SessionSubscriber.builder(stack.webSocketUrl(), s)
                            .connectQuery(() -> stack.clientQuery("user-1", "tab-2"))
                            .maxConnectionAge(Duration.ofMillis(1200))
                            .listener(collect(proactive))
                            .start()) {
                expected.append(Stacks.streamTokens(reply, 1200, 150)); // 8 s of tokens
                assertThat(reply.end()).isTrue();
                assertThat(run.complete()).isTrue();
                List<Event> stored = stack.storedLog(s);
                long head = stored.get(stored.size() - 1).seq();
                assertThat(closedByGateway.awaitSeq(head, Duration.ofSeconds(20)))
                        .isTrue();
                assertThat(replacing.awaitSeq(head, Duration.ofSeconds(20))).isTrue();
                assertThat(Stacks.text(stored, "m-1")).isEqualTo(expected.toString());
                List<String> storedJson = stored.stream().map(Event::toJson).toList();
                // presence events may follow the stored head we read: compare up to it
                assertThat(live.stream()
                                .filter(e -> e.seq() <= head)
                                .map(Event::toJson)
                                .toList())
                        .isEqualTo(storedJson);
                assertThat(proactive.stream()
                                .filter(e -> e.seq() <= head)
                                .map(Event::toJson)
                                .toList())
                        .isEqualTo(storedJson);
                // a resubscribe's answer may trail the catch-up it delivered: wait for the count
                await().atMost(Duration.ofSeconds(20)).until(() -> closedByGateway.connects() >= 3);
                await().atMost(Duration.ofSeconds(20)).until(() -> replacing.connects() >= 4);
                assertThat(Stacks.text(closedByGateway.state(), "m-1")).isEqualTo(expected.toString());
            }
        }
    }

    @Test
    void aHydratingSubscriberJoiningMidStreamEndsWithTheSameText() throws Exception {
        String s = "hyd-" + UUID.randomUUID();
        StringBuilder expected = new StringBuilder();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                .connectQuery(() -> stack.agentQuery("agent-1"))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableAgent.Reply reply = run.startReply("m-1");
            SessionSubscriber late = null;
            try {
                for (int i = 0; i < 600; i++) {
                    if (i == 200) {
                        agent.flush();
                        late = SessionSubscriber.builder(stack.webSocketUrl(), s)
                                .connectQuery(() -> stack.clientQuery("user-2", "tab-3"))
                                .hydrate()
                                .start();
                    }
                    String token = "t" + i + " ";
                    expected.append(token);
                    reply.delta(token);
                    LockSupport.parkNanos(3_000_000);
                }
                assertThat(reply.end()).isTrue();
                assertThat(run.complete()).isTrue();
                List<Event> stored = stack.storedLog(s);
                long head = stored.get(stored.size() - 1).seq();
                assertThat(late.awaitSeq(head, Duration.ofSeconds(20))).isTrue();
                assertThat(Stacks.text(late.state(), "m-1")).isEqualTo(expected.toString());
            } finally {
                if (late != null) late.close();
            }
        }
    }

    static SessionSubscriber.Listener collect(List<Event> into) {
        return new SessionSubscriber.Listener() {
            @Override
            public void onEvent(Event event) {
                into.add(event);
            }
        };
    }
}
