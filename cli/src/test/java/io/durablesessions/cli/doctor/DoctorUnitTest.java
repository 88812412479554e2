package io.durablesessions.cli.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.conformance.ConformanceRun;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** doctor without a service: its quick subset exists in the kit, the kit's tokens serve the probe, the verdict's rules. */
class DoctorUnitTest {

    @Test
    void theQuickSubsetNamesCasesTheKitHas() throws Exception {
        ConformanceRun run = ConformanceRun.fromArguments(List.of(
                "--ws",
                "ws://127.0.0.1:1/local",
                "--http",
                "http://127.0.0.1:1",
                "--hs256-secret",
                AuthConfig.LOCAL_DEV_SECRET,
                "--issuer",
                AuthConfig.LOCAL_ISSUER,
                "--only",
                String.join(",", DoctorCommand.QUICK)));
        assertThat(run.caseIds()).containsExactlyInAnyOrderElementsOf(DoctorCommand.QUICK);
        assertThat(DoctorCommand.QUICK).hasSize(Integer.parseInt(DoctorCommand.QUICK_COUNT));
        assertThat(run.session("doctor-probe")).startsWith("conformance-").endsWith(".doctor-probe");
        ObjectNode agent = claims(run.token("agentA"));
        assertThat(agent.path("role").asText()).isEqualTo("agent");
        assertThat(agent.path("grants").get(0).path("prefix").asText()).isEqualTo("conformance-");
        assertThat(run.token("nobody")).isNull();
    }

    @Test
    void anAreaFailsOnOneFailureAndTheVerdictNeedsSomethingProven() {
        DoctorCommand.Verdict v = new DoctorCommand.Verdict();
        v.add("reachability", Probe.Status.PASS, "ok");
        v.add("tokens", Probe.Status.PASS, null);
        v.add("tokens", Probe.Status.SKIP, null);
        StringWriter text = new StringWriter();
        assertThat(v.print(new PrintWriter(text), 1000)).isTrue();
        assertThat(text.toString()).contains("tokens         PASS  1 passed, 1 skipped", "overall        PASS");

        v.add("resume", Probe.Status.FAIL, null);
        text = new StringWriter();
        assertThat(v.print(new PrintWriter(text), 1000)).isFalse();
        assertThat(text.toString()).contains("resume         FAIL  0 passed, 1 failed", "overall        FAIL");

        DoctorCommand.Verdict skipped = new DoctorCommand.Verdict();
        skipped.add("reachability", Probe.Status.PASS, "ok");
        skipped.add("presence", Probe.Status.SKIP, null);
        text = new StringWriter();
        assertThat(skipped.print(new PrintWriter(text), 1000)).isFalse();
        assertThat(text.toString()).contains("presence       SKIP", "nothing could be checked");
    }

    static ObjectNode claims(String jwt) {
        return Json.parseObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1])));
    }
}
