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
    long nowMs = 1_000;

    ReplyCoalescer coalescer(Duration window, int maxDeltaBytes) {
        return new ReplyCoalescer(
                window,
                maxDeltaBytes,
                () -> nowMs * 1_000_000L,
                (m, generation, w) -> windows.add(new Window(m, generation, w)),
                (run, m, type, text) -> sent.add(new Sent(run, m, type, text)));
    }

    /** A reply that has sent its leading edge at the current time, with nothing held. */
    ReplyCoalescer afterLeadingEdge(Duration window, String... messageIds) {
        ReplyCoalescer c = coalescer(window, 1024);
        for (String m : messageIds) c.add("r", m, EventType.TEXT_DELTA, "lead ");
        assertThat(sent).hasSize(messageIds.length);
        sent.clear();
        return c;
    }

    @Test
    void theFirstTextOfAReplyGoesAtOnceSoTheReplyStartsWithoutWaitingForAWindow() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(300), 1024);
        c.add("r", "m", EventType.TEXT_DELTA, "Hello");
        assertThat(sent).containsExactly(new Sent("r", "m", EventType.TEXT_DELTA, "Hello"));
        assertThat(windows).isEmpty();
        assertThat(c.holds("m")).isFalse();
    }

    @Test
    void textSoonAfterASendIsHeldUntilAWindowAfterThatSendThenSentAsOneDelta() {
        ReplyCoalescer c = afterLeadingEdge(Duration.ofMillis(300), "m");
        nowMs += 40;
        c.add("r", "m", EventType.TEXT_DELTA, "Hello");
        c.add("r", "m", EventType.TEXT_DELTA, ", ");
        nowMs += 100;
        c.add("r", "m", EventType.TEXT_DELTA, "world");
        assertThat(sent).isEmpty();
        // the window is counted from the last send, not from the held text's first character
        assertThat(windows).containsExactly(new Window("m", windows.get(0).generation(), Duration.ofMillis(260)));
        nowMs += 160;
        c.windowEnded("m", windows.get(0).generation());
        assertThat(sent).containsExactly(new Sent("r", "m", EventType.TEXT_DELTA, "Hello, world"));
        assertThat(c.holds("m")).isFalse();
    }

    @Test
    void aSteadyStreamSendsOncePerWindowAfterItsLeadingEdge() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(300), 1024);
        long[] due = {-1}; // the open window's end, fired by the loop below as the agent's timer would
        long[] generation = {0};
        StringBuilder written = new StringBuilder();
        for (int token = 0; token < 300; token++, nowMs += 10) { // 300 tokens at 100 tokens/s
            if (due[0] >= 0 && nowMs >= due[0]) {
                due[0] = -1;
                c.windowEnded("m", generation[0]);
            }
            int opened = windows.size();
            c.add("r", "m", EventType.TEXT_DELTA, "t" + token + " ");
            written.append("t").append(token).append(' ');
            if (windows.size() > opened) {
                due[0] = nowMs + windows.get(opened).length().toMillis();
                generation[0] = windows.get(opened).generation();
            }
        }
        c.flushAll();
        assertThat(sent.get(0).text()).isEqualTo("t0 "); // the leading edge
        assertThat(sent).hasSize(1 + 10); // then one per 300 ms of the 3 s stream
        assertThat(String.join("", sent.stream().map(Sent::text).toList())).isEqualTo(written.toString());
    }

    @Test
    void aReplyQuietForAWindowSendsItsNextTextAtOnce() {
        ReplyCoalescer c = afterLeadingEdge(Duration.ofMillis(300), "m");
        nowMs += 300; // e.g. the model called a tool
        c.add("r", "m", EventType.TEXT_DELTA, "after the tool");
        assertThat(sent).extracting(Sent::text).containsExactly("after the tool");
        assertThat(windows).isEmpty();
    }

    @Test
    void eachReplyHasItsOwnLeadingEdge() {
        ReplyCoalescer c = afterLeadingEdge(Duration.ofMillis(300), "m1");
        nowMs += 5;
        c.add("r", "m2", EventType.TEXT_DELTA, "second reply starts");
        c.add("r", "m1", EventType.TEXT_DELTA, "first reply goes on");
        assertThat(sent).extracting(Sent::text).containsExactly("second reply starts");
        assertThat(windows).extracting(Window::messageId).containsExactly("m1");
    }

    @Test
    void aRepliesStartGoesWithItsFirstTextAsOneAppend() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(300), 1024);
        c.start("r", "m");
        assertThat(sent).isEmpty();
        nowMs += 120; // the model's first token
        c.add("r", "m", EventType.TEXT_DELTA, "Hello");
        assertThat(sent)
                .containsExactly(
                        new Sent("r", "m", EventType.MESSAGE_START, ""),
                        new Sent("r", "m", EventType.TEXT_DELTA, "Hello"));
        c.windowEnded("m", windows.get(0).generation()); // the start's window: nothing left to send
        assertThat(sent).hasSize(2);
    }

    @Test
    void aRepliesStartGoesAloneAWindowAfterItStartedWhenNoTextComes() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(300), 1024);
        c.start("r", "m");
        assertThat(windows).containsExactly(new Window("m", windows.get(0).generation(), Duration.ofMillis(300)));
        nowMs += 300;
        c.windowEnded("m", windows.get(0).generation());
        assertThat(sent).containsExactly(new Sent("r", "m", EventType.MESSAGE_START, ""));
        nowMs += 5;
        c.add("r", "m", EventType.TEXT_DELTA, "late"); // no text was sent yet: the leading edge goes at once
        assertThat(sent).extracting(Sent::text).containsExactly("", "late");
    }

    @Test
    void anotherEventSendsAHeldStartFirst() {
        ReplyCoalescer c = coalescer(Duration.ofMillis(300), 1024);
        c.start("r", "m");
        c.flushAll(); // e.g. a tool call or the reply's end
        assertThat(sent).containsExactly(new Sent("r", "m", EventType.MESSAGE_START, ""));
    }

    @Test
    void aWindowStartedForEarlierTextDoesNotCutLaterTextShort() {
        ReplyCoalescer c = afterLeadingEdge(Duration.ofMillis(150), "m");
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
        ReplyCoalescer c = afterLeadingEdge(Duration.ofSeconds(30), "m");
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
        ReplyCoalescer c = afterLeadingEdge(Duration.ofSeconds(30), "m1", "m2", "m3");
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
        ReplyCoalescer c = afterLeadingEdge(Duration.ofSeconds(30), "m1", "m2");
        c.add("r", "m2", EventType.TEXT_DELTA, "second reply");
        c.add("r", "m1", EventType.TEXT_DELTA, "first reply");
        c.flushAll();
        assertThat(sent).extracting(Sent::messageId).containsExactly("m2", "m1");
    }
}
