package io.durablesessions.langchain4j;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.testing.TestStack;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/** Helpers of the adapter tests: the agent, a user's control request, the stored log. */
final class Sessions {
    private Sessions() {}

    static DurableAgent.Builder agent(TestStack stack, String session) {
        return DurableAgent.builder(stack.webSocketUrl(), session, "writer-1")
                .connectQuery(() -> "token=" + stack.token("agent-1", "agent") + "&instance=writer-1");
    }

    static String text(List<Event> log, String messageId) {
        StringBuilder sb = new StringBuilder();
        for (Event e : log) {
            if (e.type() == EventType.TEXT_DELTA && messageId.equals(e.dataText("messageId")))
                sb.append(e.dataText("text"));
        }
        return sb.toString();
    }

    static List<Event> ofType(List<Event> log, EventType type) {
        return log.stream().filter(e -> e.type() == type).toList();
    }

    /**
     * Passes a model's callbacks on to {@code delegate}, each partial after a pause, as a model
     * producing tokens at a steady rate would; remembers the model's handle and when each token went on.
     */
    static final class Paced implements StreamingChatResponseHandler {
        final StreamingChatResponseHandler delegate;
        final long pauseNanos;
        final List<Long> tokenNanos = new CopyOnWriteArrayList<>();
        volatile StreamingHandle handle;

        Paced(StreamingChatResponseHandler delegate, long pauseMillis) {
            this.delegate = delegate;
            this.pauseNanos = pauseMillis * 1_000_000;
        }

        @Override
        public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
            handle = context.streamingHandle();
            LockSupport.parkNanos(pauseNanos);
            tokenNanos.add(System.nanoTime());
            delegate.onPartialResponse(partial, context);
        }

        @Override
        public void onPartialThinking(PartialThinking partial, PartialThinkingContext context) {
            handle = context.streamingHandle();
            LockSupport.parkNanos(pauseNanos);
            delegate.onPartialThinking(partial, context);
        }

        @Override
        public void onCompleteToolCall(CompleteToolCall call) {
            delegate.onCompleteToolCall(call);
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
            delegate.onCompleteResponse(response);
        }

        @Override
        public void onError(Throwable error) {
            delegate.onError(error);
        }
    }
}
