package io.durablesessions.springai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.RunControls;
import io.durablesessions.events.Coalescing;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.function.FunctionToolCallback;
import reactor.core.publisher.Flux;
import reactor.test.publisher.TestPublisher;

/**
 * A Spring AI {@link ChatClient} stream, from a model whose stream is Reactor's own
 * {@link TestPublisher} (it records its cancellation) or a plain Flux, streamed through
 * {@link DurableChatStream} into a real local stack and read back from the store.
 */
@WithTestStack
class DurableChatStreamTest {
    final TestStack stack;

    DurableChatStreamTest(TestStack stack) {
        this.stack = stack;
    }

    @Test
    void aChatClientStreamIsStoredExactlyWithItsToolCallAndTheReasoningReachesItsHandler() {
        String s = "sai-exact-" + UUID.randomUUID();
        String text = "Hello, durable wörld — \"quoted\", tab\t, 1 < 2 & 3 > 2. " + Sessions.words(300);
        List<ChatResponse> chunks = new ArrayList<>();
        chunks.add(Sessions.reasoning("Let me "));
        chunks.add(Sessions.reasoning("think."));
        chunks.addAll(Sessions.chunks(text, 7));
        chunks.add(Sessions.toolCall("call-1", "weather", "{\"city\":\"Oslo\"}"));
        ChatClient chat = ChatClient.create(Sessions.model(prompt -> Flux.fromIterable(chunks)));
        StringBuilder thinking = new StringBuilder();
        DurableChatStream.Result result;
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableChatStream stream = DurableChatStream.builder(run, "m-1")
                    .onThinking((reply, t) -> thinking.append(t))
                    .build();
            result = stream.stream(chat.prompt().user("hi").stream())
                    .orTimeout(60, TimeUnit.SECONDS)
                    .join();
            assertThat(stream.toolResult("call-1", "{\"sky\":\"sunny\"}", false).join())
                    .isTrue();
            assertThat(run.complete()).isTrue();
        }
        assertThat(result.text()).isEqualTo(text);
        assertThat(result.toolCalls())
                .singleElement()
                .satisfies(c -> assertThat(c.name()).isEqualTo("weather"));
        assertThat(thinking.toString()).isEqualTo("Let me think.");
        List<Event> log = stack.storedLog(s);
        assertThat(Sessions.text(log, "m-1")).isEqualTo(text);
        assertThat(Sessions.ofType(log, EventType.TOOL_CALL)).singleElement().satisfies(e -> {
            assertThat(e.dataText("toolCallId")).isEqualTo("call-1");
            assertThat(e.data().get("arguments")).isEqualTo(Json.parseObject("{\"city\":\"Oslo\"}"));
        });
        assertThat(Sessions.ofType(log, EventType.TOOL_RESULT))
                .singleElement()
                .satisfies(e -> assertThat(e.data().get("result")).isEqualTo(Json.parseObject("{\"sky\":\"sunny\"}")));
        assertThat(Sessions.ofType(log, EventType.MESSAGE_END)).hasSize(1);
        // a handler of its own replaces the default: nothing of the reasoning is stored
        assertThat(log)
                .filteredOn(e -> "run-1".equals(e.runId()))
                .extracting(Event::type)
                .containsOnly(
                        EventType.RUN_STARTED,
                        EventType.MESSAGE_START,
                        EventType.TEXT_DELTA,
                        EventType.TOOL_CALL,
                        EventType.MESSAGE_END,
                        EventType.TOOL_RESULT,
                        EventType.RUN_COMPLETED);
    }

    @Test
    void byDefaultReasoningIsStoredAsTheRepliesReasoningInTheOrderItCame() {
        String s = "sai-reasoning-" + UUID.randomUUID();
        List<ChatResponse> chunks = new ArrayList<>();
        chunks.add(Sessions.reasoning("Let me "));
        chunks.add(Sessions.reasoning("think."));
        chunks.addAll(Sessions.chunks("The answer is 42.", 4));
        ChatClient chat = ChatClient.create(Sessions.model(prompt -> Flux.fromIterable(chunks)));
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableChatStream.builder(run, "m-1").build().stream(chat.prompt().user("hi").stream())
                    .orTimeout(60, TimeUnit.SECONDS)
                    .join();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Sessions.text(log, "m-1")).isEqualTo("The answer is 42.");
        List<Event> reasoning = Sessions.ofType(log, EventType.REASONING_DELTA);
        assertThat(reasoning.stream().map(e -> e.dataText("text")).collect(java.util.stream.Collectors.joining()))
                .isEqualTo("Let me think.");
        long lastReasoning = reasoning.stream().mapToLong(Event::seq).max().orElseThrow();
        assertThat(Sessions.ofType(log, EventType.TEXT_DELTA))
                .allSatisfy(e -> assertThat(e.seq()).isGreaterThan(lastReasoning));
    }

    /** Emits "w0 w1 …" into the publisher every few ms until it is cancelled; returns what it emitted. */
    static Thread emit(TestPublisher<ChatResponse> publisher, StringBuilder emitted, int words) {
        Thread t = new Thread(
                () -> {
                    for (int i = 0; i < words && !publisher.wasCancelled(); i++) {
                        String w = "w" + i + " ";
                        synchronized (emitted) {
                            emitted.append(w);
                        }
                        publisher.next(Sessions.text(w));
                        LockSupport.parkNanos(5_000_000);
                    }
                    if (!publisher.wasCancelled()) publisher.complete();
                },
                "model");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void aStopDisposesTheModelsStreamWithinOneCoalescingWindowAndNothingMoreIsWritten() throws Exception {
        String s = "sai-stop-" + UUID.randomUUID();
        TestPublisher<ChatResponse> publisher = TestPublisher.create();
        AtomicLong cancelledAt = new AtomicLong();
        AtomicLong stopSeenAt = new AtomicLong();
        ChatClient chat = ChatClient.create(
                Sessions.model(prompt -> publisher.flux().doOnCancel(() -> cancelledAt.set(System.nanoTime()))));
        RunControls controls = new RunControls(e -> {
            if (e.kind() == ControlEvent.Kind.CANCEL) stopSeenAt.compareAndSet(0, System.nanoTime());
        });
        StringBuilder emitted = new StringBuilder();
        try (DurableAgent agent = Sessions.agent(stack, s).onControl(controls).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            var result = DurableChatStream.builder(run, "m-1").controls(controls).build().stream(
                    chat.prompt().user("go").stream());
            Thread model = emit(publisher, emitted, 3000);
            // a client presses Stop once part of the reply is stored
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sessions.text(stack.storedLog(s), "m-1").length() > 100);
            stack.control(s, "run-1", "cancel", null);
            await().atMost(Duration.ofSeconds(30)).until(result::isDone);
            assertThatThrownBy(result::join).isInstanceOf(CancellationException.class);
            model.join();
            publisher.assertCancelled();
            assertThat(stopSeenAt.get()).as("the agent learned of the stop").isPositive();
            assertThat(cancelledAt.get()).as("the model's stream was cancelled").isPositive();
            assertThat(Duration.ofNanos(cancelledAt.get() - stopSeenAt.get())).isLessThan(Coalescing.DEFAULT_WINDOW);
            await().atMost(Duration.ofSeconds(30)).until(() -> "stopped".equals(stack.runState(s, "run-1")));
            assertThat(run.complete()).isFalse();
        }
        List<Event> log = stack.storedLog(s);
        Event requested = Sessions.ofType(log, EventType.RUN_STOP_REQUESTED).get(0);
        long stoppedAt = requested.data().get("stoppedAtSeq").asLong();
        assertThat(Sessions.ofType(log, EventType.TEXT_DELTA))
                .allSatisfy(e -> assertThat(e.seq()).isLessThanOrEqualTo(stoppedAt));
        assertThat(emitted.toString()).startsWith(Sessions.text(log, "m-1"));
        assertThat(log.stream()
                        .filter(e -> e.seq() > requested.seq() && "run-1".equals(e.runId()))
                        .map(Event::type))
                .contains(EventType.RUN_STOP_ACKNOWLEDGED)
                .isSubsetOf(EventType.RUN_STOP_ACKNOWLEDGED, EventType.RUN_STOPPED);
        assertThat(Sessions.ofType(log, EventType.MESSAGE_END)).isEmpty();
    }

    @Test
    void anInterruptDisposesThatRepliesStreamASteerReachesTheCallbackAndTheRunGoesOn() throws Exception {
        String s = "sai-int-" + UUID.randomUUID();
        TestPublisher<ChatResponse> publisher = TestPublisher.create();
        List<String> steers = new CopyOnWriteArrayList<>();
        RunControls controls = new RunControls();
        StringBuilder emitted = new StringBuilder();
        try (DurableAgent agent = Sessions.agent(stack, s).onControl(controls).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            var first = DurableChatStream.builder(run, "m-1")
                    .controls(controls)
                    .onSteer(steers::add)
                    .build()
                    .streamText(
                            publisher.flux().map(r -> r.getResult().getOutput().getText()));
            Thread model = emit(publisher, emitted, 3000);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sessions.text(stack.storedLog(s), "m-1").length() > 50);
            stack.control(s, "run-1", "steer", "be brief");
            await().atMost(Duration.ofSeconds(30)).until(() -> steers.contains("be brief"));
            assertThat(first).isNotDone();
            stack.control(s, "run-1", "interrupt", null);
            await().atMost(Duration.ofSeconds(30)).until(first::isDone);
            assertThatThrownBy(first::join).isInstanceOf(CancellationException.class);
            model.join();
            publisher.assertCancelled();

            ChatClient chat = ChatClient.create(
                    Sessions.model(prompt -> Flux.just(Sessions.text("Brief: "), Sessions.text("yes."))));
            var second = DurableChatStream.builder(run, "m-2")
                    .controls(controls)
                    .build()
                    .streamText(chat.prompt().user("again").stream().content());
            assertThat(second.orTimeout(60, TimeUnit.SECONDS).join().text()).isEqualTo("Brief: yes.");
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(emitted.toString()).startsWith(Sessions.text(log, "m-1"));
        assertThat(Sessions.text(log, "m-2")).isEqualTo("Brief: yes.");
        assertThat(steers).containsExactly("be brief");
    }

    record City(String city) {}

    @Test
    void durableToolsRecordTheCallsSpringAiRunsWithTheirResultsAndErrors() {
        String s = "sai-tools-" + UUID.randomUUID();
        ToolCallback weather = FunctionToolCallback.builder(
                        "weather", (City c) -> Map.of("city", c.city(), "sky", "sunny"))
                .description("the weather in a city")
                .inputType(City.class)
                .build();
        ToolCallback broken = FunctionToolCallback.builder("broken", (City c) -> {
                    throw new IllegalStateException("no forecast for " + c.city());
                })
                .description("always fails")
                .inputType(City.class)
                .build();
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            ToolCallback[] recorded = DurableTools.recording(run, "m-1", weather, broken);
            assertThat(recorded[0].getToolDefinition().name()).isEqualTo("weather");
            assertThat(Json.parseObject(recorded[0].call("{\"city\":\"Oslo\"}"))
                            .path("sky")
                            .asText())
                    .isEqualTo("sunny");
            assertThatThrownBy(() -> recorded[1].call("{\"city\":\"Bergen\"}")).isInstanceOf(RuntimeException.class);
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Sessions.ofType(log, EventType.TOOL_CALL))
                .extracting(e -> e.dataText("toolCallId") + " " + e.dataText("name") + " "
                        + Json.write(e.data().get("arguments")))
                .containsExactly("m-1-tool-1 weather {\"city\":\"Oslo\"}", "m-1-tool-2 broken {\"city\":\"Bergen\"}");
        List<Event> results = Sessions.ofType(log, EventType.TOOL_RESULT);
        assertThat(results).hasSize(2);
        assertThat(results.get(0).data().get("result").path("sky").asText()).isEqualTo("sunny");
        assertThat(results.get(0).data().has("isError")).isFalse();
        assertThat(results.get(1).dataText("toolCallId")).isEqualTo("m-1-tool-2");
        assertThat(results.get(1).data().get("isError").asBoolean()).isTrue();
        assertThat(results.get(1).data().get("result").asText()).contains("no forecast for Bergen");
    }
}
