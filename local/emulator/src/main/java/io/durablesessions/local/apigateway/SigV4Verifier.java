package io.durablesessions.local.apigateway;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * API Gateway's IAM authorization, locally: checks a request's SigV4 signature (service
 * {@code execute-api}) against a table of local access keys and names the caller's ARN, as API
 * Gateway puts it in {@code requestContext.authorizer.iam}. The expected signature is computed as
 * AWS documents Signature Version 4 (canonical request over exactly the headers the caller signed,
 * string to sign, derived key), with the caller's timestamp; requests more than 5 minutes off are
 * refused, as AWS does, and so is a credential scoped to another region or another day than the
 * signed {@code x-amz-date}. Written here rather than borrowed from the AWS SDK: the SDK's signer adds
 * {@code x-amz-content-sha256} to what it signs, so it cannot recompute the signature of a client
 * (curl, botocore) that did not sign that header.
 */
public final class SigV4Verifier {
    /** A local IAM identity: its secret and the ARN API Gateway would report for it. */
    public record Identity(String secretKey, String arn, String accountId) {}

    /** The verdict: the caller, or API Gateway's refusal (status 403 and its message). */
    public sealed interface Verdict {}

    public record Caller(String accessKey, Identity identity) implements Verdict {}

    public record Refused(String message) implements Verdict {}

    static final Duration MAX_SKEW = Duration.ofMinutes(5);
    private static final Pattern AUTH =
            Pattern.compile("AWS4-HMAC-SHA256\\s+Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*"
                    + "SignedHeaders=([^,]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private static final HexFormat HEX = HexFormat.of();

    private final Map<String, Identity> byAccessKey;
    private final Clock clock;
    private final String region;

    /** @param region the region the emulated API is deployed in: a signature scoped to another one is refused */
    public SigV4Verifier(Map<String, Identity> byAccessKey, Clock clock, String region) {
        this.byAccessKey = Map.copyOf(byAccessKey);
        this.clock = clock;
        this.region = region;
    }

    /**
     * @param headers the request's headers, names lower-cased, repeated values joined with commas
     * @param uri     the full request URI as the caller addressed it (scheme, host, port, path, query)
     */
    public Verdict verify(String method, URI uri, Map<String, String> headers, byte[] body) {
        String authorization = headers.get("authorization");
        if (authorization == null) return new Refused("Missing Authentication Token");
        Matcher m = AUTH.matcher(authorization.trim());
        if (!m.matches())
            return new Refused("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'");
        String accessKey = m.group(1);
        String scopedRegion = m.group(3);
        if (!"execute-api".equals(m.group(4)))
            return new Refused("Credential should be scoped to correct service: 'execute-api'");
        if (!region.equals(scopedRegion)) {
            return new Refused("Credential should be scoped to a valid region, not '" + scopedRegion + "'.");
        }
        Identity identity = byAccessKey.get(accessKey);
        if (identity == null) return new Refused("The security token included in the request is invalid.");
        Instant signedAt;
        try {
            signedAt = AMZ_DATE.parse(headers.getOrDefault("x-amz-date", ""), Instant::from);
        } catch (DateTimeParseException e) {
            return new Refused("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        }
        if (Duration.between(signedAt, clock.instant()).abs().compareTo(MAX_SKEW) > 0) {
            return new Refused(
                    "Signature expired: " + headers.get("x-amz-date") + " is now earlier or later than allowed");
        }
        if (!AMZ_DATE.format(signedAt).substring(0, 8).equals(m.group(2))) {
            return new Refused(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
        }
        List<String> signed = Arrays.asList(m.group(5).split(";"));
        if (!signed.contains("host")) return new Refused("'Host' must be a signed header");
        // the timestamp the signature is checked against must be one the caller signed
        if (!signed.contains("x-amz-date")) return new Refused("'X-Amz-Date' must be a signed header");
        StringBuilder canonicalHeaders = new StringBuilder();
        for (String name : signed) {
            String value = headers.get(name);
            if (value == null) return new Refused("signed header '" + name + "' is missing");
            canonicalHeaders
                    .append(name)
                    .append(':')
                    .append(value.trim().replaceAll("\\s+", " "))
                    .append('\n');
        }
        String canonicalRequest =
                method + "\n" + canonicalPath(uri.getRawPath()) + "\n" + canonicalQuery(uri.getRawQuery()) + "\n"
                        + canonicalHeaders + "\n" + m.group(5) + "\n" + hex(sha256(body));
        String date = m.group(2);
        String scope = date + "/" + scopedRegion + "/execute-api/aws4_request";
        String stringToSign = "AWS4-HMAC-SHA256\n" + headers.get("x-amz-date") + "\n" + scope + "\n"
                + hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
        byte[] key = hmac(("AWS4" + identity.secretKey()).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, scopedRegion);
        key = hmac(key, "execute-api");
        key = hmac(key, "aws4_request");
        String expected = hex(hmac(key, stringToSign));
        boolean same = MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), m.group(6).getBytes(StandardCharsets.US_ASCII));
        return same
                ? new Caller(accessKey, identity)
                : new Refused("The request signature we calculated does not match the signature you provided.");
    }

    /**
     * The path as the caller sent it, URI-encoded once more (the "second" encoding of SigV4 for
     * services other than S3: the caller's own wire encoding is the first). A character a client
     * may leave as it is on the wire ({@code @}, {@code :}) is encoded here; a {@code %XX} it sent
     * becomes {@code %25XX}. This is what the AWS SDKs, botocore and curl sign.
     */
    static String canonicalPath(String rawPath) {
        if (rawPath == null || rawPath.isEmpty()) return "/";
        String[] segments = rawPath.split("/", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < segments.length; i++) {
            if (i > 0) out.append('/');
            out.append(encode(segments[i]));
        }
        return out.toString();
    }

    /** Parameters sorted by name then value, each URI-encoded once. */
    static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) return "";
        List<String[]> pairs = new ArrayList<>();
        for (String kv : rawQuery.split("&")) {
            if (kv.isEmpty()) continue;
            String[] p = kv.split("=", 2);
            pairs.add(new String[] {
                encode(URLDecoder.decode(p[0], StandardCharsets.UTF_8)),
                encode(URLDecoder.decode(p.length > 1 ? p[1] : "", StandardCharsets.UTF_8))
            });
        }
        pairs.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
        StringBuilder out = new StringBuilder();
        for (String[] p : pairs) {
            if (!out.isEmpty()) out.append('&');
            out.append(p[0]).append('=').append(p[1]);
        }
        return out.toString();
    }

    /** RFC 3986: everything but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex) of its UTF-8 bytes. */
    static String encode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean unreserved = (c >= 'A' && c <= 'Z')
                    || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '.'
                    || c == '~';
            if (unreserved) out.append((char) c);
            else out.append('%').append(HEX.withUpperCase().toHexDigits((byte) c));
        }
        return out.toString();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }
}
