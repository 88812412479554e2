package io.durablesessions.functions.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.APIGatewayCustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.IamPolicyResponseV1;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The token matrix: only a well-signed, current token for this issuer and audience gets in. */
class TokenVerifierTest {
    static final AuthConfig LOCAL = AuthConfig.localDevelopment();
    static final TokenVerifier VERIFIER = new TokenVerifier(LOCAL);
    static final List<Grant> GRANTS = List.of(Grant.prefix("tenant-a:", Capability.READ, Capability.APPEND));

    static String token(Instant nbf, Instant exp, String audience) {
        return DevTokens.mint(LOCAL, "user-1", "client", GRANTS, nbf, exp, "jti-1", audience);
    }

    @Test
    void aValidTokenYieldsItsPrincipalAndGrants() throws Exception {
        Principal p = VERIFIER.verify(DevTokens.mint(LOCAL, "user-1", "client", GRANTS, Duration.ofMinutes(5)));
        assertThat(p.subject()).isEqualTo("user-1");
        assertThat(p.role()).isEqualTo("client");
        assertThat(p.can(Capability.READ, "tenant-a:chat-1")).isTrue();
        assertThat(p.can(Capability.READ, "tenant-b:chat-1")).isFalse();
        assertThat(p.can(Capability.CONTROL, "tenant-a:chat-1")).isFalse();
        assertThat(p.can(Capability.AGENT, "tenant-a:chat-1")).isFalse();
        assertThat(Principal.fromJson(p.toJson())).isEqualTo(p);
    }

    @Test
    void noTokenBadSignatureExpiredNotYetValidWrongAudienceOrIssuerAreRefused() {
        Instant now = Instant.now();
        String good = token(now.minusSeconds(5), now.plusSeconds(300), LOCAL.audience());
        String tampered =
                good.substring(0, good.lastIndexOf('.') + 1) + "AAAA" + good.substring(good.lastIndexOf('.') + 5);
        AuthConfig otherSecret = new AuthConfig(
                LOCAL.issuer(),
                LOCAL.audience(),
                "another-secret-of-at-least-32-bytes-xxxxxxxx".getBytes(StandardCharsets.UTF_8),
                null,
                null);
        AuthConfig otherIssuer = new AuthConfig("someone-else", LOCAL.audience(), LOCAL.hs256Secret(), null, null);
        List<String> refused = List.of(
                "",
                "not.a.jwt",
                tampered,
                DevTokens.mint(otherSecret, "user-1", "client", GRANTS, Duration.ofMinutes(5)),
                DevTokens.mint(otherIssuer, "user-1", "client", GRANTS, Duration.ofMinutes(5)),
                token(now.minusSeconds(600), now.minusSeconds(120), LOCAL.audience()),
                token(now.plusSeconds(600), now.plusSeconds(1200), LOCAL.audience()),
                token(now.minusSeconds(5), now.plusSeconds(300), "another-service"),
                DevTokens.mint(LOCAL, "user 1", "client", GRANTS, Duration.ofMinutes(5)),
                DevTokens.mint(LOCAL, "user-1", "admin", GRANTS, Duration.ofMinutes(5)));
        for (String t : refused) {
            assertThatThrownBy(() -> VERIFIER.verify(t)).as(t).isInstanceOf(TokenVerifier.InvalidToken.class);
        }
        assertThatThrownBy(() -> VERIFIER.verify(null)).isInstanceOf(TokenVerifier.InvalidToken.class);
    }

    @Test
    void productionTokensAreVerifiedWithAPublicKey() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        AuthConfig prod = new AuthConfig(
                "https://issuer.example",
                "durable-sessions",
                null,
                null,
                key.toPublicJWK().toECPublicKey() == null ? null : toPem(key));
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(),
                new JWTClaimsSet.Builder()
                        .issuer("https://issuer.example")
                        .audience("durable-sessions")
                        .subject("agent-7")
                        .expirationTime(Date.from(Instant.now().plusSeconds(60)))
                        .claim("role", "agent")
                        .claim("grants", List.of(Map.of("session", "s-1", "caps", List.of("read", "append", "agent"))))
                        .build());
        jwt.sign(new ECDSASigner(key));
        Principal p = new TokenVerifier(prod).verify(jwt.serialize());
        assertThat(p.can(Capability.AGENT, "s-1")).isTrue();
        assertThat(p.can(Capability.AGENT, "s-2")).isFalse();
        // an HS256 token signed with anything is not accepted where a public key is configured
        assertThatThrownBy(() -> new TokenVerifier(prod)
                        .verify(DevTokens.mint(LOCAL, "x", "agent", GRANTS, Duration.ofMinutes(1))))
                .isInstanceOf(TokenVerifier.InvalidToken.class);
    }

    static String toPem(ECKey key) throws Exception {
        byte[] der = key.toECPublicKey().getEncoded();
        return "-----BEGIN PUBLIC KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END PUBLIC KEY-----\n";
    }

    @Test
    void theAuthorizerReadsTheTokenFromTheQueryOrTheSubprotocolAndDeniesOtherwise() {
        ConnectAuthorizer authorizer = new ConnectAuthorizer(VERIFIER, ConnectAuthorizer.TokenSource.EITHER);
        String t = DevTokens.mint(LOCAL, "user-1", "client", GRANTS, Duration.ofMinutes(5));
        IamPolicyResponseV1 byQuery = authorizer.handleRequest(event(Map.of("token", t), Map.of()), null);
        IamPolicyResponseV1 byProtocol = authorizer.handleRequest(
                event(Map.of(), Map.of("Sec-WebSocket-Protocol", "durable-sessions, token." + t)), null);
        IamPolicyResponseV1 none = authorizer.handleRequest(event(Map.of(), Map.of()), null);
        assertThat(effect(byQuery)).isEqualTo("Allow");
        assertThat(effect(byProtocol)).isEqualTo("Allow");
        assertThat(Principal.fromJson((String) byQuery.getContext().get("principal"))
                        .subject())
                .isEqualTo("user-1");
        assertThat(effect(none)).isEqualTo("Deny");
        assertThat(none.getContext()).isNullOrEmpty();
    }

    @Test
    void aDeploymentReadsTheTokenOnlyFromItsConfiguredSource() {
        String t = DevTokens.mint(LOCAL, "user-1", "client", GRANTS, Duration.ofMinutes(5));
        var byQuery = event(Map.of("token", t), Map.of());
        var byProtocol = event(Map.of(), Map.of("Sec-WebSocket-Protocol", "durable-sessions, token." + t));
        ConnectAuthorizer protocolOnly = new ConnectAuthorizer(VERIFIER, ConnectAuthorizer.TokenSource.PROTOCOL);
        ConnectAuthorizer queryOnly = new ConnectAuthorizer(VERIFIER, ConnectAuthorizer.TokenSource.QUERYSTRING);
        assertThat(effect(protocolOnly.handleRequest(byProtocol, null))).isEqualTo("Allow");
        assertThat(effect(protocolOnly.handleRequest(byQuery, null))).isEqualTo("Deny");
        assertThat(effect(queryOnly.handleRequest(byQuery, null))).isEqualTo("Allow");
        assertThat(effect(queryOnly.handleRequest(byProtocol, null))).isEqualTo("Deny");
        assertThat(ConnectAuthorizer.TokenSource.fromEnvironment(Map.of("AUTHORIZER_IDENTITY", "protocol")))
                .isEqualTo(ConnectAuthorizer.TokenSource.PROTOCOL);
        assertThatThrownBy(() -> ConnectAuthorizer.TokenSource.fromEnvironment(Map.of("AUTHORIZER_IDENTITY", "cookie")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTokenIssuedInTheFutureIsRefusedSoItCannotOutliveASubjectRevocation() throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(LOCAL.issuer())
                .audience(LOCAL.audience())
                .subject("u")
                .issueTime(Date.from(now.plusSeconds(3600)))
                .expirationTime(Date.from(now.plusSeconds(7200)))
                .claim("role", "client")
                .claim("grants", List.of(Map.of("prefix", "t:", "caps", List.of("read"))))
                .build();
        assertThatThrownBy(() -> VERIFIER.verify(hs256(claims)))
                .isInstanceOf(TokenVerifier.InvalidToken.class)
                .hasMessageContaining("future");
    }

    @Test
    void grantsThatAreNotWellFormedAreRefusedInsteadOfWidenedIntoWildcards() throws Exception {
        List<Object> malformed = List.of(
                Map.of("prefix", "", "caps", List.of("read")),
                Map.of("session", "", "caps", List.of("read")),
                Map.of("prefix", 7, "caps", List.of("read")),
                Map.of("prefix", Map.of(), "caps", List.of("read")),
                Map.of("session", List.of("a"), "caps", List.of("read")),
                Map.of("caps", List.of("read")),
                Map.of("all", false, "caps", List.of("read")),
                Map.of("all", "yes", "caps", List.of("read")),
                Map.of("prefix", "t:", "all", true, "caps", List.of("read")),
                Map.of("prefix", "t:", "caps", List.of("root")),
                Map.of("prefix", "t:", "caps", "read"),
                Map.of("prefix", "t:", "caps", List.of("read"), "extra", 1),
                Map.of("prefix", "bad id!", "caps", List.of("read")));
        for (Object g : malformed) {
            JWTClaimsSet claims = new JWTClaimsSet.Builder()
                    .issuer(LOCAL.issuer())
                    .audience(LOCAL.audience())
                    .subject("u")
                    .expirationTime(Date.from(Instant.now().plusSeconds(300)))
                    .claim("role", "client")
                    .claim("grants", List.of(g))
                    .build();
            assertThatThrownBy(() -> VERIFIER.verify(hs256(claims)))
                    .as("%s", g)
                    .isInstanceOf(TokenVerifier.InvalidToken.class);
        }
        JWTClaimsSet all = new JWTClaimsSet.Builder()
                .issuer(LOCAL.issuer())
                .audience(LOCAL.audience())
                .subject("op")
                .expirationTime(Date.from(Instant.now().plusSeconds(300)))
                .claim("role", "client")
                .claim("grants", List.of(Map.of("all", true, "caps", List.of("read"))))
                .build();
        assertThat(VERIFIER.verify(hs256(all)).can(Capability.READ, "anything")).isTrue();
    }

    static String hs256(JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(LOCAL.hs256Secret()));
        return jwt.serialize();
    }

    static APIGatewayCustomAuthorizerEvent event(Map<String, String> query, Map<String, String> headers) {
        return APIGatewayCustomAuthorizerEvent.builder()
                .withType("REQUEST")
                .withMethodArn("arn:aws:execute-api:us-east-1:1:api/prod/$connect")
                .withQueryStringParameters(query)
                .withHeaders(headers)
                .build();
    }

    @SuppressWarnings("unchecked")
    static String effect(IamPolicyResponseV1 r) {
        var st = (Map<String, Object>[]) r.getPolicyDocument().get("Statement");
        return (String) st[0].get("Effect");
    }
}
