package io.durablesessions.springai;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.RunControls;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Streams one Spring AI response — {@code chatClient.prompt()…stream().chatResponse()} or
 * {@code .content()} — into one reply of a durable-sessions run:
 *
 * <ul>
 *   <li>the text of each chunk goes to {@link DurableAgent.Reply#delta} (coalesced by the SDK);</li>
 *   <li>reasoning ({@link Builder#reasoningOf}, by default the {@code reasoningContent} metadata that
 *       Spring AI's OpenAI-compatible models fill) goes to the thinking handler ({@link Builder#onThinking});</li>
 *   <li>the tool calls a chunk carries (when the application runs the tools itself) become
 *       {@code tool.call}, once per id, and {@link #toolResult} records results; tools that Spring AI
 *       runs itself are recorded by {@link DurableTools};</li>
 *   <li>the end of the stream ends the reply ({@code message.end}); an error ends it with reason
 *       {@code error}.</li>
 * </ul>
 *
 * <p>When the run is stopped or the reply interrupted, the subscription is disposed — which cancels
 * the model's HTTP stream — and the returned future completes with a {@link CancellationException}:
 * at once when the agent's {@link RunControls} are given ({@link Builder#controls}), else at the
 * next chunk. A steer of the run reaches {@link Builder#onSteer}.
 *
 * <pre>{@code
 * DurableChatStream.Result r = DurableChatStream.builder(run, "m-1").controls(controls).build()
 *         .stream(chatClient.prompt().user(question).stream().chatResponse()).join();
 * }</pre>
 */
public final class DurableChatStream {
    /** What Spring AI's OpenAI-compatible chat models put in an assistant message's metadata. */
    public static final String REASONING_CONTENT = "reasoningContent";

    private final DurableAgent.Run run;
    private final DurableAgent.Reply reply;
    private final Consumer<String> onSteer;
    private final BiConsumer<DurableAgent.Reply, String> onThinking;
    private final Function<AssistantMessage, String> reasoningOf;
    private final RunControls controls;
    private final CompletableFuture<Result> result = new CompletableFuture<>();

    // guarded by this
    private boolean started;
    private boolean cancelled;
    private Disposable subscription;
    private RunControls.Watch watch;
    private final StringBuilder text = new StringBuilder();
    private final List<AssistantMessage.ToolCall> toolCalls = new ArrayList<>();
    private final Set<String> toolCallIds = new HashSet<>();

    /** The text the reply got and the tool calls the model asked for (for the application to run). */
    public record Result(String text, List<AssistantMessage.ToolCall> toolCalls) {}

    private DurableChatStream(Builder b) {
        this.run = b.run;
        this.onSteer = b.onSteer;
        this.onThinking = b.onThinking;
        this.reasoningOf = b.reasoningOf;
        this.controls = b.controls;
        this.reply = run.startReply(b.messageId);
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
        private Function<AssistantMessage, String> reasoningOf = DurableChatStream::reasoningContent;

        private Builder(DurableAgent.Run run, String messageId) {
            this.run = Objects.requireNonNull(run);
            this.messageId = Objects.requireNonNull(messageId);
        }

        /** The agent's control router: a stop or an interrupt then disposes the subscription at once. */
        public Builder controls(RunControls controls) {
            this.controls = Objects.requireNonNull(controls);
            return this;
        }

        /** Called with the text of each steer of the run (needs {@link #controls}); e.g. add it to the next prompt. */
        public Builder onSteer(Consumer<String> onSteer) {
            this.onSteer = Objects.requireNonNull(onSteer);
            return this;
        }

        /**
         * Where reasoning goes. By default it is the reply's reasoning ({@link DurableAgent.Reply#reasoning}:
         * {@code reasoning.delta} events, coalesced); a handler of your own replaces that.
         */
        public Builder onThinking(BiConsumer<DurableAgent.Reply, String> onThinking) {
            this.onThinking = Objects.requireNonNull(onThinking);
            return this;
        }

        /** Reads a chunk's reasoning (null or empty: none); by default its {@value #REASONING_CONTENT} metadata. */
        public Builder reasoningOf(Function<AssistantMessage, String> reasoningOf) {
            this.reasoningOf = Objects.requireNonNull(reasoningOf);
            return this;
        }

        /** Starts the reply and returns the stream adapter; give it one Flux with {@link DurableChatStream#stream}. */
        public DurableChatStream build() {
            return new DurableChatStream(this);
        }
    }

    /** The reply this adapter writes. */
    public DurableAgent.Reply reply() {
        return reply;
    }

    /** Subscribes to {@code spec.chatResponse()}. */
    public CompletableFuture<Result> stream(ChatClient.StreamResponseSpec spec) {
        return stream(spec.chatResponse());
    }

    /**
     * Subscribes to the model's responses and streams them into the reply. The future completes once
     * the reply's end is stored; with a {@link CancellationException} when the stream was cancelled
     * (stop, interrupt, {@link #cancel()}); with the stream's error otherwise.
     */
    public CompletableFuture<Result> stream(Flux<ChatResponse> responses) {
        return subscribe(responses, this::onResponse);
    }

    /** Subscribes to plain text chunks ({@code stream().content()}) and streams them into the reply. */
    public CompletableFuture<Result> streamText(Flux<String> content) {
        return subscribe(content, this::onText);
    }

    /** Disposes the subscription (the model's stream is cancelled) and writes nothing more. */
    public void cancel() {
        Disposable d;
        synchronized (this) {
            if (cancelled || result.isDone()) return;
            cancelled = true;
            d = subscription;
        }
        if (d != null) d.dispose();
        closeWatch();
        result.completeExceptionally(new CancellationException("the model's stream was cancelled"));
    }

    /** Records what a tool returned ({@code tool.result}); {@code result} is stored as JSON if it is JSON. */
    public CompletableFuture<Boolean> toolResult(String toolCallId, String result, boolean isError) {
        return run.toolResult(toolCallId, Json.readOrText(result), isError);
    }

    /** The default {@link Builder#reasoningOf}: the {@value #REASONING_CONTENT} metadata, if it is text. */
    public static String reasoningContent(AssistantMessage message) {
        Map<String, Object> metadata = message.getMetadata();
        Object r = metadata == null ? null : metadata.get(REASONING_CONTENT);
        return r instanceof String s ? s : null;
    }

    // ------------------------------------------------------------------------------ internals

    private <T> CompletableFuture<Result> subscribe(Flux<T> flux, Consumer<T> onNext) {
        Objects.requireNonNull(flux);
        synchronized (this) {
            if (started) throw new IllegalStateException("a DurableChatStream streams one response");
            started = true;
            if (controls != null) watch = controls.watchReply(reply, this::cancel, onSteer);
        }
        Disposable d = flux.subscribe(
                item -> {
                    if (live()) onNext.accept(item);
                },
                this::onError,
                this::onComplete);
        boolean disposeNow;
        synchronized (this) {
            subscription = d;
            disposeNow = cancelled; // a stop came while subscribing
        }
        if (disposeNow) d.dispose();
        return result;
    }

    private void onResponse(ChatResponse response) {
        if (response == null) return;
        for (Generation g : response.getResults()) {
            AssistantMessage m = g.getOutput();
            if (m == null) continue;
            String reasoning = reasoningOf.apply(m);
            if (reasoning != null && !reasoning.isEmpty()) onThinking.accept(reply, reasoning);
            onText(m.getText());
            for (AssistantMessage.ToolCall call : m.getToolCalls()) toolCall(call);
        }
    }

    private void onText(String chunk) {
        if (chunk == null || chunk.isEmpty()) return;
        synchronized (this) {
            text.append(chunk);
        }
        reply.delta(chunk);
    }

    private void toolCall(AssistantMessage.ToolCall call) {
        String id;
        synchronized (this) {
            id = call.id() != null && !call.id().isBlank()
                    ? call.id()
                    : reply.messageId() + "-tool-" + (toolCalls.size() + 1);
            if (!toolCallIds.add(id)) return;
            toolCalls.add(new AssistantMessage.ToolCall(id, call.type(), call.name(), call.arguments()));
        }
        run.toolCall(id, call.name(), Json.readOrText(call.arguments()));
    }

    // message.end waits for its ack: off the reactive thread (often an HTTP client's event loop)

    private void onComplete() {
        if (!live()) return;
        closeWatch();
        CompletableFuture.runAsync(() -> {
            try {
                reply.end();
                Result r;
                synchronized (this) {
                    r = new Result(text.toString(), List.copyOf(toolCalls));
                }
                result.complete(r);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
    }

    private void onError(Throwable error) {
        if (!live()) return;
        closeWatch();
        CompletableFuture.runAsync(() -> {
            try {
                reply.end("error");
            } catch (RuntimeException e) {
                error.addSuppressed(e);
            }
            result.completeExceptionally(error);
        });
    }

    /** False once cancelled or done; a reply fenced meanwhile (no RunControls given) cancels here. */
    private boolean live() {
        synchronized (this) {
            if (cancelled || result.isDone()) return false;
        }
        if (reply.isFenced()) {
            cancel();
            return false;
        }
        return true;
    }

    private void closeWatch() {
        RunControls.Watch w;
        synchronized (this) {
            w = watch;
            watch = null;
        }
        if (w != null) w.close();
    }
}
