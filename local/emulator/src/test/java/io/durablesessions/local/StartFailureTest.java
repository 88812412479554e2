package io.durablesessions.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The local stack fails loudly: started as scripts/local starts it (its own JVM), a port that is
 * taken or a setting it cannot read ends the process with one line on stderr and exit code 2,
 * instead of hanging with nothing printed.
 */
class StartFailureTest {
    record Outcome(int exitCode, List<String> errorLines, String stdout) {}

    /** Runs EmbeddedStackMain in a child JVM; the bound only keeps a hang from blocking the build. */
    static Outcome run(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                EmbeddedStackMain.class.getName());
        pb.environment().putAll(env);
        pb.environment().put("DS_REQUEST_LOG", "off");
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the local stack neither started nor exited: it hangs");
        }
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> lines = err.lines()
                .filter(l -> !l.isBlank())
                .filter(l -> !l.startsWith("WARNING")) // the JVM's own warnings, not ours
                .toList();
        return new Outcome(p.exitValue(), lines, out);
    }

    @Test
    void aPortInUseIsOneLineAndExitCodeTwo() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();

            Outcome o = run(Map.of("DS_LOCAL_PORT", Integer.toString(port)));

            assertThat(o.exitCode()).isEqualTo(2);
            assertThat(o.errorLines()).hasSize(1);
            assertThat(o.errorLines().get(0))
                    .startsWith("error: port " + port)
                    .contains("already in use")
                    .contains("DS_LOCAL_PORT");
            assertThat(o.stdout()).doesNotContain("local stack is running");
        }
    }

    @Test
    void aPortThatIsNotANumberIsOneLineAndExitCodeTwo() throws Exception {
        Outcome o = run(Map.of("DS_LOCAL_PORT", "eighty"));

        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.errorLines()).hasSize(1);
        assertThat(o.errorLines().get(0)).startsWith("error: ").contains("eighty");
    }
}
