package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProducerQueueTest {
    static Pending delta(String run, String m, String text) {
        return new Pending(
                EventType.TEXT_DELTA, run, m, Json.object().put("messageId", m).put("text", text));
    }

    static Pending reasoning(String run, String m, String text) {
        return new Pending(
                EventType.REASONING_DELTA,
                run,
                m,
                Json.object().put("messageId", m).put("text", text));
    }

    static Pending custom(String run, String name) {
        return new Pending(EventType.CUSTOM, run, null, Json.object().put("name", name));
    }

    @Test
    void oneAppendHoldsOneRunsConsecutiveEvents() {
        ProducerQueue q = new ProducerQueue(1024);
        q.add(custom("r1", "a"));
        q.add(custom("r1", "b"));
        q.add(custom("r2", "c"));
        q.add(custom(null, "d"));
        assertThat(q.takeBatch()).extracting(p -> p.data.path("name").asText()).containsExactly("a", "b");
        assertThat(q.takeBatch()).extracting(p -> p.data.path("name").asText()).containsExactly("c");
        assertThat(q.takeBatch()).extracting(p -> p.data.path("name").asText()).containsExactly("d");
        assertThat(q.takeBatch()).isEmpty();
    }

    @Test
    void consecutiveDeltasOfOneReplyAndKindAreMergedAndTheirCallersFollowTheMergedEvent() {
        ProducerQueue q = new ProducerQueue(1024);
        Pending a = delta("r", "m", "Hello");
        Pending b = delta("r", "m", ", world");
        Pending c = reasoning("r", "m", "hmm");
        Pending d = delta("r", "m2", "other reply");
        q.add(a);
        q.add(b);
        q.add(c);
        q.add(d);
        List<Pending> batch = q.takeBatch();
        assertThat(batch).containsExactly(a, c, d);
        assertThat(a.data.path("text").asText()).isEqualTo("Hello, world");
        a.done.complete(true);
        assertThat(b.done).isCompletedWithValue(true);
    }

    @Test
    void mergingStopsAtTheDeltaSize() {
        ProducerQueue q = new ProducerQueue(10);
        q.add(delta("r", "m", "123456"));
        q.add(delta("r", "m", "7890"));
        q.add(delta("r", "m", "x"));
        assertThat(q.takeBatch()).extracting(p -> p.data.path("text").asText()).containsExactly("1234567890", "x");
    }

    @Test
    void anAppendHoldsAtMost64EventsAndAbout100KiB() {
        ProducerQueue q = new ProducerQueue(1024);
        for (int i = 0; i < 100; i++) q.add(custom("r", "e" + i));
        assertThat(q.takeBatch()).hasSize(Limits.MAX_EVENTS_PER_APPEND);
        assertThat(q.takeBatch()).hasSize(100 - Limits.MAX_EVENTS_PER_APPEND);
        String big = "x".repeat(30 * 1024);
        for (int i = 0; i < 5; i++) q.add(custom("r", big));
        assertThat(q.takeBatch()).hasSize(3);
        assertThat(q.takeBatch()).hasSize(2);
    }

    @Test
    void theEventsOfOneAppendAllAreNeverSplitNorMerged() {
        ProducerQueue q = new ProducerQueue(1024);
        for (int i = 0; i < 60; i++) q.add(custom("r", "single" + i));
        Object group = new Object();
        for (int i = 0; i < 10; i++) {
            q.add(new Pending(
                    EventType.TEXT_DELTA,
                    "r",
                    "m",
                    Json.object().put("messageId", "m").put("text", "g" + i),
                    false,
                    group));
        }
        assertThat(q.takeBatch()).hasSize(60);
        List<Pending> rest = q.takeBatch();
        assertThat(rest).hasSize(10).allMatch(p -> p.group == group);
    }

    @Test
    void aFencedRunsEventsAreDroppedButItsStopAcknowledgementStays() {
        ProducerQueue q = new ProducerQueue(1024);
        Pending a = custom("r", "a");
        Pending other = custom("r2", "b");
        Pending ack = new Pending(EventType.RUN_STOP_ACKNOWLEDGED, "r", null, Json.object(), true, null);
        q.add(a);
        q.add(other);
        q.add(ack);
        q.dropRun("r");
        assertThat(a.done).isCompletedWithValue(false);
        assertThat(q.takeBatch()).containsExactly(other);
        assertThat(q.takeBatch()).containsExactly(ack);
    }
}
