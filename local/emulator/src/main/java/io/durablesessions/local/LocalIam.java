package io.durablesessions.local;

import io.durablesessions.functions.auth.IamPrincipals;
import io.durablesessions.local.apigateway.SigV4Verifier;
import java.time.Clock;
import java.util.Map;

/**
 * The local stack's one IAM identity, for trying the IAM-authorized HTTP API
 * ({@code http://127.0.0.1:PORT/iam/v1/…}) with any SigV4 signer (AWS SDKs, {@code curl --aws-sigv4},
 * botocore): its access key and secret, the role ARN API Gateway would report for it, and the
 * {@link IamPrincipals} entry that gives that role agent rights on every session. Local only; a
 * deployment maps its own role ARNs with {@code -c iamPrincipals}.
 */
public final class LocalIam {
    private LocalIam() {}

    public static final String ACCESS_KEY_ID = "AKIALOCALAGENT000001";
    public static final String SECRET_ACCESS_KEY = "local-agent-secret-for-durable-sessions-only";
    public static final String ACCOUNT_ID = "000000000000";
    public static final String ROLE_ARN = "arn:aws:iam::" + ACCOUNT_ID + ":role/local-agent";
    public static final String REGION = "us-east-1";

    /** What a deployment would put in IAM_PRINCIPALS for this role. */
    public static final String PRINCIPALS_JSON = "{\"" + ROLE_ARN + "\": {\"subject\": \"local-agent\", \"role\": "
            + "\"agent\", \"grants\": [{\"all\": true, \"caps\": [\"read\", \"append\", \"control\", \"agent\"]}]}}";

    static IamPrincipals principals() {
        return IamPrincipals.parse(PRINCIPALS_JSON);
    }

    static SigV4Verifier verifier(Clock clock) {
        // API Gateway reports a role's caller as an assumed-role ARN; IamPrincipals maps it back to the role
        String caller = "arn:aws:sts::" + ACCOUNT_ID + ":assumed-role/local-agent/local";
        return new SigV4Verifier(
                Map.of(ACCESS_KEY_ID, new SigV4Verifier.Identity(SECRET_ACCESS_KEY, caller, ACCOUNT_ID)),
                clock,
                REGION);
    }
}
