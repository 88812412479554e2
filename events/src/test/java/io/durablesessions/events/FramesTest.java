package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FramesTest {
    @Test
    void eventsArePackedInOrderIntoFramesUnderTheLimit() {
        List<String> events = new ArrayList<>();
        for (int i = 1; i <= 500; i++) {
            events.add(new Event(
                            i,
                            "s",
                            EventType.CUSTOM,
                            "a",
                            null,
                            i,
                            Json.object().put("name", "x".repeat(200)))
                    .toJson());
        }
        List<String> frames = Frames.packEvents("s", events, Limits.MAX_FRAME_BYTES).stream()
                .map(Frames.Packed::frame)
                .toList();
        assertThat(frames)
                .hasSizeGreaterThan(1)
                .allSatisfy(f -> assertThat(f.getBytes(StandardCharsets.UTF_8).length)
                        .isLessThanOrEqualTo(Limits.MAX_FRAME_BYTES));
        List<Long> seqs = new ArrayList<>();
        frames.forEach(f -> Json.parseObject(f)
                .get("events")
                .forEach(e -> seqs.add(e.get("seq").asLong())));
        assertThat(seqs)
                .containsExactlyElementsOf(
                        java.util.stream.LongStream.rangeClosed(1, 500).boxed().toList());
    }

    @Test
    void aLargeSnapshotIsSplitIntoPartsThatJoinBackExactly() {
        List<Event> log = new ArrayList<>();
        log.add(new Event(1, "s", EventType.RUN_STARTED, "a", "r", 1, Json.object()));
        log.add(new Event(
                2,
                "s",
                EventType.MESSAGE_START,
                "a",
                "r",
                2,
                Json.parseObject("{\"messageId\":\"m\",\"role\":\"assistant\"}")));
        for (int i = 3; i < 400; i++) {
            log.add(new Event(
                    i,
                    "s",
                    EventType.TEXT_DELTA,
                    "a",
                    "r",
                    i,
                    Json.object().put("messageId", "m").put("text", "é😀\"\\ token " + i + " ".repeat(900))));
        }
        log.add(new Event(
                400, "s", EventType.CUSTOM, "a", null, 400, Json.object().put("name", "after")));
        SessionState state = Assembler.fold(log);
        List<String> frames = Frames.snapshots("r1", "s", state, Limits.MAX_MESSAGE_BYTES);
        assertThat(frames)
                .hasSizeGreaterThan(2)
                .allSatisfy(f -> assertThat(f.getBytes(StandardCharsets.UTF_8).length)
                        .isLessThanOrEqualTo(Limits.MAX_MESSAGE_BYTES));
        SessionState joined =
                SnapshotParts.join(frames.stream().map(Json::parseObject).toList());
        assertThat(joined.toJson()).isEqualTo(state.toJson());
    }

    @Test
    void everyAppendOutcomeHasOneWireForm() {
        var fenced = Json.parseObject(
                Frames.appendOutcome("r", "s", new AppendResult.RunFenced("run", RunState.STOP_REQUESTED, 41L)));
        assertThat(fenced.get("code").asText()).isEqualTo("RUN_FENCED");
        assertThat(fenced.at("/details/stoppedAtSeq").asLong()).isEqualTo(41);
        assertThat(Json.parseObject(Frames.appendOutcome("r", "s", new AppendResult.Duplicate(3L, 4L)))
                        .get("duplicate")
                        .asBoolean())
                .isTrue();
    }
}
