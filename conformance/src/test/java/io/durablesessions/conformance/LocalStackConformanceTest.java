package io.durablesessions.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole kit against a local stack, as {@code scripts/conformance} runs it against a deployed
 * stage: real sockets, tokens minted with the local development secret. The stack's timeouts are
 * shorter than a deployment's (liveness 8 s, stop acknowledgement 8 s, presence grace 3 s, a sweep
 * every 200 ms) and the kit is told so, which keeps the cases that wait for one to run out short;
 * long enough that an agent on a busy machine still acknowledges a stop or heartbeats in time. Its
 * message rate is 200/s instead of 500/s, and the kit is told so: the rate case sends at 90 % of it,
 * which a loaded 2-core machine must serve itself for the case to mean anything (at 450/s it could not).
 * {@code -Dconformance.only=area,case-id} runs a subset.
 */
class LocalStackConformanceTest {
    static final StoreSettings FAST =
            new StoreSettings(Duration.ofSeconds(8), Duration.ofSeconds(8), Duration.ofSeconds(3));
    static final Duration SWEEP = Duration.ofMillis(200);
    static final int RATE = 200;
    static EmbeddedStack stack;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start(EmbeddedStack.Config.defaults()
                .withStore(FAST, SWEEP)
                .withLimits(Services.Limits.DEFAULTS.withMessagesPerSecond(RATE)));
    }

    @AfterAll
    static void stop() {
        if (stack != null) stack.close();
    }

    @Test
    void everyCasePassesAgainstTheLocalStack() {
        String only = System.getProperty("conformance.only", "");
        Options options = Options.defaults(stack.webSocketUrl(), stack.httpApiUrl())
                .withPrefix("conf-")
                .withTokenVia("either")
                .withTimeouts(FAST.livenessTimeout(), FAST.ackTimeout(), FAST.presenceGrace(), SWEEP)
                .withMessagesPerSecond(RATE)
                .withOnly(
                        only.isBlank()
                                ? List.of()
                                : Arrays.stream(only.split(","))
                                        .map(String::trim)
                                        .toList());
        TokenSource tokens = new Hs256Tokens(
                AuthConfig.LOCAL_DEV_SECRET,
                AuthConfig.LOCAL_ISSUER,
                AuthConfig.DEFAULT_AUDIENCE,
                options.prefix(),
                options.expiringSeconds());
        Kit kit = new Kit(options, tokens);
        List<Case> cases = CaseLoader.builtIn();
        Report.printHeader(System.out, options, tokens, kit.runTag, cases.size(), (int)
                cases.stream().flatMap(c -> c.covers().stream()).distinct().count());
        long t0 = System.nanoTime();
        List<Kit.Result> results = kit.run(cases, System.out);
        String summary = Report.summary(results, (System.nanoTime() - t0) / 1_000_000);
        System.out.println(summary);

        String failures = results.stream()
                .filter(r -> r.status() != Kit.Status.PASS)
                .map(r -> r.status() + " " + r.c().id() + " " + r.c().covers() + "\n    at " + r.step() + "\n    "
                        + r.message())
                .collect(Collectors.joining("\n"));
        assertThat(failures)
                .as("conformance cases that did not pass against the local stack (%s):%n%s", summary, failures)
                .isEmpty();
        assertThat(results).isNotEmpty();
    }
}
