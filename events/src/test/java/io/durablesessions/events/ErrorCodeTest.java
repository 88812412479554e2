package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.ErrorCode.Recovery;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {
    @Test
    void whatAClientDoesAboutEachRefusal() {
        assertThat(codes(Recovery.RETRY))
                .containsExactlyInAnyOrder(ErrorCode.CONTENTION, ErrorCode.RATE_LIMITED, ErrorCode.INTERNAL);
        assertThat(codes(Recovery.REFRESH_TOKEN)).containsExactly(ErrorCode.UNAUTHORIZED);
        assertThat(codes(Recovery.FENCED))
                .containsExactlyInAnyOrder(ErrorCode.STALE_EPOCH, ErrorCode.RUN_FENCED, ErrorCode.MESSAGE_FENCED);
        for (ErrorCode c : ErrorCode.values())
            assertThat(c.retryable()).as("%s", c).isEqualTo(c.recovery() == Recovery.RETRY);
    }

    @Test
    void wireNamesOutsideTheProtocolAreNoCode() {
        assertThat(ErrorCode.fromWire("RUN_FENCED")).isEqualTo(ErrorCode.RUN_FENCED);
        assertThat(ErrorCode.fromWire("HTTP_418")).isNull();
        assertThat(ErrorCode.fromWire(null)).isNull();
    }

    private static ErrorCode[] codes(Recovery r) {
        return Arrays.stream(ErrorCode.values()).filter(c -> c.recovery() == r).toArray(ErrorCode[]::new);
    }
}
