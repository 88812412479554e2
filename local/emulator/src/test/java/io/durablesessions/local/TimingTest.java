package io.durablesessions.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import io.durablesessions.local.EmbeddedStack.Timing;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The local stack's timing knobs: the default stays fast, DS_AWS_TIMING selects AWS's cadence. */
class TimingTest {

    @Test
    void theDefaultIsLocalWhateverTheEnvironment() {
        assertThat(EmbeddedStack.Config.defaults().timing()).isEqualTo(Timing.local());
        assertThat(EmbeddedStack.Config.defaults().streamPollInterval()).isEqualTo(Duration.ofMillis(20));
        assertThat(Timing.local().fanoutInvokeOverhead()).isZero();
        assertThat(Timing.local().routeInvokeOverhead()).isZero();
    }

    @Test
    void environmentSelectsAwsLikeTimingAndOverridesSingleFigures() {
        assertThat(Timing.fromEnvironment(Map.of())).isEqualTo(Timing.local());
        assertThat(Timing.fromEnvironment(Map.of("DS_AWS_TIMING", "0"))).isEqualTo(Timing.local());
        Timing aws = Timing.fromEnvironment(Map.of("DS_AWS_TIMING", "1"));
        assertThat(aws).isEqualTo(Timing.awsLike());
        assertThat(aws.streamPollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(aws.isLocal()).isFalse();

        Timing custom = Timing.fromEnvironment(Map.of(
                "DS_AWS_TIMING",
                "1",
                "DS_FANOUT_INVOKE_OVERHEAD_MS",
                "30",
                "DS_ROUTE_INVOKE_OVERHEAD_MS",
                "0",
                "DS_STREAM_POLL_MS",
                "100"));
        assertThat(custom).isEqualTo(new Timing(Duration.ofMillis(100), Duration.ofMillis(30), Duration.ZERO));
    }

    @Test
    void badValuesAreRefusedNamingTheVariable() {
        assertThatThrownBy(() -> Timing.fromEnvironment(Map.of("DS_AWS_TIMING", "yes")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DS_AWS_TIMING");
        assertThatThrownBy(() -> Timing.fromEnvironment(Map.of("DS_FANOUT_INVOKE_OVERHEAD_MS", "-5")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DS_FANOUT_INVOKE_OVERHEAD_MS");
        assertThatThrownBy(() -> Timing.fromEnvironment(Map.of("DS_STREAM_POLL_MS", "0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("streamPollInterval");
        assertThatThrownBy(() -> Timing.fromEnvironment(Map.of("DS_ROUTE_INVOKE_OVERHEAD_MS", "1.5")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DS_ROUTE_INVOKE_OVERHEAD_MS");
    }

    @Test
    void anInvokeOverheadRunsBeforeTheHandler() {
        RequestHandler<String, Long> enteredAt = (in, ctx) -> System.nanoTime();
        assertThat(EmbeddedStack.withOverhead(enteredAt, Duration.ZERO)).isSameAs(enteredAt);

        RequestHandler<String, Long> slowed = EmbeddedStack.withOverhead(enteredAt, Duration.ofMillis(200));
        long called = System.nanoTime();
        long entered = slowed.handleRequest("x", null);
        // a lower bound only: a busy machine makes it later, never earlier
        assertThat(Duration.ofNanos(entered - called)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }
}
