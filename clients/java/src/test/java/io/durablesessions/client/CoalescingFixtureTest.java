package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.Coalescing;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code fixtures/coalescing.json}: scripted and seeded streams of text (when each piece is written, to
 * which reply, of which kind) and what {@link ReplyCoalescer} sends for them and when, on a virtual
 * clock whose window timers fire on time. The TypeScript agent's {@code Coalescer} replays the same
 * file ({@code clients/web/test/unit/coalescing.test.js}), so both agents append a reply's text alike.
 * Regenerate with {@code ./mvnw -pl clients/java test -Dtest=CoalescingFixtureTest -Dfixtures.write=true}.
 */
class CoalescingFixtureTest {
    static final Path FILE = Path.of("..", "..", "fixtures", "coalescing.json");

    /** Writes {@code text} of {@code type} to reply {@code key} at {@code at} ms; or, with no key, sends all that is held. */
    record Step(long at, String key, EventType type, String text) {
        static Step add(long at, String key, EventType type, String text) {
            return new Step(at, key, type, text);
        }

        static Step flushAll(long at) {
            return new Step(at, null, null, null);
        }

        static Step start(long at, String key) {
            return new Step(at, key, EventType.MESSAGE_START, null);
        }
    }

    record Scenario(String name, long windowMs, int maxBytes, List<Step> steps) {}

    record Sent(long at, String key, EventType type, String text) {}

    private record Timer(long due, long order, String key, long generation) {}

    static List<Sent> run(Scenario s) {
        long[] now = {0};
        long[] order = {0};
        PriorityQueue<Timer> timers = new PriorityQueue<>(
                (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.order, b.order));
        List<Sent> sent = new ArrayList<>();
        ReplyCoalescer c = new ReplyCoalescer(
                Duration.ofMillis(s.windowMs),
                s.maxBytes,
                () -> now[0] * 1_000_000L,
                (key, generation, window) ->
                        timers.add(new Timer(now[0] + window.toMillis(), order[0]++, key, generation)),
                (run, key, type, text) -> sent.add(new Sent(now[0], key, type, text)));
        for (Step step : s.steps) {
            fireUntil(c, timers, now, step.at);
            now[0] = step.at;
            if (step.key == null) c.flushAll();
            else if (step.type == EventType.MESSAGE_START) c.start("run-1", step.key);
            else c.add("run-1", step.key, step.type, step.text);
        }
        fireUntil(c, timers, now, Long.MAX_VALUE);
        return sent;
    }

    private static void fireUntil(ReplyCoalescer c, PriorityQueue<Timer> timers, long[] now, long until) {
        while (!timers.isEmpty() && timers.peek().due <= until) {
            Timer t = timers.poll();
            now[0] = Math.max(now[0], t.due);
            c.windowEnded(t.key, t.generation);
        }
    }

    static List<Scenario> scenarios() {
        List<Scenario> all = new ArrayList<>();
        List<Step> steady = new ArrayList<>();
        steady.add(Step.start(0, "m-1"));
        for (int i = 0; i < 200; i++) steady.add(Step.add(i * 10L, "m-1", EventType.TEXT_DELTA, "t" + i + " "));
        all.add(new Scenario("a steady stream of 100 tokens/s for 2 s, default window", 300, 16 * 1024, steady));

        List<Step> pause = new ArrayList<>();
        for (int i = 0; i < 30; i++) pause.add(Step.add(i * 10L, "m-1", EventType.TEXT_DELTA, "a" + i + " "));
        for (int i = 0; i < 30; i++) pause.add(Step.add(2_000 + i * 10L, "m-1", EventType.TEXT_DELTA, "b" + i + " "));
        all.add(new Scenario("text, a pause longer than the window (a tool call), text again", 300, 16 * 1024, pause));

        List<Step> kinds = new ArrayList<>();
        kinds.add(Step.add(0, "m-1", EventType.REASONING_DELTA, "Let me "));
        kinds.add(Step.add(20, "m-1", EventType.REASONING_DELTA, "think. "));
        kinds.add(Step.add(40, "m-1", EventType.TEXT_DELTA, "The answer "));
        kinds.add(Step.add(60, "m-1", EventType.TEXT_DELTA, "is 42."));
        kinds.add(Step.add(70, "m-2", EventType.TEXT_DELTA, "Another reply."));
        kinds.add(Step.add(80, "m-2", EventType.TEXT_DELTA, " More."));
        kinds.add(Step.flushAll(100)); // another event is appended: held text goes first
        kinds.add(Step.add(120, "m-1", EventType.TEXT_DELTA, " After the event."));
        all.add(new Scenario("reasoning then text, two replies, another event in between", 300, 16 * 1024, kinds));

        List<Step> starts = new ArrayList<>();
        starts.add(Step.start(0, "m-1"));
        starts.add(Step.add(120, "m-1", EventType.TEXT_DELTA, "first words")); // with its start, at once
        starts.add(Step.start(200, "m-2")); // nothing written for a window: its start goes alone
        starts.add(Step.add(900, "m-2", EventType.REASONING_DELTA, "thinking"));
        starts.add(Step.start(1_000, "m-3"));
        starts.add(Step.flushAll(1_010)); // e.g. the reply's end: its start goes first
        all.add(new Scenario(
                "a reply's start goes with its first text, or alone after a window", 300, 16 * 1024, starts));

        List<Step> big = new ArrayList<>();
        big.add(Step.add(0, "m-1", EventType.TEXT_DELTA, "lead "));
        big.add(Step.add(10, "m-1", EventType.TEXT_DELTA, "x".repeat(40)));
        big.add(Step.add(20, "m-1", EventType.TEXT_DELTA, "y".repeat(40) + "\"é€😀\"")); // past maxBytes: at once
        big.add(Step.add(30, "m-1", EventType.TEXT_DELTA, "tail"));
        all.add(new Scenario("held text reaching maxBytes goes at once, in pieces", 300, 64, big));

        List<Step> zero =
                List.of(Step.add(0, "m-1", EventType.TEXT_DELTA, "a"), Step.add(1, "m-1", EventType.TEXT_DELTA, "b"));
        all.add(new Scenario("a window of 0 sends every delta at once", 0, 16 * 1024, zero));

        for (long seed : new long[] {0xC0A1E5CEL, 0x5EED0002L}) {
            Random r = new Random(seed);
            List<Step> steps = new ArrayList<>();
            long at = 0;
            for (int i = 0; i < 300; i++) {
                at += r.nextInt(10) < 8 ? r.nextInt(40) : 200 + r.nextInt(400);
                if (r.nextInt(25) == 0) {
                    steps.add(Step.flushAll(at));
                    continue;
                }
                String key = "m-" + (1 + r.nextInt(3));
                if (r.nextInt(30) == 0) {
                    steps.add(Step.start(at, key));
                    continue;
                }
                EventType type = r.nextInt(6) == 0 ? EventType.REASONING_DELTA : EventType.TEXT_DELTA;
                steps.add(Step.add(at, key, type, "w" + i + " "));
            }
            all.add(new Scenario(
                    "seeded: 3 replies, pauses, kinds, other events (seed " + Long.toHexString(seed) + ")",
                    150 + r.nextInt(300),
                    16 * 1024,
                    steps));
        }
        return all;
    }

    static String render() {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"defaultWindowMs\": ")
                .append(Coalescing.DEFAULT_WINDOW.toMillis())
                .append(",\n");
        sb.append("  \"scenarios\": [\n");
        List<Scenario> all = scenarios();
        for (int i = 0; i < all.size(); i++) {
            Scenario s = all.get(i);
            sb.append("    {\"name\": ").append(Json.quote(s.name));
            sb.append(", \"windowMs\": ")
                    .append(s.windowMs)
                    .append(", \"maxBytes\": ")
                    .append(s.maxBytes);
            sb.append(",\n     \"steps\": [\n");
            for (int j = 0; j < s.steps.size(); j++) {
                Step st = s.steps.get(j);
                sb.append("      {\"at\": ").append(st.at);
                if (st.key == null) sb.append(", \"flushAll\": true}");
                else if (st.type == EventType.MESSAGE_START)
                    sb.append(", \"key\": ").append(Json.quote(st.key)).append(", \"start\": true}");
                else
                    sb.append(", \"key\": ")
                            .append(Json.quote(st.key))
                            .append(", \"type\": ")
                            .append(Json.quote(st.type.wire()))
                            .append(", \"text\": ")
                            .append(Json.quote(st.text))
                            .append("}");
                sb.append(j + 1 < s.steps.size() ? ",\n" : "\n");
            }
            sb.append("     ],\n     \"sent\": [\n");
            List<Sent> sent = run(s);
            for (int j = 0; j < sent.size(); j++) {
                Sent x = sent.get(j);
                sb.append("      {\"at\": ")
                        .append(x.at)
                        .append(", \"key\": ")
                        .append(Json.quote(x.key))
                        .append(", \"type\": ")
                        .append(Json.quote(x.type.wire()))
                        .append(", \"text\": ")
                        .append(Json.quote(x.text))
                        .append(j + 1 < sent.size() ? "},\n" : "}\n");
            }
            sb.append("     ]}").append(i + 1 < all.size() ? ",\n" : "\n");
        }
        return sb.append("  ]\n}\n").toString();
    }

    @Test
    void theCommittedFixtureIsWhatTheCoalescerDoes() throws IOException {
        String expected = render();
        if (System.getProperty("fixtures.write") != null) Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        assertThat(Files.readString(FILE, StandardCharsets.UTF_8))
                .as("fixtures/coalescing.json is stale; regenerate with "
                        + "./mvnw -pl clients/java test -Dtest=CoalescingFixtureTest -Dfixtures.write=true")
                .isEqualTo(expected);
    }

    @Test
    void everyReplyGetsAllItsTextInOrderAndNoTextWaitsLongerThanTheWindow() {
        for (Scenario s : scenarios()) {
            List<Sent> sent = run(s);
            for (String key : s.steps.stream()
                    .map(Step::key)
                    .filter(k -> k != null)
                    .distinct()
                    .toList()) {
                assertThat(textOf(sent.stream()
                                .filter(x -> x.key.equals(key) && x.text != null)
                                .map(Sent::text)))
                        .as(s.name + ": the text of " + key)
                        .isEqualTo(textOf(s.steps.stream()
                                .filter(x -> key.equals(x.key) && x.text != null)
                                .map(Step::text)));
            }
            for (Step step : s.steps) {
                if (step.key == null || step.type == EventType.MESSAGE_START) continue;
                // what the key sent at each moment, pieces joined: the first at or after the step that holds it
                long carriedAt = sent.stream()
                        .filter(x -> x.key.equals(step.key) && x.at >= step.at)
                        .map(Sent::at)
                        .distinct()
                        .filter(at -> textOf(sent.stream()
                                        .filter(x -> x.key.equals(step.key) && x.at == at)
                                        .map(Sent::text))
                                .contains(step.text))
                        .findFirst()
                        .orElseThrow();
                assertThat(carriedAt - step.at).as(s.name + ": " + step).isLessThanOrEqualTo(s.windowMs);
            }
        }
    }

    @Test
    void aSteadyStreamCostsOneAppendPerWindowPlusItsLeadingEdge() {
        List<Sent> steady = run(scenarios().get(0));
        // the start and the first token at once, then once per window of the 2 s stream
        assertThat(steady.subList(0, 2))
                .containsExactly(
                        new Sent(0, "m-1", EventType.MESSAGE_START, ""),
                        new Sent(0, "m-1", EventType.TEXT_DELTA, "t0 "));
        assertThat(steady.subList(1, steady.size()))
                .extracting(Sent::at)
                .containsExactly(0L, 300L, 600L, 900L, 1200L, 1500L, 1800L, 2100L);
    }

    private static String textOf(java.util.stream.Stream<String> pieces) {
        return String.join("", pieces.toList());
    }
}
