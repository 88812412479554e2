package io.durablesessions.local.apigateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The local stack's line per message and request: route, session, outcome, ms, and the trace id. */
class RequestLogTest {
    static final String TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    static String line(String transport, String route, String request, int status, String response) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RequestLog.printingTo(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .served(transport, route, request, status, response, 3_400_000);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anAcknowledgedAppendShowsItsSeqsAndTheTraceOfItsTraceparent() {
        String l = line(
                "ws",
                "append",
                "{\"action\":\"append\",\"sessionId\":\"demo\",\"traceparent\":\"" + TP + "\",\"events\":[]}",
                0,
                "{\"type\":\"ack\",\"sessionId\":\"demo\",\"firstSeq\":5,\"lastSeq\":7}");
        assertThat(l)
                .matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ws +append +demo +seq 5-7 +3 ms  trace "
                        + "4bf92f3577b34da6a3ce929d0e0e4736\\R");
    }

    @Test
    void aRefusalShowsItsCodeAndNoTraceWithoutATraceparent() {
        String l = line(
                "http", "POST /v1/sessions/demo/events", null, 400, "{\"code\":\"INVALID_MESSAGE\",\"status\":400}");
        assertThat(l).contains(" demo ").contains("400 INVALID_MESSAGE").doesNotContain("trace");
        assertThat(line("ws", "append", "{\"sessionId\":\"s\",\"traceparent\":\"junk\"}", 0, null))
                .doesNotContain("trace");
    }
}
