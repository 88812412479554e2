package io.durablesessions.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.functions.auth.AuthConfig;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kit's library API (ds doctor's door to it): the options of scripts/conformance, one result per case. */
class ConformanceRunTest {
    static final List<String> TOKENS =
            List.of("--hs256-secret", AuthConfig.LOCAL_DEV_SECRET, "--issuer", AuthConfig.LOCAL_ISSUER);

    static List<String> args(String ws, String http, String... more) {
        List<String> a = new ArrayList<>(List.of("--ws", ws, "--http", http));
        a.addAll(TOKENS);
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void usageErrorsAreTheCommandLinesOwn() {
        assertThatThrownBy(() -> ConformanceRun.fromArguments(List.of("--http", "http://127.0.0.1:1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--ws and --http are required");
        assertThatThrownBy(() -> ConformanceRun.fromArguments(
                        List.of("--ws", "ws://127.0.0.1:1/local", "--http", "http://127.0.0.1:1")))
                .hasMessageContaining("give exactly one of --hs256-secret, --token-command, --tokens");
        assertThatThrownBy(() -> ConformanceRun.fromArguments(
                        args("ws://127.0.0.1:1/local", "http://127.0.0.1:1", "--only", "nothing")))
                .hasMessageContaining("selects no case");
        assertThatThrownBy(() -> ConformanceRun.fromArguments(args("http://127.0.0.1:1", "http://127.0.0.1:1")))
                .hasMessageContaining("--ws must be a ws or wss URL");
        assertThatThrownBy(() -> ConformanceRun.fromArguments(List.of("--list")))
                .hasMessageContaining("not runs");
    }

    @Test
    void aRunAgainstNothingFailsEachCaseWithItsReportLines() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        ConformanceRun run = ConformanceRun.fromArguments(args(
                "ws://127.0.0.1:" + port + "/local",
                "http://127.0.0.1:" + port,
                "--only",
                "transport.unknown-action,http.events-paging",
                "--answer-timeout",
                "2s"));
        assertThat(run.caseIds()).containsExactly("transport.unknown-action", "http.events-paging");
        assertThat(run.header()).contains("2 cases", "ws://127.0.0.1:" + port + "/local");
        List<ConformanceRun.CaseResult> seen = new ArrayList<>();
        List<ConformanceRun.CaseResult> results = run.run(seen::add);
        assertThat(seen).isEqualTo(results);
        assertThat(results).allSatisfy(r -> {
            assertThat(r.status()).isEqualTo(ConformanceRun.Status.FAIL);
            assertThat(r.report()).startsWith("FAIL  " + r.id()).contains("covers " + r.covers());
        });
        assertThat(results.get(0).area()).isEqualTo("transport");
        assertThat(ConformanceRun.summary(results, 1500)).startsWith("2 cases: 0 passed, 2 failed, 0 skipped in 1.5 s");
    }
}
