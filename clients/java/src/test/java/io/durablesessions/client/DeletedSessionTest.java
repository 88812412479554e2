package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.events.Event;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A session erased while a reader is attached: the reader is told once and does not come back for it. */
@WithTestStack
class DeletedSessionTest {
    final TestStack stack;

    DeletedSessionTest(TestStack stack) {
        this.stack = stack;
    }

    @Test
    void aReaderIsToldTheSessionWasErasedStopsAndDoesNotResumeIt() throws Exception {
        String s = "erased-" + UUID.randomUUID();
        List<Event> seen = new CopyOnWriteArrayList<>();
        AtomicInteger deleted = new AtomicInteger();
        AtomicInteger connects = new AtomicInteger();
        try (DurableAgent agent = DurableAgent.builder(stack.httpApiUrl(), s, "p1")
                        .bearerToken(() -> stack.token("agent-1", "agent"))
                        .connect();
                SessionSubscriber reader = SessionSubscriber.builder(stack.webSocketUrl(), s)
                        .connectQuery(() -> stack.clientQuery("user-1", "tab-1"))
                        .listener(new SessionSubscriber.Listener() {
                            @Override
                            public void onEvent(Event e) {
                                seen.add(e);
                            }

                            @Override
                            public void onConnected() {
                                connects.incrementAndGet();
                            }

                            @Override
                            public void onDeleted() {
                                deleted.incrementAndGet();
                            }
                        })
                        .start()) {
            DurableAgent.Run run = agent.startRun("run-1");
            run.startReply("m-1").delta("hello");
            agent.flush();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> seen.stream().anyMatch(e -> e.type().wire().equals("text.delta")));

            HttpResponse<String> del = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + "/v1/sessions/" + s))
                                    .header("Authorization", "Bearer " + stack.token("user-1", "client"))
                                    .DELETE()
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(del.statusCode()).as(del.body()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(20)).until(() -> deleted.get() == 1);
            int connectsAtDeletion = connects.get();
            Thread.sleep(1500); // a reconnecting reader would have subscribed again by now
            assertThat(connects.get()).isEqualTo(connectsAtDeletion);
            assertThat(deleted.get()).isEqualTo(1);
            assertThat(stack.storedLog(s)).isEmpty();
        }
    }
}
