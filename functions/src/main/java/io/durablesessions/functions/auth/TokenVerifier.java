package io.durablesessions.functions.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.proc.SingleKeyJWSKeySelector;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.ConfigurableJWTProcessor;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import java.net.MalformedURLException;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies a bearer JWT with nimbus-jose-jwt: signature (HS256, or RS256/ES256 against a JWKS or
 * a public key), {@code exp} and {@code nbf} (with a minute of clock skew), issuer, audience, and
 * the claims this service needs ({@code sub}, {@code role}, {@code grants}).
 */
public final class TokenVerifier {
    private final ConfigurableJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

    public TokenVerifier(AuthConfig config) {
        try {
            if (config.hs256Secret() != null) {
                processor.setJWSKeySelector(new JWSVerificationKeySelector<>(
                        JWSAlgorithm.HS256, new ImmutableSecret<>(config.hs256Secret())));
            } else if (config.jwksUrl() != null) {
                JWKSource<SecurityContext> keys = JWKSourceBuilder.create(
                                URI.create(config.jwksUrl()).toURL())
                        .retrying(true)
                        .build();
                processor.setJWSKeySelector(
                        new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), keys));
            } else {
                // one configured key verifies whatever key id the issuer puts in its tokens
                JWK key = publicKey(config.publicKeyPem());
                processor.setJWSKeySelector(
                        key instanceof RSAKey rsa
                                ? new SingleKeyJWSKeySelector<>(JWSAlgorithm.RS256, rsa.toPublicKey())
                                : new SingleKeyJWSKeySelector<>(JWSAlgorithm.ES256, ((ECKey) key).toPublicKey()));
            }
        } catch (MalformedURLException | GeneralSecurityException | JOSEException e) {
            throw new IllegalArgumentException("unusable token key configuration: " + e.getMessage(), e);
        }
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                config.audience(),
                new JWTClaimsSet.Builder().issuer(config.issuer()).build(),
                Set.of("sub", "exp", "role", "grants"));
        // the same skew every later check of this principal uses (Principal.isExpired)
        claims.setMaxClockSkew((int) Principal.CLOCK_SKEW_SECONDS);
        processor.setJWTClaimsSetVerifier(claims);
    }

    /** An RSA or EC public key in PEM (SubjectPublicKeyInfo), read with the JDK alone. */
    static JWK publicKey(String pem) throws GeneralSecurityException {
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        X509EncodedKeySpec spec = new X509EncodedKeySpec(Base64.getDecoder().decode(b64));
        try {
            return new RSAKey.Builder(
                            (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(spec))
                    .build();
        } catch (InvalidKeySpecException notRsa) {
            ECPublicKey ec = (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(spec);
            return new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).build();
        }
    }

    /** Why a token was refused: logged without the token itself. */
    public static final class InvalidToken extends Exception {
        public InvalidToken(String reason) {
            super(reason, null, false, false);
        }
    }

    public Principal verify(String token) throws InvalidToken {
        if (token == null || token.isBlank()) throw new InvalidToken("no token");
        if (token.length() > 8192) throw new InvalidToken("token too long");
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ParseException e) {
            throw new InvalidToken("malformed token");
        } catch (BadJOSEException e) {
            throw new InvalidToken(e.getMessage());
        } catch (JOSEException e) {
            throw new InvalidToken("token could not be verified");
        }
        try {
            String role = claims.getStringClaim("role");
            if (!Set.of("agent", "client", "viewer").contains(role)) throw new InvalidToken("unknown role");
            String subject = claims.getSubject();
            if (!Fields.isValidId(subject)) throw new InvalidToken("subject is not a valid id");
            // the service writes its own events under this id; nobody may write as it
            if (Assembler.SERVICE.equals(subject)) throw new InvalidToken("subject is reserved");
            List<Grant> grants = new ArrayList<>();
            for (Object g : claims.getListClaim("grants")) {
                if (!(g instanceof Map<?, ?> map)) throw new InvalidToken("grants must be objects");
                grants.add(Grant.fromNode(Json.MAPPER.valueToTree(map)));
            }
            long iat = claims.getIssueTime() == null ? 0 : claims.getIssueTime().getTime() / 1000;
            // a token "issued" in the future would outlive a revocation of its subject (revokedAt >= iat)
            if (iat > System.currentTimeMillis() / 1000 + Principal.CLOCK_SKEW_SECONDS) {
                throw new InvalidToken("issued in the future");
            }
            long exp = claims.getExpirationTime() == null
                    ? 0
                    : claims.getExpirationTime().getTime() / 1000;
            return new Principal(subject, role, grants, claims.getJWTID(), iat, exp);
        } catch (ParseException | IllegalArgumentException | ClassCastException e) {
            throw new InvalidToken("malformed claims");
        }
    }
}
