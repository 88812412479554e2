package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * The stream → fan-out path on LocalStack's DynamoDB and DynamoDB Streams (Testcontainers)
 * instead of the embedded endpoint: the same handlers, gateway and event-source emulators.
 * Reported as skipped where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackProfileTest {
    static LocalStackContainer localstack;
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        localstack = new LocalStackContainer(DockerImageName.parse("localstack/localstack:4.4"))
                .withServices(LocalStackContainer.Service.DYNAMODB);
        localstack.start();
        stack = EmbeddedStack.start(EmbeddedStack.Config.defaults().withExternalDynamo(localstack.getEndpoint()));
    }

    @AfterAll
    static void stop() {
        if (stack != null) stack.close();
        if (localstack != null) localstack.stop();
    }

    @Test
    void appendsReachASubscriberThroughLocalStacksStreamInOrder() {
        String s = "ls-" + UUID.randomUUID();
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-1");
                TestAgent agent = new TestAgent(stack.webSocketUrl(), s, "agent-1")) {
            tab.request(io.durablesessions.events.Json.object()
                    .put("action", "subscribe")
                    .put("sessionId", s)
                    .put("afterSeq", 0));
            agent.startReply("run-1", "m-1");
            for (int i = 0; i < 50; i++) agent.delta("run-1", "m-1", "t" + i);
            agent.endReply("run-1", "m-1");
            long total = stack.services().sessions().head(s);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                ClientLog probe = new ClientLog(0);
                probe.offerFrames(tab.frames);
                return probe.last() >= total;
            });
            ClientLog log = new ClientLog(0);
            log.offerFrames(tab.frames);
            assertThat(log.seqs())
                    .containsExactlyElementsOf(
                            LongStream.rangeClosed(1, total).boxed().toList());
        }
    }
}
