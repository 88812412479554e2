package io.durablesessions.langchain4j.example;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.RunControls;
import io.durablesessions.langchain4j.DurableStreamingHandler;
import io.durablesessions.testing.TestTokens;
import java.net.URI;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.LockSupport;

/**
 * A LangChain4j agent writing into a session of the local stack (README → Java AI frameworks).
 * Start {@code ./scripts/local}, then {@code ./mvnw -q -pl clients/langchain4j exec:java} (after an install of it
 * with {@code -am}, README),
 * and watch (or Stop, or Steer) the reply at the demo URL it prints. {@code DS_URL} and
 * {@code DS_TOKEN} point it elsewhere; the first argument names the session.
 */
public final class LangChain4jExample {
    private LangChain4jExample() {}

    public static void main(String[] args) {
        URI url = URI.create(System.getenv().getOrDefault("DS_URL", "ws://127.0.0.1:8787/local"));
        String token = System.getenv().getOrDefault("DS_TOKEN", TestTokens.devToken("langchain4j-example", "agent"));
        String session = args.length > 0 ? args[0] : "demo-langchain4j";
        // any StreamingChatModel: e.g. OpenAiStreamingChatModel.builder().apiKey(…).modelName(…).build()
        StreamingChatModel model = new ScriptedModel();

        RunControls controls = new RunControls(
                e -> System.out.println("control: " + e.kind() + (e.text() != null ? " " + e.text() : "")));
        try (DurableAgent agent = DurableAgent.builder(url, session, "langchain4j-example")
                .connectQuery(() -> "token=" + token)
                .onControl(controls)
                .connect()) {
            System.out.println("watch it: http://" + url.getHost() + ":" + url.getPort() + "/demo/?session=" + session);
            DurableAgent.Run run = agent.startRun("run-" + System.currentTimeMillis());
            DurableStreamingHandler reply = DurableStreamingHandler.builder(run, "m-" + System.currentTimeMillis())
                    .controls(controls)
                    .onSteer(text -> System.out.println("steered: " + text + " (the next request would include it)"))
                    .build();
            model.chat(
                    ChatRequest.builder()
                            .messages(UserMessage.from("Tell me about durable sessions."))
                            .build(),
                    reply);
            try {
                ChatResponse response = reply.response().join();
                run.complete();
                System.out.println("stored " + response.aiMessage().text().length() + " characters in " + session);
            } catch (CancellationException stopped) {
                System.out.println("a client stopped the reply; the model's stream was cancelled");
            }
        }
    }

    /** A stand-in for a real model: thinks briefly, then answers at ~25 tokens a second, and obeys cancel. */
    static final class ScriptedModel implements StreamingChatModel {
        @Override
        public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
            StreamingHandle handle = new StreamingHandle() {
                private volatile boolean cancelled;

                @Override
                public void cancel() {
                    cancelled = true;
                }

                @Override
                public boolean isCancelled() {
                    return cancelled;
                }
            };
            Thread t = new Thread(
                    () -> {
                        StringBuilder text = new StringBuilder();
                        for (String thought :
                                "The user asks about durable sessions; explain the idea.".split("(?<= )")) {
                            if (handle.isCancelled()) return;
                            handler.onPartialThinking(new PartialThinking(thought), new PartialThinkingContext(handle));
                        }
                        String answer = "A durable session keeps every token an agent writes, so a dropped connection, "
                                + "a second tab or a phone resumes exactly where it was, and Stop really stops the model. ";
                        for (int i = 0; i < 4; i++) {
                            for (String word : answer.split("(?<= )")) {
                                if (handle.isCancelled()) return;
                                LockSupport.parkNanos(40_000_000);
                                text.append(word);
                                handler.onPartialResponse(
                                        new PartialResponse(word), new PartialResponseContext(handle));
                            }
                        }
                        handler.onCompleteResponse(ChatResponse.builder()
                                .aiMessage(AiMessage.from(text.toString()))
                                .build());
                    },
                    "scripted-model");
            t.start();
        }
    }
}
