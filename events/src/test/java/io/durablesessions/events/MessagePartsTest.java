package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reasoning, streamed tool input and message parts (docs/protocol.md §4.2). */
class MessagePartsTest {

    private static EventInput parse(String type, String data) {
        return EventInput.parse(Json.parseObject("{\"type\":\"" + type + "\",\"data\":" + data + "}"), 0, "run-1");
    }

    private static String invalidField(String type, String data) {
        try {
            parse(type, data);
        } catch (ProtocolException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_MESSAGE);
            return e.details().path("field").asText();
        }
        throw new AssertionError("accepted: " + type + " " + data);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"messageId\":\"m\",\"part\":{\"type\":\"step-start\"}}",
                "{\"messageId\":\"m\",\"part\":{\"type\":\"source-url\",\"sourceId\":\"s\",\"url\":\"https://x\",\"title\":\"X\"}}",
                "{\"messageId\":\"m\",\"part\":{\"type\":\"source-document\",\"sourceId\":\"s\",\"mediaType\":\"application/pdf\",\"title\":\"T\"}}",
                "{\"messageId\":\"m\",\"part\":{\"type\":\"file\",\"mediaType\":\"image/png\",\"url\":\"data:image/png;base64,AA==\"}}",
                "{\"messageId\":\"m\",\"part\":{\"type\":\"reasoning-file\",\"mediaType\":\"image/png\",\"url\":\"https://x/y.png\"}}",
                "{\"messageId\":\"m\",\"part\":{\"type\":\"data-weather\",\"id\":\"w1\",\"data\":{\"t\":21}}}",
                "{\"messageId\":\"m\",\"part\":{\"type\":\"data-x\",\"data\":null,\"providerMetadata\":{\"a\":{}}}}"
            })
    void acceptsTheSelfContainedPartsOfAnAiSdkMessage(String data) {
        assertThat(parse("message.part", data).type()).isEqualTo(EventType.MESSAGE_PART);
    }

    @Test
    void refusesPartsThatHaveTheirOwnEventsOrAreIncomplete() {
        assertThat(invalidField("message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"text\",\"text\":\"x\"}}"))
                .isEqualTo("events[0].data.part.type");
        assertThat(invalidField(
                        "message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"tool\",\"toolCallId\":\"t\"}}"))
                .isEqualTo("events[0].data.part.type");
        assertThat(invalidField(
                        "message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"source-url\",\"sourceId\":\"s\"}}"))
                .isEqualTo("events[0].data.part.url");
        assertThat(invalidField("message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"data-a b\",\"data\":1}}"))
                .isEqualTo("events[0].data.part.type");
        assertThat(invalidField("message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"data-x\"}}"))
                .isEqualTo("events[0].data.part.data");
        assertThat(invalidField("message.part", "{\"messageId\":\"m\",\"part\":\"step-start\"}"))
                .isEqualTo("events[0].data.part");
        assertThat(invalidField("message.part", "{\"part\":{\"type\":\"step-start\"}}"))
                .isEqualTo("messageId");
        assertThat(invalidField("reasoning.delta", "{\"messageId\":\"m\",\"text\":5}"))
                .isEqualTo("events[0].data.text");
        assertThat(invalidField("tool.input.start", "{\"toolCallId\":\"t\",\"name\":\"w\"}"))
                .isEqualTo("messageId");
        assertThat(invalidField("tool.input.delta", "{\"toolCallId\":\"t\",\"messageId\":\"m\"}"))
                .isEqualTo("events[0].data.text");
        assertThat(invalidField("tool.call", "{\"toolCallId\":\"t\",\"name\":\"w\",\"dynamic\":\"yes\"}"))
                .isEqualTo("events[0].data.dynamic");
        assertThat(invalidField("tool.call", "{\"toolCallId\":\"t\",\"name\":\"w\",\"messageId\":\"a b\"}"))
                .isEqualTo("messageId");
    }

    @Test
    void aMessageKeepsItsContentInOrder() {
        List<Event> log = List.of(
                ev(1, "run.started", "{}"),
                ev(2, "message.start", "{\"messageId\":\"m\",\"role\":\"assistant\"}"),
                ev(3, "message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"step-start\"}}"),
                ev(4, "reasoning.delta", "{\"messageId\":\"m\",\"text\":\"Let me \"}"),
                ev(5, "reasoning.delta", "{\"messageId\":\"m\",\"text\":\"think\"}"),
                ev(6, "text.delta", "{\"messageId\":\"m\",\"text\":\"Checking\"}"),
                ev(7, "tool.input.start", "{\"toolCallId\":\"c\",\"messageId\":\"m\",\"name\":\"weather\"}"),
                ev(8, "tool.input.delta", "{\"toolCallId\":\"c\",\"messageId\":\"m\",\"text\":\"{\\\"city\\\":\"}"),
                ev(9, "message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"data-w\",\"id\":\"1\",\"data\":1}}"),
                ev(10, "text.delta", "{\"messageId\":\"m\",\"text\":\" 😀\"}"),
                ev(11, "message.part", "{\"messageId\":\"m\",\"part\":{\"type\":\"data-w\",\"id\":\"1\",\"data\":2}}"));
        SessionState s = Assembler.fold(log);
        SessionState.Message m = (SessionState.Message) s.items().get(0);
        assertThat(m.text()).isEqualTo("Checking 😀");
        assertThat(m.reasoning()).isEqualTo("Let me think");
        assertThat(m.parts().toString())
                .isEqualTo("[{\"type\":\"step-start\"},{\"type\":\"reasoning\",\"length\":12},"
                        + "{\"type\":\"text\",\"length\":8},{\"type\":\"tool\",\"toolCallId\":\"c\"},"
                        + "{\"type\":\"data-w\",\"id\":\"1\",\"data\":2},{\"type\":\"text\",\"length\":3}]");
        SessionState.ToolCall t = (SessionState.ToolCall) s.items().get(1);
        assertThat(t.status()).isEqualTo("streaming");
        assertThat(t.inputText()).isEqualTo("{\"city\":");
        assertThat(t.messageId()).isEqualTo("m");

        SessionState called = Assembler.from(s)
                .apply(
                        ev(
                                12,
                                "tool.call",
                                "{\"toolCallId\":\"c\",\"messageId\":\"m\",\"name\":\"weather\",\"arguments\":{\"city\":\"Paris\"}}"))
                .apply(ev(13, "tool.result", "{\"toolCallId\":\"c\",\"result\":{\"t\":21}}"))
                .state();
        SessionState.ToolCall done = (SessionState.ToolCall) called.items().get(1);
        assertThat(done.status()).isEqualTo("done");
        assertThat(done.inputText()).isNull();
        assertThat(done.arguments().toString()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(((SessionState.Message) called.items().get(0)).parts().size())
                .isEqualTo(6); // attached once
    }

    @Test
    void aPlainMessageLooksExactlyAsBefore() {
        SessionState s = Assembler.fold(List.of(
                ev(1, "message.start", "{\"messageId\":\"m\",\"role\":\"user\"}"),
                ev(2, "text.delta", "{\"messageId\":\"m\",\"text\":\"hi\"}"),
                ev(3, "message.end", "{\"messageId\":\"m\"}")));
        assertThat(s.items().get(0).toNode().toString())
                .isEqualTo(
                        "{\"kind\":\"message\",\"messageId\":\"m\",\"role\":\"user\","
                                + "\"agentId\":\"a\",\"runId\":\"run-1\",\"text\":\"hi\",\"status\":\"complete\",\"firstSeq\":1,\"lastSeq\":3}");
    }

    @Test
    void aLargeMessageWithReasoningAndPartsIsSplitIntoSnapshotPartsThatJoinBack() {
        List<Event> log = new ArrayList<>();
        log.add(ev(1, "run.started", "{}"));
        long seq = 2;
        for (int i = 0; i < 120; i++) {
            log.add(ev(seq++, "reasoning.delta", "{\"messageId\":\"m\",\"text\":\"" + "é\\\"".repeat(200) + "\"}"));
            log.add(ev(seq++, "text.delta", "{\"messageId\":\"m\",\"text\":\"" + "x😀".repeat(300) + "\"}"));
            log.add(ev(
                    seq++,
                    "message.part",
                    "{\"messageId\":\"m\",\"part\":{\"type\":\"source-url\",\"sourceId\":\"s" + i
                            + "\",\"url\":\"https://example.com/" + "p".repeat(400) + "\"}}"));
        }
        for (int i = 0; i < 200; i++) {
            log.add(ev(
                    seq++,
                    "tool.input.delta",
                    "{\"toolCallId\":\"c\",\"messageId\":\"m\",\"text\":\"" + "{\\\"k\\\":".repeat(200) + "\"}"));
        }
        SessionState state = Assembler.fold(log);
        List<String> frames = Frames.snapshots("r", "s", state, Limits.MAX_MESSAGE_BYTES);
        assertThat(frames)
                .hasSizeGreaterThan(4)
                .allSatisfy(f -> assertThat(f.getBytes(StandardCharsets.UTF_8).length)
                        .isLessThanOrEqualTo(Limits.MAX_MESSAGE_BYTES));
        SessionState joined =
                SnapshotParts.join(frames.stream().map(Json::parseObject).toList());
        assertThat(joined.toJson()).isEqualTo(state.toJson());
    }

    @Test
    void anInterruptFencesTheMessageNotItsToolCalls() {
        SessionState s = Assembler.fold(List.of(
                ev(1, "run.started", "{}"),
                ev(2, "tool.input.start", "{\"toolCallId\":\"c\",\"messageId\":\"m\",\"name\":\"w\"}"),
                ev(3, "run.interrupted", "{\"messageId\":\"m\"}")));
        assertThat(s.items())
                .extracting(
                        i -> i instanceof SessionState.Message m ? m.status() : ((SessionState.ToolCall) i).status())
                .containsExactly("interrupted", "streaming");
        assertThatThrownBy(() -> parse("message.part", "{\"messageId\":\"m\",\"part\":{}}"))
                .isInstanceOf(ProtocolException.class);
    }

    private static Event ev(long seq, String type, String data) {
        return new Event(seq, "s", EventType.fromWire(type).orElseThrow(), "a", "run-1", seq, Json.parseObject(data));
    }
}
