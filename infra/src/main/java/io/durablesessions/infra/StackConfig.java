package io.durablesessions.infra;

import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.IamPrincipals;
import io.durablesessions.functions.runtime.HandlerSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
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
 * @param handlers           the handlers' rate limits and deadlines ({@link HandlerSettings}: the environment of
 *                           every function that uses the store, read by the functions with the same names)
 * @param httpApi            the HTTP API for agents and back ends ({@code /v1/sessions…}; on by default), its
 *                           routes guarded by the same JWTs through a Lambda authorizer (when {@code authorizer})
 * @param iamPrincipals      when set (JSON, see {@code IamPrincipals}), a second HTTP API with the same routes
 *                           under IAM (SigV4) authorization, for AWS-hosted agents; the JSON gives each caller
 *                           ARN a subject, role and grants
 * @param cognito            turnkey auth: the stack creates a Cognito user pool, an app client and a pre token
 *                           generation trigger ({@link CognitoAuth}), and the authorizers verify its ID tokens;
 *                           then the {@code jwt*} settings must stay empty
 * @param tracing            OpenTelemetry traces to X-Ray: every function gets X-Ray active tracing (and the IAM to
 *                           write to it) and the ADOT Java wrapper layer ({@link JavaFunction#ADOT_LAYER}), whose SDK
 *                           records the handlers' spans (docs/observability.md); off by default
 */
public record StackConfig(
        String stackName,
        String stageName,
        int logRetentionDays,
        boolean authorizer,
        String authorizerIdentity,
        Jwt jwt,
        boolean snapStart,
        boolean sweeper,
        String tableNamePrefix,
        boolean accessLogs,
        int iteratorAgeAlarmMs,
        Optional<String> alarmTopicArn,
        boolean nag,
        HandlerSettings handlers,
        boolean httpApi,
        String iamPrincipals,
        boolean cognito,
        boolean tracing) {

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
        public Map<String, String> environment() {
            Map<String, String> env = new LinkedHashMap<>();
            env.put(AuthConfig.ENV_ISSUER, issuer);
            env.put(AuthConfig.ENV_AUDIENCE, audience);
            if (!jwksUrl.isEmpty()) env.put(AuthConfig.ENV_JWKS_URL, jwksUrl);
            if (!publicKeyPem.isEmpty()) env.put(AuthConfig.ENV_PUBLIC_KEY_PEM, publicKeyPem);
            return env;
        }

        /** Fails the synth, naming the context keys, when the authorizer could not verify any token. */
        void requireUsable() {
            String how = " Either let the stack create a Cognito user pool with -c cognito=true, or point it at your"
                    + " identity provider (Auth0, any OIDC issuer, an existing Cognito pool), e.g. -c jwtIssuer=https://"
                    + "<tenant>.auth0.com/ -c jwtAudience=<API identifier> -c jwksUrl=<issuer>/.well-known/jwks.json"
                    + " (or -c jwtPublicKeyPem=\"$(cat key.pem)\"); see docs/architecture.md, Deploy (the claim mapping"
                    + " recipe for Auth0/OIDC is there).";
            if (jwksUrl.isEmpty() && publicKeyPem.isEmpty()) {
                throw new IllegalArgumentException("the $connect authorizer is on (context 'authorizer', default true) "
                        + "but no token verification key is configured: set context 'jwksUrl' or 'jwtPublicKeyPem'."
                        + how);
            }
            if (!jwksUrl.isEmpty() && !publicKeyPem.isEmpty()) {
                throw new IllegalArgumentException("set only one of context 'jwksUrl' and 'jwtPublicKeyPem', not both");
            }
            if (!jwksUrl.isEmpty() && !jwksUrl.startsWith("https://")) {
                throw new IllegalArgumentException("context 'jwksUrl' must be an https:// URL: " + jwksUrl);
            }
            if (!publicKeyPem.isEmpty() && !publicKeyPem.contains("-----BEGIN PUBLIC KEY-----")) {
                throw new IllegalArgumentException(
                        "context 'jwtPublicKeyPem' must be a PEM public key " + "(-----BEGIN PUBLIC KEY----- …)");
            }
            if (issuer.isEmpty() || audience.isEmpty()) {
                throw new IllegalArgumentException(
                        "the $connect authorizer needs context 'jwtIssuer' and 'jwtAudience' "
                                + "(the iss and aud every client token must carry)." + how);
            }
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
            if (!httpApi)
                throw new IllegalArgumentException("context 'iamPrincipals' needs the HTTP API (httpApi=true)");
            // the same parser the function runs at cold start: a bad table fails the synth, not the first request
            IamPrincipals.parse(iamPrincipals);
            if (iamPrincipals.length() > MAX_IAM_PRINCIPALS_CHARS) {
                throw new IllegalArgumentException(
                        "context 'iamPrincipals' is " + iamPrincipals.length() + " characters; "
                                + "keep it under " + MAX_IAM_PRINCIPALS_CHARS
                                + " (it travels in the function's environment, which "
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
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values, to change some of them. */
    public Builder toBuilder() {
        return new Builder()
                .stackName(stackName)
                .stageName(stageName)
                .logRetentionDays(logRetentionDays)
                .authorizer(authorizer)
                .authorizerIdentity(authorizerIdentity)
                .jwt(jwt)
                .snapStart(snapStart)
                .sweeper(sweeper)
                .tableNamePrefix(tableNamePrefix)
                .accessLogs(accessLogs)
                .iteratorAgeAlarmMs(iteratorAgeAlarmMs)
                .alarmTopicArn(alarmTopicArn.orElse(""))
                .nag(nag)
                .handlers(handlers)
                .httpApi(httpApi)
                .iamPrincipals(iamPrincipals)
                .cognito(cognito)
                .tracing(tracing);
    }

    /**
     * Checks what a synth needs beyond well-formed values: with the authorizer on, a usable JWT setup,
     * either the stack's own Cognito user pool ({@code cognito}) or an issuer's settings, not both.
     */
    public void requireDeployable() {
        if (cognito) {
            if (!authorizer)
                throw new IllegalArgumentException("context 'cognito' needs the authorizer (authorizer=true)");
            if (!jwt.issuer().isEmpty()
                    || !jwt.jwksUrl().isEmpty()
                    || !jwt.publicKeyPem().isEmpty()) {
                throw new IllegalArgumentException(
                        "context 'cognito' creates the token issuer itself: leave 'jwtIssuer', "
                                + "'jwksUrl' and 'jwtPublicKeyPem' empty, or set cognito=false to use your own issuer");
            }
            return;
        }
        if (authorizer) jwt.requireUsable();
    }

    /**
     * Reads every setting from CDK context ({@code -c key=value}; the keys are the builder's method
     * names, {@code stage}, {@code jwtIssuer}/{@code jwtAudience}/{@code jwksUrl}/{@code jwtPublicKeyPem}
     * and the handler settings {@code rateLimitPerSecond}, {@code livenessTimeoutSeconds},
     * {@code stopAckTimeoutSeconds}, {@code presenceGraceSeconds}, {@code directDelivery},
     * {@code revocationCacheSeconds}), falling back to {@link #defaults()}.
     */
    public static StackConfig fromContext(Node node) {
        StackConfig d = defaults();
        HandlerSettings h = d.handlers();
        return builder()
                .stackName(str(node, "stackName", d.stackName()))
                .stageName(str(node, "stage", d.stageName()))
                .logRetentionDays(integer(node, "logRetentionDays", d.logRetentionDays()))
                .authorizer(bool(node, "authorizer", d.authorizer()))
                .authorizerIdentity(str(node, "authorizerIdentity", d.authorizerIdentity()))
                .jwt(new Jwt(
                        str(node, "jwtIssuer", d.jwt().issuer()),
                        str(node, "jwtAudience", d.jwt().audience()),
                        str(node, "jwksUrl", d.jwt().jwksUrl()),
                        str(node, "jwtPublicKeyPem", d.jwt().publicKeyPem())))
                .snapStart(bool(node, "snapStart", d.snapStart()))
                .sweeper(bool(node, "sweeper", d.sweeper()))
                .tableNamePrefix(str(node, "tableNamePrefix", d.tableNamePrefix()))
                .accessLogs(bool(node, "accessLogs", d.accessLogs()))
                .iteratorAgeAlarmMs(integer(node, "iteratorAgeAlarmMs", d.iteratorAgeAlarmMs()))
                .alarmTopicArn(str(node, "alarmTopicArn", ""))
                .nag(bool(node, "nag", d.nag()))
                .handlers(h.toBuilder()
                        .messagesPerSecond(
                                integer(node, "rateLimitPerSecond", h.limits().messagesPerSecond()))
                        .livenessTimeout(Duration.ofSeconds(integer(node, "livenessTimeoutSeconds", (int)
                                h.store().livenessTimeout().toSeconds())))
                        .stopAckTimeout(Duration.ofSeconds(integer(node, "stopAckTimeoutSeconds", (int)
                                h.store().ackTimeout().toSeconds())))
                        .presenceGrace(Duration.ofSeconds(integer(node, "presenceGraceSeconds", (int)
                                h.store().presenceGrace().toSeconds())))
                        .directDelivery(
                                bool(node, "directDelivery", h.features().directDelivery()))
                        .revocationCache(Duration.ofSeconds(integer(node, "revocationCacheSeconds", (int)
                                h.features().revocationCache().toSeconds())))
                        .build())
                .httpApi(bool(node, "httpApi", d.httpApi()))
                .iamPrincipals(str(node, "iamPrincipals", d.iamPrincipals()))
                .cognito(bool(node, "cognito", d.cognito()))
                .tracing(bool(node, "tracing", d.tracing()))
                .build();
    }

    /** A {@link StackConfig} by name; each field starts at its default. */
    public static final class Builder {
        private String stackName = "DurableSessions";
        private String stageName = "prod";
        private int logRetentionDays = 30;
        private boolean authorizer = true;
        private String authorizerIdentity = IDENTITY_QUERYSTRING;
        private Jwt jwt = Jwt.NONE;
        private boolean snapStart = true;
        private boolean sweeper = true;
        private String tableNamePrefix = "";
        private boolean accessLogs = true;
        private int iteratorAgeAlarmMs = 60_000;
        private String alarmTopicArn = "";
        private boolean nag = true;
        private HandlerSettings handlers = HandlerSettings.DEFAULTS;
        private boolean httpApi = true;
        private String iamPrincipals = "";
        private boolean cognito = false;
        private boolean tracing = false;

        private Builder() {}

        /** CloudFormation stack name (default {@code DurableSessions}). */
        public Builder stackName(String v) {
            stackName = v;
            return this;
        }

        /** API stage, part of both URLs (default {@code prod}). */
        public Builder stageName(String v) {
            stageName = v;
            return this;
        }

        /** Retention of every log group, one of CloudWatch Logs' values (default 30). */
        public Builder logRetentionDays(int v) {
            logRetentionDays = v;
            return this;
        }

        /** The {@code $connect} and HTTP authorizers (default on). */
        public Builder authorizer(boolean v) {
            authorizer = v;
            return this;
        }

        /** {@code querystring} (default) or {@code protocol}. */
        public Builder authorizerIdentity(String v) {
            authorizerIdentity = v;
            return this;
        }

        /** Token verification settings (default none: a deployable stack needs them or {@link #cognito}). */
        public Builder jwt(Jwt v) {
            jwt = v;
            return this;
        }

        /** SnapStart for the latency-sensitive functions (default on). */
        public Builder snapStart(boolean v) {
            snapStart = v;
            return this;
        }

        /** The liveness sweeper (default on). */
        public Builder sweeper(boolean v) {
            sweeper = v;
            return this;
        }

        /** Readable table names with this prefix (default empty: generated names). */
        public Builder tableNamePrefix(String v) {
            tableNamePrefix = v;
            return this;
        }

        /** API Gateway access logs (default on). */
        public Builder accessLogs(boolean v) {
            accessLogs = v;
            return this;
        }

        /** The fan-out's iterator age alarm threshold (default 60 000 ms). */
        public Builder iteratorAgeAlarmMs(int v) {
            iteratorAgeAlarmMs = v;
            return this;
        }

        /** SNS topic for alarms (default none: empty). */
        public Builder alarmTopicArn(String v) {
            alarmTopicArn = v == null ? "" : v;
            return this;
        }

        /** cdk-nag AwsSolutions checks at synth (default on). */
        public Builder nag(boolean v) {
            nag = v;
            return this;
        }

        /** The handlers' limits and timeouts (default {@link HandlerSettings#DEFAULTS}). */
        public Builder handlers(HandlerSettings v) {
            handlers = v;
            return this;
        }

        /** The HTTP API (default on). */
        public Builder httpApi(boolean v) {
            httpApi = v;
            return this;
        }

        /** Callers of the IAM HTTP API (JSON, default none). */
        public Builder iamPrincipals(String v) {
            iamPrincipals = v;
            return this;
        }

        /** Turnkey Cognito auth (default off). */
        public Builder cognito(boolean v) {
            cognito = v;
            return this;
        }

        /** X-Ray active tracing and the ADOT layer on every function (default off). */
        public Builder tracing(boolean v) {
            tracing = v;
            return this;
        }

        public StackConfig build() {
            return new StackConfig(
                    stackName,
                    stageName,
                    logRetentionDays,
                    authorizer,
                    authorizerIdentity,
                    jwt,
                    snapStart,
                    sweeper,
                    tableNamePrefix,
                    accessLogs,
                    iteratorAgeAlarmMs,
                    Optional.of(alarmTopicArn).filter(a -> !a.isBlank()),
                    nag,
                    handlers,
                    httpApi,
                    iamPrincipals,
                    cognito,
                    tracing);
        }
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
            throw new IllegalArgumentException("logRetentionDays must be one of "
                    + RETENTION.keySet().stream().sorted().toList() + " (the values CloudWatch Logs offers): " + days);
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
        String s = v.toString().trim().toLowerCase(Locale.ROOT);
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
