package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.events.ClientMessage.Append;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceParentTest {
    static final String TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void splitsIntoItsFields() {
        TraceParent tp = new TraceParent(TP);
        assertThat(tp.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(tp.parentId()).isEqualTo("00f067aa0ba902b7");
        assertThat(tp.flags()).isEqualTo("01");
        assertThat(tp.sampled()).isTrue();
        assertThat(new TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").sampled())
                .isFalse();
        assertThat(TP).hasSize(Limits.TRACEPARENT_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // no flags
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // the invalid version
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // wrong separator
                "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // not hex
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // a later version's fields
                " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            })
    void refusesWhatW3cDoesNotAllow(String s) {
        assertThat(TraceParent.isValid(s)).isFalse();
        assertThat(TraceParent.parseOrNull(s)).isNull();
        assertThatThrownBy(() -> new TraceParent(s)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anAppendCarriesIt() {
        Append a = (Append) ClientMessages.parse("{\"action\":\"append\",\"sessionId\":\"s\",\"traceparent\":\"" + TP
                + "\",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}]}");
        assertThat(a.traceparent()).isEqualTo(new TraceParent(TP));
        Append none = (Append)
                ClientMessages.parse(
                        "{\"action\":\"append\",\"sessionId\":\"s\",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}]}");
        assertThat(none.traceparent()).isNull();
    }

    @Test
    void anInvalidOneIsRefusedNamingTheField() {
        for (String bad :
                new String[] {"\"00-abc-def-01\"", "42", "\"" + TP.toUpperCase(java.util.Locale.ROOT) + "\""}) {
            assertThatThrownBy(() -> ClientMessages.parse("{\"action\":\"append\",\"sessionId\":\"s\",\"traceparent\":"
                            + bad + ",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}]}"))
                    .isInstanceOfSatisfying(ProtocolException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_MESSAGE);
                        assertThat(e.details().path("field").asText()).isEqualTo("traceparent");
                    });
        }
    }

    @Test
    void theEnvelopeCarriesItBeforeDataAndReadsItBack() {
        Event e = EventInput.of(EventType.CUSTOM, null, Json.object().put("name", "x"))
                .toEvent(3, "s", "a", 9L, TP);
        String json = e.toJson();
        assertThat(json).contains("\"ts\":9,\"traceparent\":\"" + TP + "\",\"data\":");
        assertThat(Event.fromJson(json)).isEqualTo(e);
        Event plain = EventInput.of(EventType.CUSTOM, null, Json.object().put("name", "x"))
                .toEvent(3, "s", "a", 9L);
        assertThat(plain.toJson()).doesNotContain("traceparent");
        assertThat(Event.fromJson(plain.toJson()).traceparent()).isNull();
    }
}
