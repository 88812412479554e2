package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.EventType;
import io.durablesessions.events.JsonBytes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyCoalescerTest {
    record Sent(String runId, String messageId, EventType type, String text) {
        String kind() {
            return (type == EventType.TEXT_DELTA ? "text:" : "reasoning:") + text;
        }
    }

    record Window(String messageId, long generation, Duration length) {}

    final List<Sent> sent = new ArrayList<>();
    final List<Window> windows = new ArrayList<>();

    ReplyCoalescer coalescer(Duration window, int maxDeltaBytes) {
        return new ReplyCoalescer(
                window,
                maxDeltaBytes,
                (m, generation, w) -> windows.add(new Window(m, generation, w)),
                (run, m, type, text) -> sent.add(new Sent(run, m, type, text)));
    }

    @Test
    void textIsHeldUntilItsWindowEndsThenSentAsOneDelta() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(150), 1024);
        c.add("r", "m", EventType.TEXT_DELTA, "Hello");
        c.add("r", "m", EventType.TEXT_DELTA, ", ");
        c.add("r", "m", EventType.TEXT_DELTA, "world");
        assertThat(sent).isEmpty();
        assertThat(windows).containsExactly(new Window("m", windows.get(0).generation(), Duration.ofMillis(150)));
        c.windowEnded("m", windows.get(0).generation());
        assertThat(sent).containsExactly(new Sent("r", "m", EventType.TEXT_DELTA, "Hello, world"));
        assertThat(c.holds("m")).isFalse();
    }

    @Test
    void aWindowStartedForEarlierTextDoesNotCutLaterTextShort() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(150), 1024);
        c.add("r", "m", EventType.TEXT_DELTA, "one ");
        c.flushAll(); // another event was appended: the text went first
        c.add("r", "m", EventType.TEXT_DELTA, "two");
        assertThat(windows).hasSize(2);
        c.windowEnded("m", windows.get(0).generation()); // the first window's timer fires late
        assertThat(sent).extracting(Sent::text).containsExactly("one ");
        c.windowEnded("m", windows.get(1).generation());
        assertThat(sent).extracting(Sent::text).containsExactly("one ", "two");
    }

    @Test
    void textAndReasoningKeepTheOrderTheyWereWrittenIn() {
        ReplyCoalescer c = coalescer(Duration.ofSeconds(30), 1024);
        c.add("r", "m", EventType.REASONING_DELTA, "Let ");
        c.add("r", "m", EventType.REASONING_DELTA, "me think. ");
        c.add("r", "m", EventType.TEXT_DELTA, "First, ");
        c.add("r", "m", EventType.TEXT_DELTA, "the facts. ");
        c.add("r", "m", EventType.REASONING_DELTA, "A caveat.");
        c.flushAll();
        assertThat(sent)
                .extracting(Sent::kind)
                .containsExactly("reasoning:Let me think. ", "text:First, the facts. ", "reasoning:A caveat.");
    }

    @Test
    void aZeroWindowSendsEveryDeltaAtOnce() {
        ReplyCoalescer c = coalescer(Duration.ZERO, 1024);
        c.add("r", "m", EventType.TEXT_DELTA, "a");
        c.add("r", "m", EventType.TEXT_DELTA, "b");
        assertThat(sent).extracting(Sent::text).containsExactly("a", "b");
        assertThat(windows).isEmpty();
    }

    @Test
    void textOfTheDeltaSizeIsSentAtOnceInPiecesThatFitAndJoinBackExactly() {
        ReplyCoalescer c = coalescer(Duration.ofSeconds(30), 64);
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 200; i++) big.append("w").append(i).append(" \"é€😀\"\n");
        c.add("r", "m", EventType.TEXT_DELTA, big.toString());
        assertThat(sent).hasSizeGreaterThan(10);
        assertThat(sent).allSatisfy(s -> {
            assertThat(JsonBytes.of(s.text())).isLessThanOrEqualTo(64);
            assertThat(Character.isHighSurrogate(s.text().charAt(s.text().length() - 1)))
                    .isFalse();
        });
        assertThat(String.join("", sent.stream().map(Sent::text).toList())).isEqualTo(big.toString());
    }

    @Test
    void aFencedRunOrReplyLosesItsHeldText() {
        ReplyCoalescer c = coalescer(Duration.ofSeconds(30), 1024);
        c.add("r1", "m1", EventType.TEXT_DELTA, "dropped with its run");
        c.add("r2", "m2", EventType.TEXT_DELTA, "dropped with its reply");
        c.add("r2", "m3", EventType.TEXT_DELTA, "kept");
        c.dropRun("r1");
        c.dropMessage("m2");
        c.flushAll();
        assertThat(sent).extracting(Sent::text).containsExactly("kept");
    }

    @Test
    void flushAllSendsEveryReplyInTheOrderItsTextWasFirstHeld() {
        ReplyCoalescer c = coalescer(Duration.ofSeconds(30), 1024);
        c.add("r", "m2", EventType.TEXT_DELTA, "second reply");
        c.add("r", "m1", EventType.TEXT_DELTA, "first reply");
        c.flushAll();
        assertThat(sent).extracting(Sent::messageId).containsExactly("m2", "m1");
    }
}
