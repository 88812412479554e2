package io.durablesessions.springai.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.EventType;
import io.durablesessions.springai.SessionAgent;
import io.durablesessions.springai.Sessions;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.TestTokens;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import reactor.core.publisher.Flux;

/** A Boot application that adds the dependency and a few properties gets a working DurableAgentFactory. */
@WithTestStack
class DurableSessionsAutoConfigurationTest {
    final TestStack stack;

    final ApplicationContextRunner app = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(DurableSessionsAutoConfiguration.class));

    DurableSessionsAutoConfigurationTest(TestStack stack) {
        this.stack = stack;
    }

    void streamAReply(DurableAgentFactory agents, String session) {
        ChatClient chat = ChatClient.create(Sessions.model(
                prompt -> Flux.just(Sessions.text("Hello "), Sessions.text("from "), Sessions.text("Boot."))));
        try (SessionAgent agent = agents.connect(session)) {
            DurableAgent.Run run = agent.startRun("run-1");
            String text = agent.reply(run, "m-1").build().stream(chat.prompt().user("hi").stream())
                    .orTimeout(60, TimeUnit.SECONDS)
                    .join()
                    .text();
            assertThat(text).isEqualTo("Hello from Boot.");
            assertThat(run.complete()).isTrue();
        }
        assertThat(Sessions.text(stack.storedLog(session), "m-1")).isEqualTo("Hello from Boot.");
    }

    @Test
    void withoutAUrlThereIsNoFactory() {
        app.run(context -> assertThat(context).doesNotHaveBean(DurableAgentFactory.class));
    }

    @Test
    void aWebSocketUrlWithoutATokenIsAClearStartupError() {
        app.withPropertyValues("durable-sessions.url=" + stack.webSocketUrl())
                .run(context -> assertThat(context)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining(
                                "durable-sessions.token (or a DurableSessionsTokenProvider bean) is required"));
        app.withPropertyValues("durable-sessions.url=ftp://example.invalid/x", "durable-sessions.token=t")
                .run(context ->
                        assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining("must be ws://"));
    }

    @Test
    void aWebSocketUrlAndATokenMakeAFactoryWhoseAgentsStreamIntoTheSession() {
        String s = "boot-ws-" + UUID.randomUUID();
        app.withPropertyValues(
                        "durable-sessions.url=" + stack.webSocketUrl(),
                        "durable-sessions.token=" + TestTokens.devToken("boot-agent", "agent"),
                        "durable-sessions.producer-id=boot-writer",
                        "durable-sessions.coalesce-window=50ms")
                .run(context -> {
                    DurableAgentFactory agents = context.getBean(DurableAgentFactory.class);
                    assertThat(agents.properties().producerId()).isEqualTo("boot-writer");
                    assertThat(agents.properties().coalesceWindow()).isEqualTo(Duration.ofMillis(50));
                    assertThat(agents.properties().heartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
                    streamAReply(agents, s);
                });
        assertThat(stack.storedLog(s))
                .filteredOn(e -> e.type() == EventType.RUN_STARTED)
                .singleElement()
                .satisfies(e -> assertThat(e.agentId()).isEqualTo("boot-agent"));
    }

    @Test
    void anHttpUrlUsesTheHttpApiAndATokenProviderBeanIsAskedForEveryRequest() {
        String s = "boot-http-" + UUID.randomUUID();
        AtomicInteger asked = new AtomicInteger();
        app.withPropertyValues("durable-sessions.url=" + stack.httpApiUrl())
                .withBean(DurableSessionsTokenProvider.class, () -> () -> {
                    asked.incrementAndGet();
                    return TestTokens.devToken("boot-http-agent", "agent");
                })
                .run(context -> streamAReply(context.getBean(DurableAgentFactory.class), s));
        assertThat(asked.get()).isGreaterThanOrEqualTo(3); // run.started, the reply, run.completed
        assertThat(stack.storedLog(s))
                .filteredOn(e -> e.type() == EventType.RUN_STARTED)
                .singleElement()
                .satisfies(e -> assertThat(e.agentId()).isEqualTo("boot-http-agent"));
    }
}
