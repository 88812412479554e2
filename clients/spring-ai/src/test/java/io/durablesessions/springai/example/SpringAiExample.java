package io.durablesessions.springai.example;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.springai.SessionAgent;
import io.durablesessions.springai.autoconfigure.DurableAgentFactory;
import io.durablesessions.testing.TestTokens;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Flux;

/**
 * A Spring Boot application whose agent writes into a session of the local stack (README → Java AI
 * frameworks): the dependency, three properties, and the {@link DurableAgentFactory} bean. Start
 * {@code ./scripts/local}, then {@code ./mvnw -q -pl clients/spring-ai exec:java} (after an install of it
 * with {@code -am}, README), and
 * watch (or Stop, or Steer) the reply at the demo URL it prints. {@code DS_URL} and {@code DS_TOKEN}
 * point it elsewhere; the first argument names the session.
 */
@SpringBootApplication
public class SpringAiExample {

    public static void main(String[] args) {
        String session = args.length > 0 ? args[0] : "demo-spring-ai";
        new SpringApplicationBuilder(SpringAiExample.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "durable-sessions.url=" + System.getenv().getOrDefault("DS_URL", "ws://127.0.0.1:8787/local"),
                        "durable-sessions.token="
                                + System.getenv()
                                        .getOrDefault("DS_TOKEN", TestTokens.devToken("spring-ai-example", "agent")),
                        "durable-sessions.producer-id=spring-ai-example",
                        "example.session=" + session)
                .run(args)
                .close();
    }

    /** With a Spring AI model starter on the classpath, inject its {@code ChatClient.Builder} instead. */
    @Bean
    ChatClient chatClient() {
        return ChatClient.create(new ScriptedModel());
    }

    @Bean
    CommandLineRunner streamOneReply(
            DurableAgentFactory agents, ChatClient chat, org.springframework.core.env.Environment env) {
        return args -> {
            String session = env.getRequiredProperty("example.session");
            try (SessionAgent agent = agents.connect(session, e -> System.out.println("control: " + e.kind()))) {
                java.net.URI url = agents.properties().url();
                System.out.println(
                        "watch it: http://" + url.getHost() + ":" + url.getPort() + "/demo/?session=" + session);
                DurableAgent.Run run = agent.startRun("run-" + System.currentTimeMillis());
                try {
                    String text = agent
                            .reply(run, "m-" + System.currentTimeMillis())
                            .onSteer(steer ->
                                    System.out.println("steered: " + steer + " (the next prompt would include it)"))
                            .build()
                            .stream(chat.prompt().user("Tell me about durable sessions.").stream())
                            .join()
                            .text();
                    run.complete();
                    System.out.println("stored " + text.length() + " characters in " + session);
                } catch (CancellationException stopped) {
                    System.out.println("a client stopped the reply; the model's stream was disposed");
                }
            }
        };
    }

    /** A stand-in for a real model: answers at ~25 tokens a second; disposing the Flux stops it. */
    static final class ScriptedModel implements ChatModel {
        @Override
        public ChatResponse call(Prompt prompt) {
            throw new UnsupportedOperationException("streaming only");
        }

        @Override
        public Flux<ChatResponse> stream(Prompt prompt) {
            String[] words =
                    ("A durable session keeps every token an agent writes, so a dropped connection, a second tab "
                                    + "or a phone resumes exactly where it was, and Stop really stops the model. ")
                            .repeat(4)
                            .split("(?<= )");
            return Flux.interval(Duration.ofMillis(40))
                    .take(words.length)
                    .map(i -> new ChatResponse(
                            java.util.List.of(new Generation(new AssistantMessage(words[i.intValue()])))));
        }
    }
}
