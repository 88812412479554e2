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
    // the environment variable names: read here, written by the CDK constructs and the local stack
    public static final String ENV_ISSUER = "JWT_ISSUER";
    public static final String ENV_AUDIENCE = "JWT_AUDIENCE";
    public static final String ENV_HS256_SECRET = "JWT_HS256_SECRET";
    public static final String ENV_JWKS_URL = "JWT_JWKS_URL";
    public static final String ENV_PUBLIC_KEY_PEM = "JWT_PUBLIC_KEY_PEM";

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
        String secret = env.get(ENV_HS256_SECRET);
        return new AuthConfig(
                env.get(ENV_ISSUER),
                env.getOrDefault(ENV_AUDIENCE, DEFAULT_AUDIENCE),
                secret == null ? null : secret.getBytes(StandardCharsets.UTF_8),
                env.get(ENV_JWKS_URL),
                env.get(ENV_PUBLIC_KEY_PEM));
    }

    /** Whether the environment names a key to verify tokens with (a deployment may have none: IAM only). */
    public static boolean configuredIn(Map<String, String> env) {
        return env.get(ENV_HS256_SECRET) != null
                || env.get(ENV_JWKS_URL) != null
                || env.get(ENV_PUBLIC_KEY_PEM) != null;
    }
}
