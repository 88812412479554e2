package io.durablesessions.functions.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.ProtocolException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Authorization.require: the one check every surface (WebSocket routes, HTTP API) makes before acting on a session. */
class AuthorizationTest {
    static Principal principal(String role, Grant... grants) {
        return new Principal("sub-1", role, List.of(grants), "jti-1", 0, 0);
    }

    @Test
    void aGrantOnTheSessionWithTheCapabilityIsEnough() {
        Principal client = principal("client", Grant.session("s-1", Capability.READ, Capability.APPEND));

        assertThatCode(() -> Authorization.require(client, Capability.APPEND, "s-1"))
                .doesNotThrowAnyException();
    }

    @Test
    void anotherSessionOrAnotherCapabilityIsForbiddenAndNamesTheCapability() {
        Principal client = principal("client", Grant.prefix("team-a-", Capability.READ, Capability.APPEND));

        assertThatCode(() -> Authorization.require(client, Capability.READ, "team-a-1"))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> Authorization.require(client, Capability.READ, "team-b-1"))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN);
                    assertThat(e.details().path("capability").asText()).isEqualTo("read");
                });
        assertThatThrownBy(() -> Authorization.require(client, Capability.CONTROL, "team-a-1"))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("control");
    }

    @Test
    void onlyAnAgentWritesAsAnAgentAndAViewerOnlyReads() {
        Grant everything = Grant.all(Capability.READ, Capability.APPEND, Capability.CONTROL, Capability.AGENT);

        assertThatCode(() -> Authorization.require(principal("agent", everything), Capability.AGENT, "s-1"))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> Authorization.require(principal("client", everything), Capability.AGENT, "s-1"))
                .isInstanceOf(ProtocolException.class);
        assertThatCode(() -> Authorization.require(principal("viewer", everything), Capability.READ, "s-1"))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> Authorization.require(principal("viewer", everything), Capability.APPEND, "s-1"))
                .isInstanceOf(ProtocolException.class);
    }
}
