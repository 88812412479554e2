package io.durablesessions.lab.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.lab.bench.SdkClients;
import io.durablesessions.local.EmbeddedStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo chat as {@code ./scripts/local} mounts it (LocalMain): its token stays on this machine,
 * and its simulated agent, a DurableAgent, answers a turn and obeys a stop.
 */
class DemoTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Demo demo;
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        demo = new Demo();
        stack = EmbeddedStack.start(EmbeddedStack.Config.defaults().withHttpRoute("/demo", demo.handler()));
        demo.start(stack.webSocketUrl());
    }

    @AfterAll
    static void stop() {
        demo.close();
        stack.close();
    }

    static HttpResponse<String> turn(String sessionId, String text) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + "/demo/api/turn"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"sessionId\":\"" + sessionId + "\",\"text\":\"" + text + "\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theDemoHandsItsTokenToThisMachineOnlyAndTakesJsonTurnsOnly() throws Exception {
        URI config = URI.create(stack.httpApiUrl() + "/demo/api/config");
        // a DNS-rebinding page: its own host name, resolving to 127.0.0.1
        HttpResponse<String> rebound = HTTP.send(
                HttpRequest.newBuilder(config)
                        .header("Origin", "http://evil.example")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(rebound.statusCode()).isEqualTo(403);
        assertThat(rebound.body()).doesNotContain("token");
        HttpResponse<String> form = HTTP.send(
                HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + "/demo/api/turn"))
                        .header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"sessionId\":\"demo-x\",\"text\":\"hi\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(form.statusCode()).isEqualTo(415);
        HttpResponse<String> local =
                HTTP.send(HttpRequest.newBuilder(config).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(local.statusCode()).isEqualTo(200);
        assertThat(local.headers().firstValue("Server")).isEmpty();
    }

    @Test
    void theAgentAnswersATurnWithAnEchoAndItsTextThenCompletesTheRun() throws Exception {
        String s = "demo-" + UUID.randomUUID();
        List<Event> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> connected = new CompletableFuture<>();
        try (SessionSubscriber tab = SdkClients.reader(stack.webSocketUrl(), s, "tab-1", events::add, connected)
                .start()) {
            connected.get(30, TimeUnit.SECONDS);
            assertThat(turn(s, "hello there").statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> events.stream().anyMatch(e -> e.type() == EventType.RUN_COMPLETED));
            String text = events.stream()
                    .filter(e -> e.type() == EventType.TEXT_DELTA)
                    .map(e -> e.dataText("text"))
                    .collect(Collectors.joining());
            assertThat(text)
                    .startsWith(
                            "You said: \"hello there\". Here is a simulated streamed answer: a durable session keeps");
            assertThat(events)
                    .extracting(Event::type)
                    .containsSubsequence(
                            EventType.RUN_STARTED,
                            EventType.MESSAGE_START,
                            EventType.TEXT_DELTA,
                            EventType.MESSAGE_END,
                            EventType.RUN_COMPLETED);
        }
    }

    @Test
    void aStopEndsTheReplyTheAgentAcknowledgesItAndWritesNothingMore() throws Exception {
        String s = "demo-stop-" + UUID.randomUUID();
        List<Event> events = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> connected = new CompletableFuture<>();
        try (SessionSubscriber tab = SdkClients.reader(stack.webSocketUrl(), s, "tab-1", events::add, connected)
                .start()) {
            connected.get(30, TimeUnit.SECONDS);
            assertThat(turn(s, "a long answer please").statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> events.stream()
                                    .filter(e -> e.type() == EventType.TEXT_DELTA)
                                    .count()
                            >= 2);
            String runId = events.stream()
                    .filter(e -> e.type() == EventType.RUN_STARTED)
                    .findFirst()
                    .orElseThrow()
                    .runId();
            tab.cancel(runId).get(30, TimeUnit.SECONDS);
            // the SDK acknowledges the stop, which the service records with run.stopped
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> events.stream().anyMatch(e -> e.type() == EventType.RUN_STOPPED));
            long stopAt = events.stream()
                    .filter(e -> e.type() == EventType.RUN_STOP_REQUESTED)
                    .findFirst()
                    .orElseThrow()
                    .seq();
            assertThat(events)
                    .filteredOn(e -> e.seq() > stopAt)
                    .extracting(Event::type)
                    .containsOnly(EventType.RUN_STOP_ACKNOWLEDGED, EventType.RUN_STOPPED);
            assertThat(events).extracting(Event::type).doesNotContain(EventType.RUN_COMPLETED);
        }
    }
}
