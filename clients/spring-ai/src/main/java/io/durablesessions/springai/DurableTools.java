package io.durablesessions.springai;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.Json;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.ai.tool.metadata.ToolMetadata;

/**
 * Records the tools that Spring AI runs itself (internal tool execution) in a run: {@code tool.call}
 * with the arguments before each call, {@code tool.result} with what it returned (or its error,
 * {@code isError}) after. Spring AI does not hand a tool the model's call id, so the ids are the
 * prefix and a counter.
 *
 * <pre>{@code
 * chatClient.prompt().user(question)
 *         .toolCallbacks(DurableTools.recording(run, "m-1", ToolCallbacks.from(new WeatherTools())))
 *         .stream().chatResponse()
 * }</pre>
 */
public final class DurableTools {
    private DurableTools() {}

    /** Each callback wrapped so its calls and results are recorded in {@code run}, ids {@code idPrefix-tool-N}. */
    public static ToolCallback[] recording(DurableAgent.Run run, String idPrefix, ToolCallback... callbacks) {
        Objects.requireNonNull(run);
        Objects.requireNonNull(idPrefix);
        AtomicInteger counter = new AtomicInteger();
        ToolCallback[] wrapped = new ToolCallback[callbacks.length];
        for (int i = 0; i < callbacks.length; i++) wrapped[i] = new Recording(run, idPrefix, counter, callbacks[i]);
        return wrapped;
    }

    private static final class Recording implements ToolCallback {
        private final DurableAgent.Run run;
        private final String idPrefix;
        private final AtomicInteger counter;
        private final ToolCallback delegate;

        Recording(DurableAgent.Run run, String idPrefix, AtomicInteger counter, ToolCallback delegate) {
            this.run = run;
            this.idPrefix = idPrefix;
            this.counter = counter;
            this.delegate = Objects.requireNonNull(delegate);
        }

        @Override
        public ToolDefinition getToolDefinition() {
            return delegate.getToolDefinition();
        }

        @Override
        public ToolMetadata getToolMetadata() {
            return delegate.getToolMetadata();
        }

        @Override
        public String call(String toolInput) {
            return call(toolInput, null);
        }

        @Override
        public String call(String toolInput, ToolContext toolContext) {
            String id = idPrefix + "-tool-" + counter.incrementAndGet();
            run.toolCall(id, delegate.getToolDefinition().name(), Json.readOrText(toolInput));
            String result;
            try {
                result = toolContext == null ? delegate.call(toolInput) : delegate.call(toolInput, toolContext);
            } catch (RuntimeException e) {
                run.toolResult(id, Json.readOrText(String.valueOf(e.getMessage())), true);
                throw e;
            }
            run.toolResult(id, Json.readOrText(result), false);
            return result;
        }
    }
}
