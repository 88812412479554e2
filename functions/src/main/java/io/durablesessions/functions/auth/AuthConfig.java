package io.durablesessions.functions.auth;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Where tokens come from: the issuer and audience every token must name, and the key to verify
 * them with — a shared HS256 secret (local development), or an RS256/ES256 public key given as
 * a JWKS URL or a PEM (production, e.g. Cognito, Auth0, your own issuer).
 */
public record AuthConfig(String issuer, String audience, byte[] hs256Secret, String jwksUrl, String publicKeyPem) {
    public static final String LOCAL_ISSUER = "durable-sessions-local";
    public static final String DEFAULT_AUDIENCE = "durable-sessions";
    /** The local stack's development secret; never used unless configured. */
    public static final String LOCAL_DEV_SECRET = "local-dev-secret-for-durable-sessions-only-0123456789";

    public AuthConfig {
        int keys = (hs256Secret != null ? 1 : 0) + (jwksUrl != null ? 1 : 0) + (publicKeyPem != null ? 1 : 0);
        if (keys != 1)
            throw new IllegalArgumentException("configure exactly one of HS256 secret, JWKS URL, public key");
        if (hs256Secret != null && hs256Secret.length < 32) {
            throw new IllegalArgumentException("an HS256 secret must be at least 256 bits");
        }
        if (issuer == null || audience == null) throw new IllegalArgumentException("issuer and audience are required");
    }

    public static AuthConfig localDevelopment() {
        return new AuthConfig(
                LOCAL_ISSUER, DEFAULT_AUDIENCE, LOCAL_DEV_SECRET.getBytes(StandardCharsets.UTF_8), null, null);
    }

    /** JWT_ISSUER, JWT_AUDIENCE and one of JWT_HS256_SECRET, JWT_JWKS_URL, JWT_PUBLIC_KEY_PEM. */
    public static AuthConfig fromEnvironment(Map<String, String> env) {
        String secret = env.get("JWT_HS256_SECRET");
        return new AuthConfig(
                env.get("JWT_ISSUER"),
                env.getOrDefault("JWT_AUDIENCE", DEFAULT_AUDIENCE),
                secret == null ? null : secret.getBytes(StandardCharsets.UTF_8),
                env.get("JWT_JWKS_URL"),
                env.get("JWT_PUBLIC_KEY_PEM"));
    }
}
