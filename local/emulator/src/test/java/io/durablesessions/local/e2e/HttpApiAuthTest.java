package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.auth.HttpAuthorizer;
import io.durablesessions.functions.auth.IamPrincipals;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.auth.TokenVerifier;
import io.durablesessions.functions.http.HttpApiHandler;
import io.durablesessions.local.EmbeddedStack;
import io.durablesessions.local.LocalIam;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;

/**
 * Who may call the HTTP API, as deployed: API Gateway's Lambda authorizer in front of the JWT
 * routes, SigV4 in front of the IAM routes, and what the function still checks per request.
 */
class HttpApiAuthTest {
    static EmbeddedStack stack;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String EVENT = "{\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"x\"}}]}";

    record Res(int status, String contentType, ObjectNode json) {}

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static Res send(HttpRequest request) {
        try {
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Res(
                    r.statusCode(),
                    r.headers().firstValue("content-type").orElse(""),
                    r.body().isEmpty() ? Json.object() : Json.parseObject(r.body()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static HttpRequest.Builder post(URI uri, String body) {
        return HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    static URI events(URI base, String sessionId) {
        return URI.create(base + "/v1/sessions/" + sessionId + "/events");
    }

    /** A SigV4-signed POST, as an AWS SDK would send it (service execute-api), signed at {@code at}. */
    static HttpRequest signed(URI uri, String body, String accessKey, String secret, Instant at) {
        return signed(uri, body, accessKey, secret, at, LocalIam.REGION);
    }

    static HttpRequest signed(URI uri, String body, String accessKey, String secret, Instant at, String region) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        SdkHttpRequest unsigned = SdkHttpRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(uri)
                .putHeader("Content-Type", "application/json")
                .build();
        var signedRequest = AwsV4HttpSigner.create()
                .sign(r -> r.identity(AwsBasicCredentials.create(accessKey, secret))
                        .request(unsigned)
                        .payload(ContentStreamProvider.fromByteArray(bytes))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "execute-api")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)));
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        signedRequest.request().forEachHeader((name, values) -> {
            if (!name.equalsIgnoreCase("Host")) values.forEach(v -> b.header(name, v)); // the JDK sets Host itself
        });
        return b.build();
    }

    @Test
    void theAuthorizerRefusesAMissingOrInvalidTokenBeforeTheFunctionRuns() {
        String s = "auth-" + UUID.randomUUID();
        // no Authorization header: API Gateway answers 401 itself, without invoking the authorizer
        Res none = send(post(events(stack.httpApiUrl(), s), EVENT).build());
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.json().path("message").asText()).isEqualTo("Unauthorized");
        // a token the authorizer does not accept: 403 from API Gateway
        for (String bad : List.of(
                "Bearer not.a.jwt",
                "Basic dXNlcjpwYXNz",
                "Bearer "
                        + io.durablesessions.functions.auth.DevTokens.mint(
                                AuthConfig.localDevelopment(),
                                "late",
                                "agent",
                                List.of(Grant.all(Capability.APPEND)),
                                Duration.ofSeconds(-120)))) {
            Res r = send(post(events(stack.httpApiUrl(), s), EVENT)
                    .header("Authorization", bad)
                    .build());
            assertThat(r.status()).as(bad.substring(0, 10)).isEqualTo(403);
            assertThat(r.json().path("message").asText()).isEqualTo("Forbidden");
        }
        // a valid token gets through to the function
        Res ok = send(post(events(stack.httpApiUrl(), s), EVENT)
                .header("Authorization", "Bearer " + EmbeddedStack.devToken("agent-auth", "agent"))
                .build());
        assertThat(ok.status()).as("%s", ok.json()).isEqualTo(200);
        assertThat(ok.json().path("firstSeq").asLong()).isEqualTo(1);
    }

    @Test
    void aCachedVerdictDoesNotOutliveItsToken() {
        // API Gateway reuses an authorizer verdict for 5 minutes; the function reads the token's expiry
        // from the principal and refuses once it has passed (with the same minute of skew as $connect)
        Principal expired = new Principal(
                "cached",
                "agent",
                List.of(Grant.all(Capability.APPEND, Capability.READ)),
                "jti-cached",
                Instant.now().getEpochSecond() - 600,
                Instant.now().getEpochSecond() - 61);
        APIGatewayV2HTTPResponse r = handler()
                .handleRequest(
                        event(
                                "/v1/sessions/cache-1/events",
                                Map.of(HttpAuthorizer.CONTEXT_PRINCIPAL, expired.toJson()),
                                null),
                        null);
        assertThat(r.getStatusCode()).isEqualTo(401);
        assertThat(Json.parseObject(r.getBody()).path("detail").asText()).contains("expired");
    }

    @Test
    void withoutAnAuthorizerTheFunctionVerifiesTheBearerTokenItself() {
        // an API deployed without the authorizer (-c authorizer=false) or driven directly: no authorizer context
        APIGatewayV2HTTPEvent valid = event("/v1/sessions/direct-1/events", null, null);
        valid.getHeaders().put("authorization", "Bearer " + EmbeddedStack.devToken("direct", "agent"));
        assertThat(handler().handleRequest(valid, null).getStatusCode()).isEqualTo(200);

        APIGatewayV2HTTPEvent forged = event("/v1/sessions/direct-1/events", null, null);
        forged.getHeaders()
                .put(
                        "authorization",
                        "Bearer " + EmbeddedStack.devToken("direct", "agent").replace('.', '!'));
        APIGatewayV2HTTPResponse refused = handler().handleRequest(forged, null);
        assertThat(refused.getStatusCode()).isEqualTo(401);
        assertThat(refused.getHeaders()).containsEntry("Content-Type", "application/problem+json");

        APIGatewayV2HTTPEvent none = event("/v1/sessions/direct-1/events", null, null);
        assertThat(handler().handleRequest(none, null).getStatusCode()).isEqualTo(401);

        // a deployment with no token key at all (IAM only, or the authorizer off) accepts no bearer token
        HttpApiHandler keyless = new HttpApiHandler(stack.services(), null, IamPrincipals.NONE);
        APIGatewayV2HTTPEvent again = event("/v1/sessions/direct-1/events", null, null);
        again.getHeaders().put("authorization", "Bearer " + EmbeddedStack.devToken("direct", "agent"));
        APIGatewayV2HTTPResponse r = keyless.handleRequest(again, null);
        assertThat(r.getStatusCode()).isEqualTo(401);
        assertThat(Json.parseObject(r.getBody()).path("detail").asText()).contains("verifies no bearer tokens");
    }

    @Test
    void anIamCallerActsUnderTheSubjectAndGrantsTheOperatorGaveItsRole() {
        String s = "iam-" + UUID.randomUUID();
        Res r = send(signed(
                events(stack.iamHttpApiUrl(), s),
                EVENT,
                LocalIam.ACCESS_KEY_ID,
                LocalIam.SECRET_ACCESS_KEY,
                Instant.now()));
        assertThat(r.status()).as("%s", r.json()).isEqualTo(200);
        assertThat(r.json().path("firstSeq").asLong()).isEqualTo(1);
        // the event is attributed to the subject mapped from the role, never to a name the caller chose
        Res log = send(HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + "/v1/sessions/" + s + "/events"))
                .header("Authorization", "Bearer " + EmbeddedStack.devToken("reader", "client"))
                .GET()
                .build());
        assertThat(log.json().path("events").get(0).path("agentId").asText()).isEqualTo("local-agent");
    }

    @Test
    @SuppressWarnings("deprecation")
    void aRequestSignedWithoutThePayloadHashHeaderAsCurlAndBotocoreSignIsAccepted() throws Exception {
        // the SDK's older signer signs host, x-amz-date and content-type only, like curl --aws-sigv4 and botocore
        String s = "iam-legacy-" + UUID.randomUUID();
        URI uri = URI.create(events(stack.iamHttpApiUrl(), s) + "?trace=a%20b&x=1");
        byte[] bytes = EVENT.getBytes(StandardCharsets.UTF_8);
        var unsigned = software.amazon.awssdk.http.SdkHttpFullRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(uri)
                .putHeader("Content-Type", "application/json")
                .contentStreamProvider(() -> new ByteArrayInputStream(bytes))
                .build();
        var signed = software.amazon.awssdk.auth.signer.Aws4Signer.create()
                .sign(
                        unsigned,
                        software.amazon.awssdk.auth.signer.params.Aws4SignerParams.builder()
                                .awsCredentials(
                                        AwsBasicCredentials.create(LocalIam.ACCESS_KEY_ID, LocalIam.SECRET_ACCESS_KEY))
                                .signingName("execute-api")
                                .signingRegion(software.amazon.awssdk.regions.Region.US_EAST_1)
                                .build());
        assertThat(signed.firstMatchingHeader("Authorization").orElseThrow()).doesNotContain("x-amz-content-sha256");
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        signed.forEachHeader((name, values) -> {
            if (!name.equalsIgnoreCase("Host")) values.forEach(v -> b.header(name, v));
        });
        Res r = send(b.build());
        assertThat(r.status()).as("%s", r.json()).isEqualTo(200);
    }

    @Test
    void anUnsignedOrWronglySignedIamRequestIsRefusedAndWritesNothing() {
        String s = "iam-bad-" + UUID.randomUUID();
        URI uri = events(stack.iamHttpApiUrl(), s);
        Instant now = Instant.now();
        // no signature (a bearer token does not count here)
        Res unsigned = send(post(uri, EVENT)
                .header("Authorization", "Bearer " + EmbeddedStack.devToken("a", "agent"))
                .build());
        assertThat(unsigned.status()).isEqualTo(403);
        // wrong secret
        Res wrongSecret = send(signed(uri, EVENT, LocalIam.ACCESS_KEY_ID, "not-the-secret", now));
        assertThat(wrongSecret.status()).isEqualTo(403);
        assertThat(wrongSecret.json().path("message").asText()).contains("signature");
        // unknown access key
        Res unknown = send(signed(uri, EVENT, "AKIAUNKNOWN000000000", LocalIam.SECRET_ACCESS_KEY, now));
        assertThat(unknown.status()).isEqualTo(403);
        // signed 10 minutes ago (a replayed request)
        Res stale = send(signed(uri, EVENT, LocalIam.ACCESS_KEY_ID, LocalIam.SECRET_ACCESS_KEY, now.minusSeconds(600)));
        assertThat(stale.status()).isEqualTo(403);
        assertThat(stale.json().path("message").asText()).contains("expired");
        // body changed after signing
        HttpRequest good = signed(uri, EVENT, LocalIam.ACCESS_KEY_ID, LocalIam.SECRET_ACCESS_KEY, now);
        HttpRequest.Builder tampered =
                HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(EVENT.replace("\"x\"", "\"y\"")));
        good.headers().map().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("content-length") && !k.equalsIgnoreCase("host"))
                v.forEach(x -> tampered.header(k, x));
        });
        assertThat(send(tampered.build()).status()).isEqualTo(403);

        Res log = send(HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + "/v1/sessions/" + s + "/events"))
                .header("Authorization", "Bearer " + EmbeddedStack.devToken("reader", "client"))
                .GET()
                .build());
        assertThat(log.json().path("events").size()).isZero();
    }

    @Test
    void aSignatureForAnotherRegionOrAnotherDayOrWithoutASignedDateIsRefused() {
        URI uri = events(stack.iamHttpApiUrl(), "iam-scope-" + UUID.randomUUID());
        Instant now = Instant.now();
        Res otherRegion =
                send(signed(uri, EVENT, LocalIam.ACCESS_KEY_ID, LocalIam.SECRET_ACCESS_KEY, now, "eu-west-1"));
        assertThat(otherRegion.status()).isEqualTo(403);
        assertThat(otherRegion.json().path("message").asText()).contains("region");
        // a credential scoped to another day than the signed timestamp
        HttpRequest good = signed(uri, EVENT, LocalIam.ACCESS_KEY_ID, LocalIam.SECRET_ACCESS_KEY, now);
        String auth = good.headers().firstValue("Authorization").orElseThrow();
        String day = auth.replaceAll(".*Credential=[^/]+/(\\d{8})/.*", "$1");
        String otherDay = day.equals("20200101") ? "20200102" : "20200101";
        Res shifted = send(copy(good, "Authorization", auth.replace("/" + day + "/", "/" + otherDay + "/")));
        assertThat(shifted.status()).isEqualTo(403);
        assertThat(shifted.json().path("message").asText()).contains("Credential scope");
        // a signature that does not cover the timestamp it is checked against
        String hostOnly = auth.replaceAll("SignedHeaders=[^,]+", "SignedHeaders=host");
        Res unsignedDate = send(copy(good, "Authorization", hostOnly));
        assertThat(unsignedDate.status()).isEqualTo(403);
        assertThat(unsignedDate.json().path("message").asText()).contains("X-Amz-Date");
    }

    /** The same request with one header replaced. */
    static HttpRequest copy(HttpRequest r, String header, String value) {
        HttpRequest.Builder b = HttpRequest.newBuilder(r.uri()).POST(HttpRequest.BodyPublishers.ofString(EVENT));
        r.headers().map().forEach((k, v) -> {
            if (k.equalsIgnoreCase("content-length") || k.equalsIgnoreCase("host")) return;
            if (k.equalsIgnoreCase(header)) b.header(k, value);
            else v.forEach(x -> b.header(k, x));
        });
        return b.build();
    }

    @Test
    void anIamRoleTheOperatorDidNotMapGetsNothing() {
        APIGatewayV2HTTPResponse r = handler()
                .handleRequest(
                        event(
                                "/v1/sessions/iam-unmapped/events",
                                null,
                                "arn:aws:sts::000000000000:assumed-role/someone-else/s1"),
                        null);
        assertThat(r.getStatusCode()).isEqualTo(403);
        assertThat(Json.parseObject(r.getBody()).path("code").asText()).isEqualTo("FORBIDDEN");
    }

    @Test
    void assumedRoleCallersMatchTheirRoleEntry() {
        IamPrincipals table = IamPrincipals.parse(LocalIam.PRINCIPALS_JSON);
        assertThat(table.principalOf("arn:aws:sts::000000000000:assumed-role/local-agent/any-session")
                        .subject())
                .isEqualTo("local-agent");
        assertThat(table.principalOf(LocalIam.ROLE_ARN).subject()).isEqualTo("local-agent");
        assertThat(table.principalOf("arn:aws:sts::111111111111:assumed-role/local-agent/s"))
                .isNull(); // other account
        assertThat(table.principalOf("arn:aws:iam::000000000000:user/local-agent"))
                .isNull();
    }

    static HttpApiHandler handler() {
        return new HttpApiHandler(
                stack.services(),
                new TokenVerifier(AuthConfig.localDevelopment()),
                IamPrincipals.parse(LocalIam.PRINCIPALS_JSON));
    }

    /** A payload-2.0 event for POST {@code path} as API Gateway builds it after an authorizer (lambda or IAM). */
    static APIGatewayV2HTTPEvent event(String path, Map<String, Object> lambdaContext, String iamArn) {
        var e = new APIGatewayV2HTTPEvent();
        e.setVersion("2.0");
        e.setRouteKey("POST /v1/sessions/{sessionId}/events");
        e.setRawPath(path);
        e.setPathParameters(Map.of("sessionId", path.split("/")[3]));
        e.setHeaders(new HashMap<>(Map.of("content-type", "application/json")));
        e.setBody(EVENT);
        var ctx = new APIGatewayV2HTTPEvent.RequestContext();
        var http = new APIGatewayV2HTTPEvent.RequestContext.Http();
        http.setMethod("POST");
        http.setPath(path);
        ctx.setHttp(http);
        var authorizer = new APIGatewayV2HTTPEvent.RequestContext.Authorizer();
        if (lambdaContext != null) authorizer.setLambda(new HashMap<>(lambdaContext));
        if (iamArn != null) {
            var iam = new APIGatewayV2HTTPEvent.RequestContext.IAM();
            iam.setUserArn(iamArn);
            authorizer.setIam(iam);
        }
        ctx.setAuthorizer(authorizer);
        e.setRequestContext(ctx);
        return e;
    }
}
