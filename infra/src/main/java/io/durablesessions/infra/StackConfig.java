package io.durablesessions.infra;

import java.util.Map;
import java.util.Optional;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.constructs.Node;

/**
 * Everything a deployment may choose, with defaults. Read from CDK context
 * ({@code cdk deploy -c stage=dev -c jwksUrl=https://…}, or {@code "context"} in cdk.json), so the
 * same code serves every environment; tests build it directly.
 *
 * @param stackName          CloudFormation stack name
 * @param stageName          WebSocket API stage; part of both URLs
 * @param logRetentionDays   retention of every log group (Lambda and API access logs)
 * @param authorizer         the {@code $connect} REQUEST authorizer (on by default; without it {@code $connect}
 *                           has no verified identity and refuses every connection)
 * @param authorizerIdentity where the authorizer reads the token: {@code querystring} ({@code ?token=})
 *                           or {@code protocol} (a {@code Sec-WebSocket-Protocol} offer {@code token.<jwt>}, for browsers)
 * @param jwt                issuer, audience and verification key of client JWTs (authorizer env)
 * @param snapStart          SnapStart on published versions for the latency-sensitive functions
 * @param sweeper            the liveness sweeper and its one-minute schedule
 * @param tableNamePrefix    when set, tables get readable names ({@code prefix + TableLayout default name});
 *                           when empty, CloudFormation generates unique ones
 * @param accessLogs         API Gateway access logs (needs the account-level API Gateway CloudWatch role)
 * @param iteratorAgeAlarmMs the fan-out falls this far behind the stream before the alarm fires
 * @param alarmTopicArn      SNS topic that alarms notify (optional)
 * @param nag                apply cdk-nag AwsSolutions checks when synthesizing the app
 * @param limits             the handlers' rate limit and deadlines (env of every function that uses the store)
 * @param httpApi            the HTTP API for agents and back ends ({@code /v1/sessions…}; on by default), its
 *                           routes guarded by the same JWTs through a Lambda authorizer (when {@code authorizer})
 * @param iamPrincipals      when set (JSON, see {@code IamPrincipals}), a second HTTP API with the same routes
 *                           under IAM (SigV4) authorization, for AWS-hosted agents; the JSON gives each caller
 *                           ARN a subject, role and grants
 */
public record StackConfig(String stackName, String stageName, int logRetentionDays, boolean authorizer,
                          String authorizerIdentity, Jwt jwt, boolean snapStart, boolean sweeper,
                          String tableNamePrefix, boolean accessLogs, int iteratorAgeAlarmMs,
                          Optional<String> alarmTopicArn, boolean nag, HandlerLimits limits, boolean httpApi,
                          String iamPrincipals) {

    /** Lambda allows 4 KB of environment variables in all; leave room for the tables, limits and JWT settings. */
    static final int MAX_IAM_PRINCIPALS_CHARS = 2048;

    public static final String IDENTITY_QUERYSTRING = "querystring";
    public static final String IDENTITY_PROTOCOL = "protocol";

    /**
     * How the authorizer verifies tokens (read by {@code AuthConfig.fromEnvironment}): every token must
     * name {@code issuer} and {@code audience} and be signed (RS256/ES256) by a key of the issuer's JWKS
     * ({@code jwksUrl}, e.g. Cognito's {@code https://cognito-idp.<region>.amazonaws.com/<poolId>/.well-known/jwks.json})
     * or by one fixed public key ({@code publicKeyPem}). Exactly one of the two.
     */
    public record Jwt(String issuer, String audience, String jwksUrl, String publicKeyPem) {
        public static final Jwt NONE = new Jwt("", "durable-sessions", "", "");

        public Jwt {
            issuer = issuer == null ? "" : issuer.trim();
            audience = audience == null ? "" : audience.trim();
            jwksUrl = jwksUrl == null ? "" : jwksUrl.trim();
            publicKeyPem = publicKeyPem == null ? "" : publicKeyPem.trim();
        }

        /** The authorizer's environment: exactly the variables AuthConfig reads, never an empty one. */
        public java.util.Map<String, String> environment() {
            var env = new java.util.LinkedHashMap<String, String>();
            env.put("JWT_ISSUER", issuer);
            env.put("JWT_AUDIENCE", audience);
            if (!jwksUrl.isEmpty()) env.put("JWT_JWKS_URL", jwksUrl);
            if (!publicKeyPem.isEmpty()) env.put("JWT_PUBLIC_KEY_PEM", publicKeyPem);
            return env;
        }

        /** Fails the synth, naming the context keys, when the authorizer could not verify any token. */
        void requireUsable() {
            String how = " Point it at your identity provider, e.g. -c jwtIssuer=https://cognito-idp.<region>"
                    + ".amazonaws.com/<poolId> -c jwtAudience=<app client id> -c jwksUrl=<issuer>/.well-known/jwks.json"
                    + " (or -c jwtPublicKeyPem=\"$(cat key.pem)\"); see docs/architecture.md, Deploy.";
            if (jwksUrl.isEmpty() && publicKeyPem.isEmpty()) {
                throw new IllegalArgumentException("the $connect authorizer is on (context 'authorizer', default true) "
                        + "but no token verification key is configured: set context 'jwksUrl' or 'jwtPublicKeyPem'." + how);
            }
            if (!jwksUrl.isEmpty() && !publicKeyPem.isEmpty()) {
                throw new IllegalArgumentException("set only one of context 'jwksUrl' and 'jwtPublicKeyPem', not both");
            }
            if (!jwksUrl.isEmpty() && !jwksUrl.startsWith("https://")) {
                throw new IllegalArgumentException("context 'jwksUrl' must be an https:// URL: " + jwksUrl);
            }
            if (!publicKeyPem.isEmpty() && !publicKeyPem.contains("-----BEGIN PUBLIC KEY-----")) {
                throw new IllegalArgumentException("context 'jwtPublicKeyPem' must be a PEM public key "
                        + "(-----BEGIN PUBLIC KEY----- …)");
            }
            if (issuer.isEmpty() || audience.isEmpty()) {
                throw new IllegalArgumentException("the $connect authorizer needs context 'jwtIssuer' and 'jwtAudience' "
                        + "(the iss and aud every client token must carry)." + how);
            }
        }
    }

    /**
     * Per-connection rate limit and the deadlines the store writes (read by {@code Services.Limits}
     * and {@code StoreSettings}); the defaults are the handlers' own.
     */
    public record HandlerLimits(int rateLimitPerSecond, int livenessTimeoutSeconds, int stopAckTimeoutSeconds,
                                int presenceGraceSeconds) {
        public static final HandlerLimits DEFAULTS = new HandlerLimits(500, 30, 10, 5);

        public HandlerLimits {
            if (rateLimitPerSecond < 0) throw new IllegalArgumentException("rateLimitPerSecond must be >= 0 (0: off)");
            if (livenessTimeoutSeconds < 1 || stopAckTimeoutSeconds < 1 || presenceGraceSeconds < 0) {
                throw new IllegalArgumentException("livenessTimeoutSeconds and stopAckTimeoutSeconds must be >= 1, "
                        + "presenceGraceSeconds >= 0");
            }
        }

        public java.util.Map<String, String> environment() {
            var env = new java.util.LinkedHashMap<String, String>();
            env.put("RATE_LIMIT_PER_SECOND", Integer.toString(rateLimitPerSecond));
            env.put("LIVENESS_TIMEOUT_SECONDS", Integer.toString(livenessTimeoutSeconds));
            env.put("STOP_ACK_TIMEOUT_SECONDS", Integer.toString(stopAckTimeoutSeconds));
            env.put("PRESENCE_GRACE_SECONDS", Integer.toString(presenceGraceSeconds));
            return env;
        }
    }

    public StackConfig {
        if (!stageName.matches("[A-Za-z0-9_-]{1,128}")) {
            throw new IllegalArgumentException("stage must be 1-128 of A-Z a-z 0-9 _ -: " + stageName);
        }
        if (!authorizerIdentity.equals(IDENTITY_QUERYSTRING) && !authorizerIdentity.equals(IDENTITY_PROTOCOL)) {
            throw new IllegalArgumentException("authorizerIdentity must be '" + IDENTITY_QUERYSTRING + "' or '"
                    + IDENTITY_PROTOCOL + "': " + authorizerIdentity);
        }
        retention(logRetentionDays); // fail early on a value CloudWatch Logs does not offer
        iamPrincipals = iamPrincipals == null ? "" : iamPrincipals.trim();
        if (!iamPrincipals.isEmpty()) {
            if (!httpApi) throw new IllegalArgumentException("context 'iamPrincipals' needs the HTTP API (httpApi=true)");
            // the same parser the function runs at cold start: a bad table fails the synth, not the first request
            io.durablesessions.functions.auth.IamPrincipals.parse(iamPrincipals);
            if (iamPrincipals.length() > MAX_IAM_PRINCIPALS_CHARS) {
                throw new IllegalArgumentException("context 'iamPrincipals' is " + iamPrincipals.length() + " characters; "
                        + "keep it under " + MAX_IAM_PRINCIPALS_CHARS + " (it travels in the function's environment, which "
                        + "Lambda limits to 4 KB in all): grant roles prefixes (tenants) rather than single sessions");
            }
        }
    }

    /** The IAM-authorized HTTP API is deployed only when the operator mapped at least one caller. */
    public boolean iamHttpApi() {
        return !iamPrincipals.isEmpty();
    }

    /**
     * The defaults: what {@code cdk deploy} without any {@code -c} builds, minus the token key, which
     * only the deployment can know ({@link #requireDeployable()} refuses to synth without it).
     */
    public static StackConfig defaults() {
        return new StackConfig("DurableSessions", "prod", 30, true, IDENTITY_QUERYSTRING, Jwt.NONE, true, true, "",
                true, 60_000, Optional.empty(), true, HandlerLimits.DEFAULTS, true, "");
    }

    /** Checks what a synth needs beyond well-formed values: with the authorizer on, a usable JWT setup. */
    public void requireDeployable() {
        if (authorizer) jwt.requireUsable();
    }

    public StackConfig withAuthorizer(boolean on) {
        return new StackConfig(stackName, stageName, logRetentionDays, on, authorizerIdentity, jwt, snapStart, sweeper,
                tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, limits, httpApi, iamPrincipals);
    }

    public StackConfig withAuthorizerIdentity(String identity) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, identity, jwt, snapStart, sweeper,
                tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, limits, httpApi, iamPrincipals);
    }

    public StackConfig withJwt(Jwt j) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, authorizerIdentity, j, snapStart,
                sweeper, tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, limits, httpApi, iamPrincipals);
    }

    public StackConfig withSweeper(boolean on) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, authorizerIdentity, jwt, snapStart, on,
                tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, limits, httpApi, iamPrincipals);
    }

    public StackConfig withHttpApi(boolean on) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, authorizerIdentity, jwt, snapStart,
                sweeper, tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, limits, on, iamPrincipals);
    }

    public StackConfig withIamPrincipals(String json) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, authorizerIdentity, jwt, snapStart,
                sweeper, tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, limits, httpApi, json);
    }

    public StackConfig withLimits(HandlerLimits l) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, authorizerIdentity, jwt, snapStart,
                sweeper, tableNamePrefix, accessLogs, iteratorAgeAlarmMs, alarmTopicArn, nag, l, httpApi, iamPrincipals);
    }

    /** Reads every setting from CDK context, falling back to {@link #defaults()}. */
    public static StackConfig fromContext(Node node) {
        StackConfig d = defaults();
        HandlerLimits l = d.limits();
        return new StackConfig(
                str(node, "stackName", d.stackName()),
                str(node, "stage", d.stageName()),
                integer(node, "logRetentionDays", d.logRetentionDays()),
                bool(node, "authorizer", d.authorizer()),
                str(node, "authorizerIdentity", d.authorizerIdentity()),
                new Jwt(str(node, "jwtIssuer", d.jwt().issuer()), str(node, "jwtAudience", d.jwt().audience()),
                        str(node, "jwksUrl", d.jwt().jwksUrl()), str(node, "jwtPublicKeyPem", d.jwt().publicKeyPem())),
                bool(node, "snapStart", d.snapStart()),
                bool(node, "sweeper", d.sweeper()),
                str(node, "tableNamePrefix", d.tableNamePrefix()),
                bool(node, "accessLogs", d.accessLogs()),
                integer(node, "iteratorAgeAlarmMs", d.iteratorAgeAlarmMs()),
                Optional.of(str(node, "alarmTopicArn", "")).filter(s -> !s.isBlank()),
                bool(node, "nag", d.nag()),
                new HandlerLimits(integer(node, "rateLimitPerSecond", l.rateLimitPerSecond()),
                        integer(node, "livenessTimeoutSeconds", l.livenessTimeoutSeconds()),
                        integer(node, "stopAckTimeoutSeconds", l.stopAckTimeoutSeconds()),
                        integer(node, "presenceGraceSeconds", l.presenceGraceSeconds())),
                bool(node, "httpApi", d.httpApi()),
                str(node, "iamPrincipals", d.iamPrincipals()));
    }

    public RetentionDays retention() {
        return retention(logRetentionDays);
    }

    private static final Map<Integer, RetentionDays> RETENTION = Map.ofEntries(
            Map.entry(1, RetentionDays.ONE_DAY), Map.entry(3, RetentionDays.THREE_DAYS),
            Map.entry(5, RetentionDays.FIVE_DAYS), Map.entry(7, RetentionDays.ONE_WEEK),
            Map.entry(14, RetentionDays.TWO_WEEKS), Map.entry(30, RetentionDays.ONE_MONTH),
            Map.entry(60, RetentionDays.TWO_MONTHS), Map.entry(90, RetentionDays.THREE_MONTHS),
            Map.entry(120, RetentionDays.FOUR_MONTHS), Map.entry(150, RetentionDays.FIVE_MONTHS),
            Map.entry(180, RetentionDays.SIX_MONTHS), Map.entry(365, RetentionDays.ONE_YEAR),
            Map.entry(400, RetentionDays.THIRTEEN_MONTHS), Map.entry(545, RetentionDays.EIGHTEEN_MONTHS),
            Map.entry(731, RetentionDays.TWO_YEARS), Map.entry(1096, RetentionDays.THREE_YEARS),
            Map.entry(1827, RetentionDays.FIVE_YEARS), Map.entry(3653, RetentionDays.TEN_YEARS));

    static RetentionDays retention(int days) {
        RetentionDays r = RETENTION.get(days);
        if (r == null) {
            throw new IllegalArgumentException("logRetentionDays must be one of " + RETENTION.keySet().stream().sorted()
                    .toList() + " (the values CloudWatch Logs offers): " + days);
        }
        return r;
    }

    private static String str(Node node, String key, String fallback) {
        Object v = node.tryGetContext(key);
        return v == null ? fallback : v.toString().trim();
    }

    private static boolean bool(Node node, String key, boolean fallback) {
        Object v = node.tryGetContext(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        String s = v.toString().trim().toLowerCase();
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw new IllegalArgumentException("context '" + key + "' must be true or false: " + v);
    }

    private static int integer(Node node, String key, int fallback) {
        Object v = node.tryGetContext(key);
        if (v == null) return fallback;
        if (v instanceof Number n) return n.intValue();
        try {
            return Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("context '" + key + "' must be an integer: " + v, e);
        }
    }
}
