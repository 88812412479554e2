package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Properties of the assembler, checked over many generated logs. Each case is a seed: a failure
 * names it, and the same seed regenerates the same log.
 */
class AssemblerPropertiesTest {

    static LongStream seeds() {
        return LongStream.range(0, 300).map(i -> 0x5eed_0000L + i);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void hydratingAPrefixThenApplyingTheRestEqualsHydratingTheWholeLog(long seed) {
        Random rnd = new Random(seed);
        List<Event> log = RandomLog.generate(seed, 1 + rnd.nextInt(300));
        int k = rnd.nextInt(log.size() + 1);
        Assembler resumed = Assembler.from(Assembler.fold(log.subList(0, k)));
        log.subList(k, log.size()).forEach(resumed::apply);
        assertThat(resumed.state().toJson()).isEqualTo(Assembler.fold(log).toJson());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlappingEventsAreAppliedOnce(long seed) {
        Random rnd = new Random(seed ^ 0xabcdef);
        List<Event> log = RandomLog.generate(seed, 1 + rnd.nextInt(200));
        int k = rnd.nextInt(log.size() + 1);
        int from = Math.max(0, k - rnd.nextInt(50));
        Assembler a = Assembler.from(Assembler.fold(log.subList(0, k)));
        log.subList(from, log.size()).forEach(a::apply);
        assertThat(a.state().toJson()).isEqualTo(Assembler.fold(log).toJson());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aSnapshotSurvivesItsJsonForm(long seed) {
        SessionState s = Assembler.fold(RandomLog.generate(seed, 1 + new Random(seed).nextInt(300)));
        SessionState back = SessionState.fromNode(Json.parseObject(s.toJson()));
        assertThat(back.toJson()).isEqualTo(s.toJson());
    }

    @Test
    void deltasAssembleIntoOneMessageAndAStoppedReplyIsNotStreaming() {
        List<Event> log = List.of(
                ev(1, EventType.RUN_STARTED, "run-1", "{}"),
                ev(2, EventType.MESSAGE_START, "run-1", "{\"messageId\":\"m\",\"role\":\"assistant\"}"),
                ev(3, EventType.TEXT_DELTA, "run-1", "{\"messageId\":\"m\",\"text\":\"Hel\"}"),
                ev(4, EventType.TEXT_DELTA, "run-1", "{\"messageId\":\"m\",\"text\":\"lo\"}"));
        SessionState live = Assembler.fold(log);
        assertThat(live.items()).singleElement().satisfies(i -> {
            SessionState.Message m = (SessionState.Message) i;
            assertThat(m.text()).isEqualTo("Hello");
            assertThat(m.status()).isEqualTo("streaming");
        });
        SessionState stopped = Assembler.from(live)
                .apply(ev(
                        5,
                        EventType.RUN_STOP_REQUESTED,
                        "run-1",
                        "{\"command\":\"cancel\",\"by\":\"u\",\"stoppedAtSeq\":4}"))
                .state();
        assertThat(((SessionState.Message) stopped.items().get(0)).status()).isEqualTo("interrupted");
        assertThat(stopped.runs()).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo(RunState.STOP_REQUESTED);
            assertThat(r.stoppedAtSeq()).isEqualTo(4L);
        });
    }

    private static Event ev(long seq, EventType type, String run, String data) {
        return new Event(seq, "s", type, "agent", run, seq, Json.parseObject(data));
    }
}
