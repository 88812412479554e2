package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints HS256 JWTs with the deployment's shared secret (the local stack, development stages): any
 * subject, and every wrong variant (expired, not yet valid, issued in the future, malformed grant,
 * wrong audience or issuer, bad signature, expiring on a live socket). Signed with the JDK's HMAC:
 * a JWT is three base64url parts, so no JOSE library is needed for the signing side.
 */
final class Hs256Tokens implements TokenSource {
    /** The service's clock skew (docs/security.md: one minute); an expiring token leans on it. */
    static final long CLOCK_SKEW_SECONDS = 60;

    private final byte[] secret;
    private final String issuer;
    private final String audience;
    private final String prefix;
    private final long expiringAfterSeconds;

    /** @param expiringAfterSeconds how long an {@link Variant#EXPIRING} token stays valid after it is minted */
    Hs256Tokens(String secret, String issuer, String audience, String prefix, long expiringAfterSeconds) {
        if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
            throw new IllegalArgumentException("an HS256 secret has at least 32 bytes");
        }
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.issuer = issuer;
        this.audience = audience;
        this.prefix = prefix;
        this.expiringAfterSeconds = expiringAfterSeconds;
    }

    @Override
    public String describe() {
        return "HS256 minted (issuer " + issuer + ", audience " + audience + ")";
    }

    @Override
    public boolean mintsSubjects() {
        return true;
    }

    @Override
    public boolean mintsSpecial() {
        return true;
    }

    @Override
    public boolean cheap() {
        return true;
    }

    @Override
    public String token(Principals.Spec spec, String subject, Variant variant) {
        long now = System.currentTimeMillis() / 1000;
        ObjectNode claims = Jsons.object();
        claims.put("iss", variant == Variant.WRONG_ISSUER ? issuer + "-not" : issuer);
        claims.put("aud", variant == Variant.WRONG_AUDIENCE ? audience + "-not" : audience);
        claims.put("sub", subject);
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("role", spec.role());
        long iat = now;
        long nbf = now;
        long exp = now + 3600;
        switch (variant) {
            case EXPIRED -> {
                iat = now - 600;
                nbf = now - 600;
                exp = now - 300;
            }
            case NOT_YET_VALID -> {
                nbf = now + 600;
                exp = now + 3600;
            }
            case FUTURE_IAT -> {
                iat = now + 3600;
                exp = now + 7200;
            }
            case EXPIRING -> {
                iat = now - 120;
                nbf = now - 120;
                exp = now - CLOCK_SKEW_SECONDS + expiringAfterSeconds;
            }
            default -> {}
        }
        claims.put("iat", iat);
        if (variant != Variant.FUTURE_IAT) claims.put("nbf", nbf);
        claims.put("exp", exp);
        ArrayNode grants = claims.putArray("grants");
        ObjectNode g = grants.addObject();
        if (variant == Variant.MALFORMED_GRANT) {
            g.putObject("prefix"); // an object where an id belongs: must be refused, never read as "everything"
        } else {
            switch (spec.scope()) {
                case PREFIX -> g.put("prefix", prefix);
                case ELSEWHERE -> g.put("prefix", Principals.elsewhere(prefix));
                case ALL -> g.put("all", true);
            }
        }
        ArrayNode caps = g.putArray("caps");
        spec.caps().forEach(caps::add);
        byte[] key = variant == Variant.BAD_SIGNATURE
                ? ("another-" + new String(secret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)
                : secret;
        return sign(claims, key);
    }

    private static String sign(ObjectNode claims, byte[] key) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(Jsons.write(claims).getBytes(StandardCharsets.UTF_8));
        String input = header + "." + payload;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
