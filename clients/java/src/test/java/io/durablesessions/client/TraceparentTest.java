package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An agent's {@code traceparent} (docs/protocol.md §3.1) reaches a subscriber on every event of the
 * appends that carried it, over the WebSocket and over HTTP, end to end on the local stack.
 */
@WithTestStack
class TraceparentTest {
    static final String FIRST = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    static final String SECOND = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    final TestStack stack;

    TraceparentTest(TestStack stack) {
        this.stack = stack;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ws", "http"})
    void aSubscriberSeesTheTraceparentOfTheAppendThatWroteEachEvent(String transport) {
        String s = "traced-" + transport + "-" + UUID.randomUUID();
        List<Event> seen = new CopyOnWriteArrayList<>();
        AtomicReference<String> current = new AtomicReference<>(FIRST);
        URI url = transport.equals("ws") ? stack.webSocketUrl() : stack.httpApiUrl();
        DurableAgent.Builder b = DurableAgent.builder(url, s, "p1").traceparent(current::get);
        if (transport.equals("ws")) b.connectQuery(() -> stack.agentQuery("agent-1"));
        else b.bearerToken(() -> stack.token("agent-1", "agent"));
        try (SessionSubscriber reader = SessionSubscriber.builder(stack.webSocketUrl(), s)
                        .connectQuery(() -> stack.clientQuery("user-1", "tab-1"))
                        .listener(new SessionSubscriber.Listener() {
                            @Override
                            public void onEvent(Event e) {
                                seen.add(e);
                            }
                        })
                        .start();
                DurableAgent agent = b.connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            assertThat(agent.flush()).isTrue();
            current.set(SECOND);
            DurableAgent.Reply reply = run.startReply("m-1");
            reply.delta("hello");
            reply.end();
            assertThat(agent.flush()).isTrue();
            current.set("not a traceparent"); // not sent: the append goes through without one
            run.complete();

            await().atMost(Duration.ofSeconds(20))
                    .until(() -> seen.stream().anyMatch(e -> e.type() == EventType.RUN_COMPLETED));
            assertThat(seen)
                    .filteredOn(e -> e.type() == EventType.RUN_STARTED)
                    .extracting(Event::traceparent)
                    .containsOnly(FIRST);
            assertThat(seen)
                    .filteredOn(e -> e.runId() != null
                            && e.type() != EventType.RUN_STARTED
                            && e.type() != EventType.RUN_COMPLETED)
                    .extracting(Event::traceparent)
                    .isNotEmpty()
                    .containsOnly(SECOND);
            assertThat(seen)
                    .filteredOn(e -> e.type() == EventType.RUN_COMPLETED)
                    .extracting(Event::traceparent)
                    .containsOnlyNulls();
            // and as stored
            assertThat(stack.storedLog(s))
                    .filteredOn(e -> e.type() == EventType.TEXT_DELTA)
                    .extracting(Event::traceparent)
                    .containsOnly(SECOND);
        }
    }
}
