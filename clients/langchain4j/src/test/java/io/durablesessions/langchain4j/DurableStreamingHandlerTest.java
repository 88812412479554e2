package io.durablesessions.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.mock.StreamingChatModelMock;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's own {@link StreamingChatModelMock} (and, for thinking, which the mock does not
 * stream, a small model of the test's) streamed through {@link DurableStreamingHandler} into a real
 * local stack, and read back from the store.
 */
@WithTestStack
class DurableStreamingHandlerTest {
    final TestStack stack;

    DurableStreamingHandlerTest(TestStack stack) {
        this.stack = stack;
    }

    static String words(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append("w").append(i).append(i % 9 == 8 ? ".\n" : " ");
        return sb.toString();
    }

    @Test
    void aMockModelsReplyAndToolCallAreStoredExactlyAndTheToolResultFollows() {
        String s = "l4j-exact-" + UUID.randomUUID();
        String text = "Hello, durable wörld — \"quoted\", tab\t, 1 < 2 & 3 > 2. " + words(300);
        ToolExecutionRequest call = ToolExecutionRequest.builder()
                .id("call-1")
                .name("weather")
                .arguments("{\"city\":\"Oslo\",\"days\":[1,2]}")
                .build();
        StreamingChatModel model = StreamingChatModelMock.thatAlwaysStreams(AiMessage.builder()
                .text(text)
                .toolExecutionRequests(List.of(call))
                .build());
        ChatResponse response;
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableStreamingHandler handler =
                    DurableStreamingHandler.builder(run, "m-1").build();
            model.chat(
                    ChatRequest.builder()
                            .messages(dev.langchain4j.data.message.UserMessage.from("hi"))
                            .build(),
                    handler);
            response = handler.response().orTimeout(60, TimeUnit.SECONDS).join();
            assertThat(handler.toolResult(call, "{\"forecast\":\"sunny\"}", false)
                            .join())
                    .isTrue();
            assertThat(run.complete()).isTrue();
        }
        assertThat(response.aiMessage().text()).isEqualTo(text);
        List<Event> log = stack.storedLog(s);
        assertThat(Sessions.text(log, "m-1")).isEqualTo(text);
        assertThat(Sessions.ofType(log, EventType.TOOL_CALL)).singleElement().satisfies(e -> {
            assertThat(e.dataText("toolCallId")).isEqualTo("call-1");
            assertThat(e.dataText("name")).isEqualTo("weather");
            assertThat(e.data().get("arguments")).isEqualTo(Json.parseObject("{\"city\":\"Oslo\",\"days\":[1,2]}"));
        });
        assertThat(Sessions.ofType(log, EventType.TOOL_RESULT))
                .singleElement()
                .satisfies(e ->
                        assertThat(e.data().get("result")).isEqualTo(Json.parseObject("{\"forecast\":\"sunny\"}")));
        assertThat(Sessions.ofType(log, EventType.MESSAGE_END))
                .singleElement()
                .satisfies(e -> assertThat(e.seq())
                        .isGreaterThan(Sessions.ofType(log, EventType.TEXT_DELTA)
                                .get(0)
                                .seq()));
        // the text was coalesced: far fewer events than the mock's one-character tokens
        assertThat(Sessions.ofType(log, EventType.TEXT_DELTA).size()).isLessThan(text.length() / 10);
    }

    /** Streams thinking, then text, each token after a short pause; LangChain4j's mock streams no thinking. */
    static final class ThinkingModel implements StreamingChatModel {
        final List<String> thinking;
        final List<String> text;

        ThinkingModel(List<String> thinking, List<String> text) {
            this.thinking = thinking;
            this.text = text;
        }

        @Override
        public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
            StreamingHandle handle = new StreamingHandle() {
                volatile boolean cancelled;

                @Override
                public void cancel() {
                    cancelled = true;
                }

                @Override
                public boolean isCancelled() {
                    return cancelled;
                }
            };
            Thread t = new Thread(() -> {
                for (String token : thinking) {
                    if (handle.isCancelled()) return;
                    handler.onPartialThinking(new PartialThinking(token), new PartialThinkingContext(handle));
                }
                for (String token : text) {
                    if (handle.isCancelled()) return;
                    handler.onPartialResponse(new PartialResponse(token), new PartialResponseContext(handle));
                }
                handler.onCompleteResponse(ChatResponse.builder()
                        .aiMessage(AiMessage.builder()
                                .text(String.join("", text))
                                .thinking(String.join("", thinking))
                                .build())
                        .build());
            });
            t.setDaemon(true);
            t.start();
        }
    }

    @Test
    void thinkingReachesTheThinkingHandlerInOrderAndTheTextIsExact() {
        String s = "l4j-think-" + UUID.randomUUID();
        List<String> thinking = List.of("The user ", "greets me; ", "answer ", "warmly.");
        List<String> text = List.of("Hi", " there", "!");
        StringBuilder seen = new StringBuilder();
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableStreamingHandler handler = DurableStreamingHandler.builder(run, "m-1")
                    .onThinking((reply, t) -> {
                        assertThat(reply.messageId()).isEqualTo("m-1");
                        seen.append(t);
                    })
                    .build();
            new ThinkingModel(thinking, text)
                    .chat(
                            ChatRequest.builder()
                                    .messages(dev.langchain4j.data.message.UserMessage.from("hello"))
                                    .build(),
                            handler);
            handler.response().orTimeout(60, TimeUnit.SECONDS).join();
            assertThat(run.complete()).isTrue();
        }
        assertThat(seen.toString()).isEqualTo(String.join("", thinking));
        List<Event> log = stack.storedLog(s);
        assertThat(Sessions.text(log, "m-1")).isEqualTo("Hi there!");
        // a handler of its own replaces the default: nothing of the thinking is stored
        assertThat(log)
                .filteredOn(e -> "run-1".equals(e.runId()))
                .extracting(Event::type)
                .containsOnly(
                        EventType.RUN_STARTED,
                        EventType.MESSAGE_START,
                        EventType.TEXT_DELTA,
                        EventType.MESSAGE_END,
                        EventType.RUN_COMPLETED);
    }

    @Test
    void byDefaultThinkingIsStoredAsTheRepliesReasoningBeforeItsText() {
        String s = "l4j-reasoning-" + UUID.randomUUID();
        List<String> thinking = List.of("The user ", "greets me; ", "answer ", "warmly.");
        List<String> text = List.of("Hi", " there", "!");
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableStreamingHandler handler =
                    DurableStreamingHandler.builder(run, "m-1").build();
            new ThinkingModel(thinking, text)
                    .chat(
                            ChatRequest.builder()
                                    .messages(dev.langchain4j.data.message.UserMessage.from("hello"))
                                    .build(),
                            handler);
            handler.response().orTimeout(60, TimeUnit.SECONDS).join();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Sessions.text(log, "m-1")).isEqualTo("Hi there!");
        assertThat(Sessions.ofType(log, EventType.REASONING_DELTA).stream()
                        .map(e -> e.dataText("text"))
                        .collect(java.util.stream.Collectors.joining()))
                .isEqualTo(String.join("", thinking));
        long lastReasoning = Sessions.ofType(log, EventType.REASONING_DELTA).stream()
                .mapToLong(Event::seq)
                .max()
                .orElseThrow();
        assertThat(Sessions.ofType(log, EventType.TEXT_DELTA))
                .allSatisfy(e -> assertThat(e.seq()).isGreaterThan(lastReasoning));
    }

    @Test
    void aStopDuringTheStreamCancelsTheModelWithinOneCoalescingWindowAndNothingMoreIsWritten() throws Exception {
        String s = "l4j-stop-" + UUID.randomUUID();
        String text = words(3000);
        StreamingChatModel model = StreamingChatModelMock.thatAlwaysStreams(AiMessage.from(text));
        AtomicLong stopSeenAt = new AtomicLong();
        RunControls controls = new RunControls(e -> {
            if (e.kind() == ControlEvent.Kind.CANCEL) stopSeenAt.compareAndSet(0, System.nanoTime());
        });
        Sessions.Paced paced;
        DurableStreamingHandler handler;
        try (DurableAgent agent = Sessions.agent(stack, s).onControl(controls).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            handler = DurableStreamingHandler.builder(run, "m-1")
                    .controls(controls)
                    .build();
            paced = new Sessions.Paced(handler, 5);
            model.chat(
                    ChatRequest.builder()
                            .messages(dev.langchain4j.data.message.UserMessage.from("go"))
                            .build(),
                    paced);
            // a client presses Stop once part of the reply is stored
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sessions.text(stack.storedLog(s), "m-1").length() > 200);
            stack.control(s, "run-1", "cancel", null);

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> handler.response().isDone());
            assertThatThrownBy(() -> handler.response().join()).isInstanceOf(CancellationException.class);
            assertThat(paced.handle.isCancelled()).isTrue();
            await().atMost(Duration.ofSeconds(30)).until(() -> "stopped".equals(stack.runState(s, "run-1")));
            // the model's last token came within one coalescing window of the agent learning of the stop
            assertThat(stopSeenAt.get()).as("the agent learned of the stop").isPositive();
            int tokens = paced.tokenNanos.size();
            long lastToken = paced.tokenNanos.get(tokens - 1);
            assertThat(Duration.ofNanos(lastToken - stopSeenAt.get())).isLessThan(Coalescing.DEFAULT_WINDOW);
            assertThat(tokens).isLessThan(text.length());
            assertThat(run.complete()).isFalse();
        }
        List<Event> log = stack.storedLog(s);
        Event requested = Sessions.ofType(log, EventType.RUN_STOP_REQUESTED).get(0);
        long stoppedAt = requested.data().get("stoppedAtSeq").asLong();
        assertThat(Sessions.ofType(log, EventType.TEXT_DELTA))
                .allSatisfy(e -> assertThat(e.seq()).isLessThanOrEqualTo(stoppedAt));
        // the stored text is what the model streamed up to the stop, nothing after it
        assertThat(text).startsWith(Sessions.text(log, "m-1"));
        assertThat(Sessions.text(log, "m-1").length()).isLessThan(paced.tokenNanos.size() + 1);
        // after the stop only its acknowledgement (and the service's run.stopped) are written for the run
        assertThat(log.stream()
                        .filter(e -> e.seq() > requested.seq() && "run-1".equals(e.runId()))
                        .map(Event::type))
                .contains(EventType.RUN_STOP_ACKNOWLEDGED)
                .isSubsetOf(EventType.RUN_STOP_ACKNOWLEDGED, EventType.RUN_STOPPED);
        assertThat(Sessions.ofType(log, EventType.MESSAGE_END)).isEmpty();
    }

    @Test
    void anInterruptCancelsThatRepliesStreamAndTheRunGoesOnWithTheNextReply() throws Exception {
        String s = "l4j-int-" + UUID.randomUUID();
        String text = words(3000);
        RunControls controls = new RunControls();
        try (DurableAgent agent = Sessions.agent(stack, s).onControl(controls).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableStreamingHandler first = DurableStreamingHandler.builder(run, "m-1")
                    .controls(controls)
                    .build();
            Sessions.Paced paced = new Sessions.Paced(first, 5);
            StreamingChatModelMock.thatAlwaysStreams(AiMessage.from(text))
                    .chat(
                            ChatRequest.builder()
                                    .messages(dev.langchain4j.data.message.UserMessage.from("go"))
                                    .build(),
                            paced);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sessions.text(stack.storedLog(s), "m-1").length() > 100);
            stack.control(s, "run-1", "interrupt", null);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.response().isDone());
            assertThatThrownBy(() -> first.response().join()).isInstanceOf(CancellationException.class);
            assertThat(paced.handle.isCancelled()).isTrue();

            DurableStreamingHandler second = DurableStreamingHandler.builder(run, "m-2")
                    .controls(controls)
                    .build();
            StreamingChatModelMock.thatAlwaysStreams("Sorry, ", "shorter: ", "yes.")
                    .chat(
                            ChatRequest.builder()
                                    .messages(dev.langchain4j.data.message.UserMessage.from("again"))
                                    .build(),
                            second);
            second.response().orTimeout(60, TimeUnit.SECONDS).join();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(text).startsWith(Sessions.text(log, "m-1"));
        assertThat(Sessions.text(log, "m-2")).isEqualTo("Sorry, shorter: yes.");
    }

    @Test
    void aSteerReachesTheCallbackAndTheReplyGoesOnToItsEnd() throws Exception {
        String s = "l4j-steer-" + UUID.randomUUID();
        String text = words(400);
        List<String> steers = new CopyOnWriteArrayList<>();
        RunControls controls = new RunControls();
        try (DurableAgent agent = Sessions.agent(stack, s).onControl(controls).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableStreamingHandler handler = DurableStreamingHandler.builder(run, "m-1")
                    .controls(controls)
                    .onSteer(steers::add)
                    .build();
            StreamingChatModelMock.thatAlwaysStreams(AiMessage.from(text))
                    .chat(
                            ChatRequest.builder()
                                    .messages(dev.langchain4j.data.message.UserMessage.from("go"))
                                    .build(),
                            new Sessions.Paced(handler, 2));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sessions.text(stack.storedLog(s), "m-1").length() > 50);
            stack.control(s, "run-1", "steer", "be brief");
            await().atMost(Duration.ofSeconds(30)).until(() -> steers.contains("be brief"));
            handler.response().orTimeout(60, TimeUnit.SECONDS).join();
            assertThat(run.complete()).isTrue();
        }
        assertThat(steers).containsExactly("be brief");
        assertThat(Sessions.text(stack.storedLog(s), "m-1")).isEqualTo(text);
    }

    @Test
    void withoutRunControlsAStoppedRunCancelsTheModelAtItsNextToken() throws Exception {
        String s = "l4j-lazy-" + UUID.randomUUID();
        String text = words(3000);
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableStreamingHandler handler =
                    DurableStreamingHandler.builder(run, "m-1").build();
            Sessions.Paced paced = new Sessions.Paced(handler, 5);
            StreamingChatModelMock.thatAlwaysStreams(AiMessage.from(text))
                    .chat(
                            ChatRequest.builder()
                                    .messages(dev.langchain4j.data.message.UserMessage.from("go"))
                                    .build(),
                            paced);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sessions.text(stack.storedLog(s), "m-1").length() > 100);
            stack.control(s, "run-1", "cancel", null);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> handler.response().isDone());
            assertThatThrownBy(() -> handler.response().join()).isInstanceOf(CancellationException.class);
            assertThat(paced.handle.isCancelled()).isTrue();
            assertThat(paced.tokenNanos.size()).isLessThan(text.length());
        }
        assertThat(text).startsWith(Sessions.text(stack.storedLog(s), "m-1"));
    }
}
