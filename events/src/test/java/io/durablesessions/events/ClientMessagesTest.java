package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.ClientMessage.Subscribe;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClientMessagesTest {

    static ErrorCode codeOf(String frame) {
        try {
            ClientMessages.parse(frame);
        } catch (ProtocolException e) {
            return e.code();
        }
        throw new AssertionError("frame was accepted: " + frame);
    }

    @Nested
    class Append_ {
        @Test
        void parsesEventsProducerAndRun() {
            Append a = (Append) ClientMessages.parse("""
                    {"action":"append","requestId":"r1","sessionId":"s-1","runId":"run-1",
                     "producer":{"id":"p","epoch":2,"seq":7},
                     "events":[{"type":"text.delta","data":{"messageId":"m1","text":"hi"}},
                               {"type":"custom","runId":"run-2","data":{"name":"x"}}]}""");
            assertThat(a.requestId()).isEqualTo("r1");
            assertThat(a.producer()).isEqualTo(new ClientMessage.Producer("p", 2, 7));
            assertThat(a.events()).extracting(EventInput::type).containsExactly(EventType.TEXT_DELTA, EventType.CUSTOM);
            assertThat(a.events()).extracting(EventInput::runId).containsExactly("run-1", "run-2");
        }

        @Test
        void refusesServiceOnlyEventTypes() {
            assertThat(codeOf("""
                    {"action":"append","sessionId":"s","runId":"r","events":[{"type":"run.stopped","data":{}}]}""")).isEqualTo(ErrorCode.FORBIDDEN_EVENT_TYPE);
        }

        @Test
        void refusesUnknownEventTypes() {
            assertThat(codeOf("""
                    {"action":"append","sessionId":"s","events":[{"type":"text.deltaX","data":{}}]}""")).isEqualTo(ErrorCode.UNKNOWN_EVENT_TYPE);
        }

        @Test
        void refusesMoreThanTheEventLimit() {
            String events = String.join(
                    ",",
                    java.util.Collections.nCopies(
                            Limits.MAX_EVENTS_PER_APPEND + 1, "{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}"));
            assertThat(codeOf("{\"action\":\"append\",\"sessionId\":\"s\",\"events\":[" + events + "]}"))
                    .isEqualTo(ErrorCode.TOO_MANY_EVENTS);
        }

        @Test
        void refusesDeeplyNestedData() {
            String deep = "[".repeat(40) + "]".repeat(40);
            assertThat(codeOf("{\"action\":\"append\",\"sessionId\":\"s\",\"events\":[{\"type\":\"custom\",\"data\":"
                            + "{\"name\":\"x\",\"payload\":" + deep + "}}]}"))
                    .isIn(ErrorCode.MALFORMED_JSON, ErrorCode.INVALID_MESSAGE);
        }

        @Test
        void runEventsNeedARun() {
            assertThat(codeOf("""
                    {"action":"append","sessionId":"s","events":[{"type":"run.started","data":{}}]}""")).isEqualTo(ErrorCode.INVALID_MESSAGE);
        }

        @ParameterizedTest(name = "producer {0} is refused")
        @CsvSource(
                delimiter = '|',
                value = {
                    "{\"id\":\"p\",\"epoch\":0,\"seq\":-1}",
                    "{\"id\":\"p\",\"epoch\":0,\"seq\":9007199254740992}",
                    "{\"id\":\"p\",\"epoch\":0,\"seq\":1.5}",
                    "{\"id\":\"p\",\"epoch\":\"0\",\"seq\":1}",
                    "{\"id\":\"p q\",\"epoch\":0,\"seq\":1}",
                    "{\"epoch\":0,\"seq\":1}",
                    "{\"id\":\"p\",\"epoch\":0,\"seq\":99999999999999999999999999999999999}"
                })
        void refusesBadProducers(String producer) {
            assertThat(codeOf("{\"action\":\"append\",\"sessionId\":\"s\",\"producer\":" + producer
                            + ",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}]}"))
                    .isIn(ErrorCode.INVALID_MESSAGE, ErrorCode.MALFORMED_JSON);
        }
    }

    @Test
    void subscribeResumesAfterASeqOrHydrates() {
        assertThat(ClientMessages.parse("{\"action\":\"subscribe\",\"sessionId\":\"s\",\"afterSeq\":41}"))
                .isEqualTo(new Subscribe(null, "s", 41L, false, false));
        assertThat(ClientMessages.parse("{\"action\":\"subscribe\",\"sessionId\":\"s\",\"hydrate\":true}"))
                .isEqualTo(new Subscribe(null, "s", null, true, false));
        // neither: refused, not read as afterSeq 0 (§3.2)
        assertThat(codeOf("{\"action\":\"subscribe\",\"sessionId\":\"s\"}")).isEqualTo(ErrorCode.INVALID_MESSAGE);
        assertThat(codeOf("{\"action\":\"subscribe\",\"sessionId\":\"s\",\"hydrate\":true,\"afterSeq\":3}"))
                .isEqualTo(ErrorCode.INVALID_MESSAGE);
        assertThat(codeOf("{\"action\":\"subscribe\",\"sessionId\":\"s\",\"afterSeq\":-3}"))
                .isEqualTo(ErrorCode.INVALID_MESSAGE);
    }

    @Test
    void controlNamesACommand() {
        assertThat(
                        ClientMessages.parse(
                                "{\"action\":\"control\",\"sessionId\":\"s\",\"runId\":\"r\",\"command\":\"steer\",\"text\":\"shorter\"}"))
                .isEqualTo(new Control(null, "s", "r", ClientMessage.ControlCommand.STEER, "shorter", null));
        assertThat(codeOf("{\"action\":\"control\",\"sessionId\":\"s\",\"runId\":\"r\",\"command\":\"steer\"}"))
                .isEqualTo(ErrorCode.INVALID_MESSAGE);
        assertThat(codeOf("{\"action\":\"control\",\"sessionId\":\"s\",\"runId\":\"r\",\"command\":\"explode\"}"))
                .isEqualTo(ErrorCode.INVALID_MESSAGE);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "not json | MALFORMED_JSON",
                "[1,2] | MALFORMED_JSON",
                "{\"action\":\"append\"} {} | MALFORMED_JSON",
                "{\"action\":\"x\",\"action\":\"y\"} | MALFORMED_JSON",
                "{} | UNKNOWN_ACTION",
                "{\"action\":42} | UNKNOWN_ACTION",
                "{\"action\":\"dance\"} | UNKNOWN_ACTION",
                "{\"action\":\"append\",\"events\":[]} | INVALID_MESSAGE",
                "{\"action\":\"append\",\"sessionId\":\"s\",\"events\":{}} | INVALID_MESSAGE",
                "{\"action\":\"append\",\"sessionId\":\"s\",\"events\":[]} | INVALID_MESSAGE",
                "{\"action\":\"append\",\"sessionId\":\"\",\"events\":[]} | INVALID_MESSAGE",
                "{\"action\":\"append\",\"sessionId\":\"a/b\",\"events\":[]} | INVALID_MESSAGE",
                "{\"action\":\"unsubscribe\",\"sessionId\":7} | INVALID_MESSAGE"
            })
    void malformedFramesGetStableCodes(String frame, ErrorCode code) {
        assertThat(codeOf(frame)).isEqualTo(code);
    }

    @Test
    void oversizedMessagesAreRefusedBeforeParsing() {
        String big = "{\"action\":\"ping\",\"pad\":\"" + "x".repeat(Limits.MAX_MESSAGE_BYTES) + "\"}";
        assertThat(codeOf(big)).isEqualTo(ErrorCode.MESSAGE_TOO_LARGE);
    }

    @Test
    void unicodeEdgeCasesAreDataNotIdentifiers() {
        Append a = (Append) ClientMessages.parse("{\"action\":\"append\",\"sessionId\":\"s\",\"events\":[{\"type\":"
                + "\"text.delta\",\"data\":{\"messageId\":\"m\",\"text\":\"\\u0000 \\ud83d\\ude00 \\u202e ü\"}}]}");
        assertThat(a.events().get(0).data().get("text").textValue()).contains("😀");
        assertThatThrownBy(() -> ClientMessages.parse("{\"action\":\"unsubscribe\",\"sessionId\":\"s\\u00e9\"}"))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void requestIdIsReadBestEffortForErrorFrames() {
        assertThat(ClientMessages.bestEffortRequestId("{\"action\":\"nope\",\"requestId\":\"r9\"}"))
                .isEqualTo("r9");
        assertThat(ClientMessages.bestEffortRequestId("garbage")).isNull();
    }
}
