package io.durablesessions.functions.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** scripts/token: arguments are checked, and the validity window can be shaped for tests. */
class DevTokenCliTest {
    static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    static final TokenVerifier VERIFIER = new TokenVerifier(AuthConfig.localDevelopment());

    static DevTokenCli.Request parse(String... args) {
        return DevTokenCli.parse(args, NOW);
    }

    static String mint(DevTokenCli.Request r) {
        return DevTokens.mint(
                AuthConfig.localDevelopment(),
                r.subject(),
                r.role(),
                List.of(r.grant()),
                r.notBefore(),
                r.expires(),
                UUID.randomUUID().toString(),
                AuthConfig.DEFAULT_AUDIENCE);
    }

    @Test
    void defaultsAreTwelveHoursAndTheRolesCapabilities() {
        DevTokenCli.Request r = parse("agent-1", "agent", "demo*");
        assertThat(r.expires()).isEqualTo(NOW.plus(Duration.ofHours(12)));
        assertThat(r.grant().toNode().toString())
                .contains("\"prefix\":\"demo\"")
                .contains("agent");
        assertThat(parse("ana", "client", "chat-42", "read,append")
                        .grant()
                        .toNode()
                        .toString())
                .contains("chat-42");
    }

    @Test
    void badArgumentsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> parse("agent-1", "bogus"))
                .hasMessageContaining("ROLE must be agent, client or viewer, not 'bogus'");
        assertThatThrownBy(() -> parse("agent-1")).hasMessageContaining("expected SUBJECT ROLE");
        assertThatThrownBy(() -> parse("a b", "client")).hasMessageContaining("SUBJECT 'a b'");
        assertThatThrownBy(() -> parse("ana", "client", "chat 42")).hasMessageContaining("SESSION 'chat 42'");
        assertThatThrownBy(() -> parse("ana", "client", "c", "read,wrte")).hasMessageContaining("capability 'wrte'");
        assertThatThrownBy(() -> parse("ana", "client", "c", "agent")).hasMessageContaining("needs role agent");
        assertThatThrownBy(() -> parse("v", "viewer", "c", "read,append")).hasMessageContaining("viewer may only read");
        assertThatThrownBy(() -> parse("--ttl", "soon", "a", "agent")).hasMessageContaining("--ttl 'soon'");
        assertThatThrownBy(() -> parse("--ttl", "0s", "a", "agent")).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> parse("--frobnicate", "a", "agent"))
                .hasMessageContaining("unknown option --frobnicate");
        assertThatThrownBy(() -> parse("--expired", "--not-before", "5m", "a", "agent"))
                .hasMessageContaining("exclude");
    }

    @Test
    void expiredNotYetValidAndSoonToExpireTokensAreWhatTheySay() throws Exception {
        Instant now = Instant.now();
        assertThatThrownBy(() ->
                        VERIFIER.verify(mint(DevTokenCli.parse(new String[] {"--expired", "a", "agent"}, now))))
                .isInstanceOf(TokenVerifier.InvalidToken.class);
        assertThatThrownBy(() -> VERIFIER.verify(
                        mint(DevTokenCli.parse(new String[] {"--not-before", "10m", "a", "agent"}, now))))
                .isInstanceOf(TokenVerifier.InvalidToken.class);
        DevTokenCli.Request soon = DevTokenCli.parse(new String[] {"--ttl", "90s", "a", "client", "s1"}, now);
        assertThat(soon.expires()).isEqualTo(now.plusSeconds(90));
        assertThat(VERIFIER.verify(mint(soon)).subject()).isEqualTo("a");
        assertThat(DevTokenCli.duration("--ttl", "PT30M")).isEqualTo(Duration.ofMinutes(30));
        assertThat(DevTokenCli.duration("--ttl", "7d")).isEqualTo(Duration.ofDays(7));
    }
}
