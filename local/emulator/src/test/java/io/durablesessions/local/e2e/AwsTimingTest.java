package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local stack with AWS-like timing still delivers, and its fan-out mapping and routes carry the
 * overheads: with direct delivery an event reaches a subscriber from the append route itself, without
 * it through the fan-out as well.
 */
class AwsTimingTest {
    static final EmbeddedStack.Timing TIMING =
            new EmbeddedStack.Timing(Duration.ofMillis(250), Duration.ofMillis(100), Duration.ofMillis(100));
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(EmbeddedStack.Config.defaults().withTiming(TIMING));
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void theFanoutMappingPollsAtTheConfiguredCadenceWithTheOverhead() {
        assertThat(stack.fanout().config().pollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(stack.fanout().config().invokeOverhead()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void anAppendIsAckedAndDeliveredNoSoonerThanItsOverheadsAllow() {
        // direct delivery (the default): the append route posts to the subscribers before it answers
        Duration[] timing = ackAndDelivery(stack);
        assertThat(timing[0]).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(timing[1]).isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void withoutDirectDeliveryTheFanOutsOverheadComesOnTopOfTheRoutes() {
        try (EmbeddedStack streamsOnly =
                EmbeddedStack.start(EmbeddedStack.Config.defaults().withTiming(TIMING).toBuilder()
                        .features(Services.Features.DEFAULTS.withDirectDelivery(false))
                        .build())) {
            Duration[] timing = ackAndDelivery(streamsOnly);
            // lower bounds only: the append route's overhead before the ack, and the fan-out's after it
            assertThat(timing[0]).isGreaterThanOrEqualTo(Duration.ofMillis(100));
            assertThat(timing[1]).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        }
    }

    /** From sending one append to its ack, and to its event reaching a subscriber. */
    static Duration[] ackAndDelivery(EmbeddedStack stack) {
        String s = "aws-timing-" + UUID.randomUUID();
        try (WsClient tab = WsClient.connect(stack.webSocketUrl(), "id=tab-1");
                WsClient agent = WsClient.connect(stack.webSocketUrl(), "id=agent-1&role=agent")) {
            ObjectNode ok = tab.request(
                    Json.object().put("action", "subscribe").put("sessionId", s).put("afterSeq", 0));
            assertThat(ok.path("type").asText()).isEqualTo("subscribed");

            long sent = System.nanoTime();
            ObjectNode ack = agent.request(Json.parseObject("{\"action\":\"append\",\"sessionId\":\"" + s
                    + "\",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"timed\"}}]}"));
            long acked = System.nanoTime();
            assertThat(ack.path("type").asText()).as("append answer %s", ack).isEqualTo("ack");
            long seq = ack.path("lastSeq").asLong();
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(2))
                    .until(() -> tab.rawSeqs().contains(seq));
            long delivered = System.nanoTime();
            return new Duration[] {Duration.ofNanos(acked - sent), Duration.ofNanos(delivered - sent)};
        }
    }
}
