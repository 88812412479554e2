package io.durablesessions.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Development tokens of the local stack's issuer, minted without the functions' classes (they are
 * Java 21 code; the client tests also run on 17). The constants are those of
 * {@code AuthConfig.localDevelopment()}; a token the local stack refuses fails every client test.
 */
public final class TestTokens {
    static final String ISSUER = "durable-sessions-local";
    static final String AUDIENCE = "durable-sessions";
    static final byte[] SECRET =
            "local-dev-secret-for-durable-sessions-only-0123456789".getBytes(StandardCharsets.UTF_8);

    private TestTokens() {}

    /**
     * Full rights of {@code role} on every session, for 12 hours: {@code agent} may read, append, write
     * as an agent and control; {@code viewer} may read; anything else (a {@code client}) may read,
     * append and control.
     */
    public static String devToken(String subject, String role) {
        List<String> caps = switch (role) {
            case "agent" -> List.of("read", "append", "control", "agent");
            case "viewer" -> List.of("read");
            default -> List.of("read", "append", "control");
        };
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .subject(subject)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofHours(12))))
                .jwtID(UUID.randomUUID().toString())
                .claim("role", role)
                .claim("grants", List.of(Map.of("all", true, "caps", caps)))
                .build();
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
            jwt.sign(new MACSigner(SECRET));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a development token", e);
        }
    }
}
