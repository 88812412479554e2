package io.durablesessions.infra;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.constructs.Node;

/**
 * Everything a deployment may choose, with defaults. Read from CDK context
 * ({@code cdk deploy -c stage=dev -c authorizer=true}, or {@code "context"} in cdk.json), so the
 * same code serves every environment; tests build it directly.
 *
 * @param stackName          CloudFormation stack name
 * @param stageName          WebSocket API stage; part of both URLs
 * @param logRetentionDays   retention of every log group (Lambda and API access logs)
 * @param authorizer         the {@code $connect} REQUEST authorizer; off until ConnectAuthorizer exists
 * @param authorizerIdentity where the authorizer reads the token: {@code querystring} ({@code ?token=})
 *                           or {@code protocol} (the {@code Sec-WebSocket-Protocol} header, for browsers)
 * @param jwtIssuer          expected {@code iss} of client JWTs (authorizer env)
 * @param jwtAudience        expected {@code aud} of client JWTs (authorizer env)
 * @param jwksUrl            where the authorizer fetches the issuer's signing keys
 * @param allowedOrigins     browser origins allowed at {@code $connect} (empty: any; checked by the authorizer)
 * @param snapStart          SnapStart on published versions for the latency-sensitive functions
 * @param sweeper            the liveness sweeper and its one-minute schedule
 * @param tableNamePrefix    when set, tables get readable names ({@code prefix + TableLayout default name});
 *                           when empty, CloudFormation generates unique ones
 * @param accessLogs         API Gateway access logs (needs the account-level API Gateway CloudWatch role)
 * @param iteratorAgeAlarmMs the fan-out falls this far behind the stream before the alarm fires
 * @param alarmTopicArn      SNS topic that alarms notify (optional)
 * @param nag                apply cdk-nag AwsSolutions checks when synthesizing the app
 */
public record StackConfig(String stackName, String stageName, int logRetentionDays, boolean authorizer,
                          String authorizerIdentity, String jwtIssuer, String jwtAudience, String jwksUrl,
                          List<String> allowedOrigins, boolean snapStart, boolean sweeper, String tableNamePrefix,
                          boolean accessLogs, int iteratorAgeAlarmMs, Optional<String> alarmTopicArn, boolean nag) {

    public static final String IDENTITY_QUERYSTRING = "querystring";
    public static final String IDENTITY_PROTOCOL = "protocol";

    public StackConfig {
        if (!stageName.matches("[A-Za-z0-9_-]{1,128}")) {
            throw new IllegalArgumentException("stage must be 1-128 of A-Z a-z 0-9 _ -: " + stageName);
        }
        if (!authorizerIdentity.equals(IDENTITY_QUERYSTRING) && !authorizerIdentity.equals(IDENTITY_PROTOCOL)) {
            throw new IllegalArgumentException("authorizerIdentity must be '" + IDENTITY_QUERYSTRING + "' or '"
                    + IDENTITY_PROTOCOL + "': " + authorizerIdentity);
        }
        retention(logRetentionDays); // fail early on a value CloudWatch Logs does not offer
        allowedOrigins = List.copyOf(allowedOrigins);
    }

    /** The defaults: what {@code cdk deploy} without any {@code -c} builds. */
    public static StackConfig defaults() {
        return new StackConfig("DurableSessions", "prod", 30, false, IDENTITY_QUERYSTRING, "", "", "", List.of(), true,
                true, "", true, 60_000, Optional.empty(), true);
    }

    public StackConfig withAuthorizer(boolean on) {
        return new StackConfig(stackName, stageName, logRetentionDays, on, authorizerIdentity, jwtIssuer, jwtAudience,
                jwksUrl, allowedOrigins, snapStart, sweeper, tableNamePrefix, accessLogs, iteratorAgeAlarmMs,
                alarmTopicArn, nag);
    }

    public StackConfig withSweeper(boolean on) {
        return new StackConfig(stackName, stageName, logRetentionDays, authorizer, authorizerIdentity, jwtIssuer,
                jwtAudience, jwksUrl, allowedOrigins, snapStart, on, tableNamePrefix, accessLogs, iteratorAgeAlarmMs,
                alarmTopicArn, nag);
    }

    /** Reads every setting from CDK context, falling back to {@link #defaults()}. */
    public static StackConfig fromContext(Node node) {
        StackConfig d = defaults();
        return new StackConfig(
                str(node, "stackName", d.stackName()),
                str(node, "stage", d.stageName()),
                integer(node, "logRetentionDays", d.logRetentionDays()),
                bool(node, "authorizer", d.authorizer()),
                str(node, "authorizerIdentity", d.authorizerIdentity()),
                str(node, "jwtIssuer", d.jwtIssuer()),
                str(node, "jwtAudience", d.jwtAudience()),
                str(node, "jwksUrl", d.jwksUrl()),
                list(node, "allowedOrigins"),
                bool(node, "snapStart", d.snapStart()),
                bool(node, "sweeper", d.sweeper()),
                str(node, "tableNamePrefix", d.tableNamePrefix()),
                bool(node, "accessLogs", d.accessLogs()),
                integer(node, "iteratorAgeAlarmMs", d.iteratorAgeAlarmMs()),
                Optional.of(str(node, "alarmTopicArn", "")).filter(s -> !s.isBlank()),
                bool(node, "nag", d.nag()));
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

    private static List<String> list(Node node, String key) {
        Object v = node.tryGetContext(key);
        if (v == null) return List.of();
        if (v instanceof List<?> l) return l.stream().map(Object::toString).map(String::trim).filter(s -> !s.isEmpty()).toList();
        return Arrays.stream(v.toString().split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
