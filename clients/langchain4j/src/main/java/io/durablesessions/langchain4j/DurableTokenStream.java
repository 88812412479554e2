package io.durablesessions.langchain4j;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.service.TokenStream;
import java.util.concurrent.CompletableFuture;

/**
 * Streams an AI Service's {@link TokenStream} into a durable-sessions reply through a
 * {@link DurableStreamingHandler}: text, thinking, the tools the service runs ({@code tool.call}
 * before each runs, {@code tool.result} after), the end of the reply; a stop or an interrupt cancels
 * the stream.
 *
 * <pre>{@code
 * interface Assistant { TokenStream chat(String userMessage); }
 * Assistant assistant = AiServices.builder(Assistant.class).streamingChatModel(model).tools(new MyTools()).build();
 * ChatResponse r = DurableTokenStream.start(assistant.chat("hello"),
 *         DurableStreamingHandler.builder(run, "m-1").controls(controls).build()).join();
 * }</pre>
 */
public final class DurableTokenStream {
    private DurableTokenStream() {}

    /** Wires {@code tokens} to {@code handler}, starts it, and returns {@link DurableStreamingHandler#response()}. */
    public static CompletableFuture<ChatResponse> start(TokenStream tokens, DurableStreamingHandler handler) {
        tokens.onPartialResponseWithContext(handler::onPartialResponse)
                .onPartialThinkingWithContext(handler::onPartialThinking)
                .beforeToolExecution(before -> handler.toolCall(before.request()))
                .onToolExecuted(done -> handler.toolResult(done.request(), done.result(), done.hasFailed()))
                .onCompleteResponse(handler::onCompleteResponse)
                .onError(handler::onError)
                .start();
        return handler.response();
    }
}
