package io.durablesessions.springai;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.testing.TestStack;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;

/** Helpers of the adapter tests: the agent, a user's control request, the stored log, a streaming model. */
public final class Sessions {
    private Sessions() {}

    public static DurableAgent.Builder agent(TestStack stack, String session) {
        return DurableAgent.builder(stack.webSocketUrl(), session, "writer-1")
                .connectQuery(() -> "token=" + stack.token("agent-1", "agent") + "&instance=writer-1");
    }

    public static String text(List<Event> log, String messageId) {
        StringBuilder sb = new StringBuilder();
        for (Event e : log) {
            if (e.type() == EventType.TEXT_DELTA && messageId.equals(e.dataText("messageId")))
                sb.append(e.dataText("text"));
        }
        return sb.toString();
    }

    public static List<Event> ofType(List<Event> log, EventType type) {
        return log.stream().filter(e -> e.type() == type).toList();
    }

    static String words(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append("w").append(i).append(i % 9 == 8 ? ".\n" : " ");
        return sb.toString();
    }

    /** {@code text} in chunks of {@code size} characters, as a model streams it. */
    static List<ChatResponse> chunks(String text, int size) {
        List<ChatResponse> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += size)
            out.add(text(text.substring(i, Math.min(text.length(), i + size))));
        return out;
    }

    public static ChatResponse text(String text) {
        return new ChatResponse(List.of(new Generation(new AssistantMessage(text))));
    }

    static ChatResponse reasoning(String text) {
        return new ChatResponse(List.of(new Generation(AssistantMessage.builder()
                .content("")
                .properties(Map.of(DurableChatStream.REASONING_CONTENT, text))
                .build())));
    }

    static ChatResponse toolCall(String id, String name, String arguments) {
        return new ChatResponse(List.of(new Generation(AssistantMessage.builder()
                .content("")
                .toolCalls(List.of(new AssistantMessage.ToolCall(id, "function", name, arguments)))
                .build())));
    }

    /**
     * A chat model that streams what {@code stream} returns for the prompt. Spring AI ships no test
     * double of a model, so this is the smallest {@link ChatModel}: streaming only.
     */
    public static ChatModel model(Function<Prompt, Flux<ChatResponse>> stream) {
        return new ChatModel() {
            @Override
            public ChatResponse call(Prompt prompt) {
                throw new UnsupportedOperationException("this test model only streams");
            }

            @Override
            public Flux<ChatResponse> stream(Prompt prompt) {
                return stream.apply(prompt);
            }
        };
    }
}
