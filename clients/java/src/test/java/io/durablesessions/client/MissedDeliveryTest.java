package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.local.EmbeddedStack;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The fan-out gives up on a batch (the management API was down through all its retries; the batch
 * went to the on-failure destination) and nothing is appended after it: an idle reader still gets
 * those events, because its keep-alive ping's answer names the session's head.
 *
 * <p>It turns the in-process gateway's management API off, so it needs the local stack in this JVM:
 * Java 21+ only (the run on a JDK 17 leaves it out: {@code ds.jdk17.excludes} in the pom).
 */
@WithTestStack
class MissedDeliveryTest {
    final TestStack stack;
    final EmbeddedStack embedded;

    MissedDeliveryTest(TestStack stack, EmbeddedStack embedded) {
        this.stack = stack;
        this.embedded = embedded;
    }

    @Test
    void eventsWhoseDeliveryGaveUpReachAnIdleReaderThroughItsPing() {
        String s = "missed-" + UUID.randomUUID();
        List<Event> seen = new CopyOnWriteArrayList<>();
        try (DurableAgent agent = DurableAgent.builder(stack.httpApiUrl(), s, "p1")
                        .bearerToken(() -> stack.token("agent-1", "agent"))
                        .connect();
                SessionSubscriber reader = SessionSubscriber.builder(stack.webSocketUrl(), s)
                        .afterSeq(0)
                        .connectQuery(() -> stack.clientQuery("user-1", "tab-1"))
                        .pingInterval(Duration.ofSeconds(1))
                        .listener(new SessionSubscriber.Listener() {
                            @Override
                            public void onEvent(Event e) {
                                seen.add(e);
                            }
                        })
                        .start()) {
            agent.append(EventType.CUSTOM, custom("before")).join();
            await().atMost(Duration.ofSeconds(20)).until(() -> names(seen).contains("before"));

            int failedBefore = embedded.failedBatches().size();
            embedded.gateway().setManagementApiAvailable(false);
            agent.append(EventType.CUSTOM, custom("lost-1")).join();
            agent.append(EventType.CUSTOM, custom("lost-2")).join();
            // every retry of the fan-out fails; the batch goes to the on-failure destination
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> embedded.failedBatches().size() > failedBefore);
            assertThat(names(seen)).doesNotContain("lost-1", "lost-2");
            embedded.gateway().setManagementApiAvailable(true);

            // nothing more is appended: only the ping can reveal what is missing
            await().atMost(Duration.ofSeconds(20)).until(() -> names(seen).containsAll(List.of("lost-1", "lost-2")));
            assertThat(names(seen)).containsExactly("before", "lost-1", "lost-2"); // once each, in order
        } finally {
            embedded.gateway().setManagementApiAvailable(true);
        }
    }

    static ObjectNode custom(String name) {
        return Json.object().put("name", name);
    }

    static List<String> names(List<Event> events) {
        return events.stream()
                .filter(e -> e.type() == EventType.CUSTOM)
                .map(e -> e.dataText("name"))
                .toList();
    }
}
