package io.durablesessions.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.RunControls;
import io.durablesessions.events.Json;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Streams one LangChain4j model response into one reply of a durable-sessions run:
 *
 * <ul>
 *   <li>partial text goes to {@link DurableAgent.Reply#delta} (coalesced by the SDK);</li>
 *   <li>partial thinking goes to the thinking handler ({@link Builder#onThinking});</li>
 *   <li>each complete tool call becomes {@code tool.call} ({@link DurableAgent.Run#toolCall}), and
 *       {@link #toolResult} records what the tool returned;</li>
 *   <li>the complete response ends the reply ({@code message.end}) and completes {@link #response()};
 *       an error ends it with reason {@code error}.</li>
 * </ul>
 *
 * <p>When the run is stopped or the reply interrupted, the model's stream is cancelled through its
 * {@link StreamingHandle} and {@link #response()} completes with a {@link CancellationException}:
 * at once when the agent's {@link RunControls} are given ({@link Builder#controls}), else at the next
 * token. A steer of the run reaches {@link Builder#onSteer}.
 *
 * <pre>{@code
 * DurableStreamingHandler handler = DurableStreamingHandler.builder(run, "m-1").controls(controls).build();
 * model.chat(request, handler);
 * ChatResponse response = handler.response().join();
 * }</pre>
 */
public final class DurableStreamingHandler implements StreamingChatResponseHandler {
    private final DurableAgent.Run run;
    private final DurableAgent.Reply reply;
    private final Consumer<String> onSteer;
    private final BiConsumer<DurableAgent.Reply, String> onThinking;
    private final CompletableFuture<ChatResponse> response = new CompletableFuture<>();
    private final RunControls.Watch watch;

    // guarded by this
    private StreamingHandle handle;
    private boolean cancelled;
    private final Set<String> toolCallsSent = new HashSet<>();
    /** The id each tool call was recorded under (the model's, or one made up when it gave none). */
    private final Map<ToolExecutionRequest, String> toolCallIds = new HashMap<>();

    private DurableStreamingHandler(Builder b) {
        this.run = b.run;
        this.onSteer = b.onSteer;
        this.onThinking = b.onThinking;
        this.reply = run.startReply(b.messageId);
        this.watch = b.controls == null ? null : b.controls.watchReply(reply, this::cancel, onSteer);
    }

    /** Starts the reply {@code messageId} of {@code run} ({@code message.start}) when built. */
    public static Builder builder(DurableAgent.Run run, String messageId) {
        return new Builder(run, messageId);
    }

    public static final class Builder {
        private final DurableAgent.Run run;
        private final String messageId;
        private RunControls controls;
        private Consumer<String> onSteer = text -> {};
        private BiConsumer<DurableAgent.Reply, String> onThinking = DurableAgent.Reply::reasoning;

        private Builder(DurableAgent.Run run, String messageId) {
            this.run = Objects.requireNonNull(run);
            this.messageId = Objects.requireNonNull(messageId);
        }

        /** The agent's control router: a stop or an interrupt then cancels the model's stream at once. */
        public Builder controls(RunControls controls) {
            this.controls = Objects.requireNonNull(controls);
            return this;
        }

        /** Called with the text of each steer of the run (needs {@link #controls}); e.g. add it to the next request. */
        public Builder onSteer(Consumer<String> onSteer) {
            this.onSteer = Objects.requireNonNull(onSteer);
            return this;
        }

        /**
         * Where partial thinking goes. By default it is the reply's reasoning
         * ({@link DurableAgent.Reply#reasoning}: {@code reasoning.delta} events, coalesced); a handler
         * of your own replaces that (e.g. {@code (reply, text) -> {}} to keep it out of the session).
         */
        public Builder onThinking(BiConsumer<DurableAgent.Reply, String> onThinking) {
            this.onThinking = Objects.requireNonNull(onThinking);
            return this;
        }

        /** Starts the reply and returns the handler to give to {@link StreamingChatModel#chat}. */
        public DurableStreamingHandler build() {
            return new DurableStreamingHandler(this);
        }
    }

    /** The reply this handler writes. */
    public DurableAgent.Reply reply() {
        return reply;
    }

    /**
     * The model's complete response once the reply's end is stored; a {@link CancellationException}
     * when the stream was cancelled (stop, interrupt, {@link #cancel()}); the model's error otherwise.
     */
    public CompletableFuture<ChatResponse> response() {
        return response;
    }

    /** Cancels the model's stream (now if a token came already, else at the first one) and writes nothing more. */
    public void cancel() {
        StreamingHandle h;
        synchronized (this) {
            if (cancelled || response.isDone()) return;
            cancelled = true;
            h = handle;
        }
        if (h != null) h.cancel();
        closeWatch();
        response.completeExceptionally(new CancellationException("the model's stream was cancelled"));
    }

    /** Records what a tool returned ({@code tool.result}); {@code result} is stored as JSON if it is JSON. */
    public CompletableFuture<Boolean> toolResult(String toolCallId, String result, boolean isError) {
        return run.toolResult(toolCallId, Json.readOrText(result), isError);
    }

    /** {@link #toolResult(String, String, boolean)} for a call this handler recorded, under the id it was recorded with. */
    public CompletableFuture<Boolean> toolResult(ToolExecutionRequest request, String result, boolean isError) {
        String id;
        synchronized (this) {
            id = toolCallIds.get(request);
        }
        return toolResult(id != null ? id : request.id(), result, isError);
    }

    // ------------------------------------------------------------------ StreamingChatResponseHandler

    @Override
    public void onPartialResponse(String partialResponse) {
        if (live(null)) reply.delta(partialResponse);
    }

    @Override
    public void onPartialResponse(PartialResponse partialResponse, PartialResponseContext context) {
        if (live(context.streamingHandle())) reply.delta(partialResponse.text());
    }

    @Override
    public void onPartialThinking(PartialThinking partialThinking) {
        if (live(null)) onThinking.accept(reply, partialThinking.text());
    }

    @Override
    public void onPartialThinking(PartialThinking partialThinking, PartialThinkingContext context) {
        if (live(context.streamingHandle())) onThinking.accept(reply, partialThinking.text());
    }

    @Override
    public void onCompleteToolCall(CompleteToolCall completeToolCall) {
        if (live(null)) toolCall(completeToolCall.toolExecutionRequest());
    }

    @Override
    public void onCompleteResponse(ChatResponse completeResponse) {
        if (!live(null)) return;
        // providers that stream no tool calls name them only here
        if (completeResponse.aiMessage() != null && completeResponse.aiMessage().hasToolExecutionRequests()) {
            completeResponse.aiMessage().toolExecutionRequests().forEach(this::toolCall);
        }
        closeWatch();
        try {
            reply.end();
            response.complete(completeResponse);
        } catch (RuntimeException e) {
            response.completeExceptionally(e);
        }
    }

    @Override
    public void onError(Throwable error) {
        if (!live(null)) return;
        closeWatch();
        try {
            reply.end("error");
        } catch (RuntimeException e) {
            error.addSuppressed(e);
        }
        response.completeExceptionally(error);
    }

    /** Records a tool call ({@code tool.call}) once per id; calls without an id get one from the reply. */
    void toolCall(ToolExecutionRequest request) {
        String id;
        synchronized (this) {
            if (toolCallIds.containsKey(request)) return;
            id = request.id() != null && !request.id().isBlank()
                    ? request.id()
                    : reply.messageId() + "-tool-" + (toolCallIds.size() + 1);
            toolCallIds.put(request, id);
            if (!toolCallsSent.add(id)) return;
        }
        run.toolCall(id, request.name(), Json.readOrText(request.arguments()));
    }

    /**
     * Remembers the model's handle; false once the stream is cancelled or the reply fenced (and
     * then cancels the model's stream, so a handler that had no {@link RunControls} stops it at
     * the next token).
     */
    private boolean live(StreamingHandle h) {
        boolean cancelNow;
        synchronized (this) {
            if (h != null) handle = h;
            if (response.isDone() && !cancelled) return false; // completed or failed already
            cancelNow = cancelled || reply.isFenced();
        }
        if (cancelNow) {
            if (h != null) h.cancel();
            cancel();
            return false;
        }
        return true;
    }

    private void closeWatch() {
        if (watch != null) watch.close();
    }
}
