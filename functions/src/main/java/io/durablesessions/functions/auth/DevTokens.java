package io.durablesessions.functions.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.durablesessions.events.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Mints HS256 tokens for local development and tests ({@code scripts/token}). Production tokens
 * come from your identity provider; this class is never on a production path.
 */
public final class DevTokens {
    private DevTokens() {}

    public static String mint(AuthConfig config, String subject, String role, List<Grant> grants, Duration ttl) {
        return mint(
                config,
                subject,
                role,
                grants,
                Instant.now(),
                Instant.now().plus(ttl),
                UUID.randomUUID().toString(),
                config.audience());
    }

    public static String mint(
            AuthConfig config,
            String subject,
            String role,
            List<Grant> grants,
            Instant notBefore,
            Instant expires,
            String tokenId,
            String audience) {
        if (config.hs256Secret() == null) throw new IllegalStateException("dev tokens need an HS256 secret");
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(config.issuer())
                .audience(audience)
                .subject(subject)
                .issueTime(Date.from(Instant.now()))
                .notBeforeTime(Date.from(notBefore))
                .expirationTime(Date.from(expires))
                .jwtID(tokenId)
                .claim("role", role)
                .claim(
                        "grants",
                        grants.stream()
                                .map(g -> Json.MAPPER.convertValue(g.toNode(), Map.class))
                                .toList())
                .build();
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
            jwt.sign(new MACSigner(config.hs256Secret()));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a dev token", e);
        }
    }
}
