package io.durablesessions.local.apigateway;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;

/**
 * API Gateway's IAM authorization, locally: checks a request's SigV4 signature (service
 * {@code execute-api}) against a table of local access keys and names the caller's ARN, as API
 * Gateway puts it in {@code requestContext.authorizer.iam}. The expected signature is computed by
 * the AWS SDK's own SigV4 signer over exactly the headers the caller signed, with the caller's
 * timestamp; requests more than 5 minutes off are refused, as AWS does.
 */
public final class SigV4Verifier {
    /** A local IAM identity: its secret and the ARN API Gateway would report for it. */
    public record Identity(String secretKey, String arn, String accountId) {}

    /** The verdict: the caller, or API Gateway's refusal (status 403 and its message). */
    public sealed interface Verdict {}

    public record Caller(String accessKey, Identity identity) implements Verdict {}

    public record Refused(String message) implements Verdict {}

    static final Duration MAX_SKEW = Duration.ofMinutes(5);
    private static final Pattern AUTH = Pattern.compile(
            "AWS4-HMAC-SHA256\\s+Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*"
                    + "SignedHeaders=([^,]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Map<String, Identity> byAccessKey;
    private final Clock clock;

    public SigV4Verifier(Map<String, Identity> byAccessKey, Clock clock) {
        this.byAccessKey = Map.copyOf(byAccessKey);
        this.clock = clock;
    }

    /**
     * @param headers the request's headers, names lower-cased, repeated values joined with commas
     * @param uri     the full request URI as the caller addressed it (scheme, host, port, path, query)
     */
    public Verdict verify(String method, URI uri, Map<String, String> headers, byte[] body) {
        String authorization = headers.get("authorization");
        if (authorization == null) return new Refused("Missing Authentication Token");
        Matcher m = AUTH.matcher(authorization.trim());
        if (!m.matches()) return new Refused("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'");
        String accessKey = m.group(1);
        String region = m.group(3);
        if (!"execute-api".equals(m.group(4))) return new Refused("Credential should be scoped to correct service: 'execute-api'");
        Identity identity = byAccessKey.get(accessKey);
        if (identity == null) return new Refused("The security token included in the request is invalid.");
        Instant signedAt;
        try {
            signedAt = AMZ_DATE.parse(headers.getOrDefault("x-amz-date", ""), Instant::from);
        } catch (DateTimeParseException e) {
            return new Refused("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        }
        if (Duration.between(signedAt, clock.instant()).abs().compareTo(MAX_SKEW) > 0) {
            return new Refused("Signature expired: " + headers.get("x-amz-date") + " is now earlier or later than allowed");
        }
        List<String> signed = Arrays.asList(m.group(5).split(";"));
        if (!signed.contains("host")) return new Refused("'Host' must be a signed header");

        SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
        request.clearHeaders();
        for (String name : signed) {
            String value = headers.get(name);
            if (value == null) return new Refused("signed header '" + name + "' is missing");
            request.putHeader(name, value);
        }
        SignedRequest resigned = AwsV4HttpSigner.create().sign(r -> r
                .identity(AwsBasicCredentials.create(accessKey, identity.secretKey()))
                .request(request.build())
                .payload(ContentStreamProvider.fromByteArray(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "execute-api")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, ZoneOffset.UTC)));
        String expected = resigned.request().firstMatchingHeader("Authorization").orElse("");
        Matcher e = AUTH.matcher(expected);
        boolean same = e.matches() && e.group(5).equals(m.group(5))
                && MessageDigest.isEqual(e.group(6).getBytes(StandardCharsets.US_ASCII),
                        m.group(6).getBytes(StandardCharsets.US_ASCII));
        return same ? new Caller(accessKey, identity)
                : new Refused("The request signature we calculated does not match the signature you provided.");
    }
}
