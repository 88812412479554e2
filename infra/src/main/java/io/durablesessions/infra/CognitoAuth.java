package io.durablesessions.infra;

import io.durablesessions.functions.auth.CognitoClaimsTrigger;
import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.cognito.AccountRecovery;
import software.amazon.awscdk.services.cognito.AuthFlow;
import software.amazon.awscdk.services.cognito.AutoVerifiedAttrs;
import software.amazon.awscdk.services.cognito.CfnUserPoolGroup;
import software.amazon.awscdk.services.cognito.ClientAttributes;
import software.amazon.awscdk.services.cognito.FeaturePlan;
import software.amazon.awscdk.services.cognito.LambdaVersion;
import software.amazon.awscdk.services.cognito.Mfa;
import software.amazon.awscdk.services.cognito.MfaSecondFactor;
import software.amazon.awscdk.services.cognito.PasswordPolicy;
import software.amazon.awscdk.services.cognito.SignInAliases;
import software.amazon.awscdk.services.cognito.StandardAttributesMask;
import software.amazon.awscdk.services.cognito.StringAttribute;
import software.amazon.awscdk.services.cognito.UserPool;
import software.amazon.awscdk.services.cognito.UserPoolClient;
import software.amazon.awscdk.services.cognito.UserPoolClientOptions;
import software.amazon.awscdk.services.cognito.UserPoolOperation;
import software.amazon.awscdk.services.lambda.Code;
import software.constructs.Construct;

/**
 * Turnkey auth ({@code -c cognito=true}): a Cognito user pool whose ID tokens the service accepts
 * as they are.
 * <ul>
 *   <li>the pool: sign-in by email, no self sign-up (an administrator creates users), strong
 *       passwords, optional TOTP MFA, recovery by email; kept when the stack is deleted;</li>
 *   <li>groups {@code agent}, {@code client}, {@code viewer}: the token's {@code role};</li>
 *   <li>the custom attribute {@code grants} (JSON, administrators only: the app client may read but
 *       not write it): the token's {@code grants};</li>
 *   <li>a pre token generation trigger (event version 2,
 *       {@link CognitoClaimsTrigger}) that writes those two claims into every ID and access token;
 *       it calls no AWS API, so its role may only write its log group;</li>
 *   <li>an app client without a secret (browsers, agents) using SRP, no OAuth flows, 1-hour tokens.</li>
 * </ul>
 * The authorizers then verify tokens against this pool: issuer
 * {@code https://cognito-idp.<region>.amazonaws.com/<poolId>}, audience the app client id, keys from
 * the pool's JWKS ({@link #jwt()}).
 */
public final class CognitoAuth extends Construct {
    public static final String HANDLER = CognitoClaimsTrigger.class.getName() + "::handleRequest";
    /** The attribute's name without Cognito's {@code custom:} prefix. */
    public static final String GRANTS_ATTRIBUTE = CognitoClaimsTrigger.GRANTS_ATTRIBUTE.substring("custom:".length());

    private final UserPool pool;
    private final UserPoolClient client;
    private final JavaFunction trigger;
    private final StackConfig.Jwt jwt;

    public CognitoAuth(
            Construct scope, String id, Code code, SessionTables tables, WebSocketApi api, StackConfig config) {
        super(scope, id);
        // Cognito waits at most 5 s for a trigger; 512 MB and SnapStart keep a cold one well inside that
        var spec = new JavaFunction.Spec(
                HANDLER,
                "Cognito pre token generation (role and grants claims)",
                512,
                Duration.seconds(5),
                config.snapStart(),
                Map.of(),
                Permissions.cognitoTrigger());
        this.trigger = new JavaFunction(this, "ClaimsTrigger", spec, code, tables, api, config);

        this.pool = UserPool.Builder.create(this, "UserPool")
                .selfSignUpEnabled(false)
                .signInAliases(SignInAliases.builder().email(true).build())
                .autoVerify(AutoVerifiedAttrs.builder().email(true).build())
                .passwordPolicy(PasswordPolicy.builder()
                        .minLength(12)
                        .requireLowercase(true)
                        .requireUppercase(true)
                        .requireDigits(true)
                        .requireSymbols(true)
                        .tempPasswordValidity(Duration.days(3))
                        .build())
                .mfa(Mfa.OPTIONAL)
                .mfaSecondFactor(MfaSecondFactor.builder().otp(true).sms(false).build())
                .accountRecovery(AccountRecovery.EMAIL_ONLY)
                // the version 2 trigger event (claims that are arrays and objects, access token claims) needs
                // Essentials
                .featurePlan(FeaturePlan.ESSENTIALS)
                .customAttributes(Map.of(
                        GRANTS_ATTRIBUTE,
                        StringAttribute.Builder.create()
                                .minLen(2)
                                .maxLen(2048)
                                .mutable(true)
                                .build()))
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        pool.addTrigger(UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, trigger.alias(), LambdaVersion.V2_0);

        int precedence = 0;
        for (String role : CognitoClaimsTrigger.ROLE_GROUPS) {
            CfnUserPoolGroup.Builder.create(this, "Group" + Character.toUpperCase(role.charAt(0)) + role.substring(1))
                    .userPoolId(pool.getUserPoolId())
                    .groupName(role)
                    .precedence(precedence++)
                    .description("durable sessions: tokens of members carry role " + role)
                    .build();
        }

        this.client = pool.addClient(
                "AppClient",
                UserPoolClientOptions.builder()
                        .generateSecret(false)
                        .authFlows(AuthFlow.builder().userSrp(true).build())
                        .disableOAuth(true)
                        .preventUserExistenceErrors(true)
                        .idTokenValidity(Duration.hours(1))
                        .accessTokenValidity(Duration.hours(1))
                        .refreshTokenValidity(Duration.days(30))
                        .readAttributes(new ClientAttributes()
                                .withStandardAttributes(StandardAttributesMask.builder()
                                        .email(true)
                                        .emailVerified(true)
                                        .fullname(true)
                                        .build())
                                .withCustomAttributes(GRANTS_ATTRIBUTE))
                        // never the grants: a user must not be able to raise their own rights
                        .writeAttributes(new ClientAttributes()
                                .withStandardAttributes(StandardAttributesMask.builder()
                                        .email(true)
                                        .fullname(true)
                                        .build()))
                        .build());

        String issuer = "https://cognito-idp." + Stack.of(this).getRegion() + ".amazonaws.com/" + pool.getUserPoolId();
        this.jwt = new StackConfig.Jwt(issuer, client.getUserPoolClientId(), issuer + "/.well-known/jwks.json", "");

        NagSuppressions.addResourceSuppressions(
                pool,
                List.of(
                        NagPackSuppression.builder()
                                .id("AwsSolutions-COG2")
                                .reason(
                                        "MFA is optional (TOTP): agents are service identities that sign in without a person at "
                                                + "hand; operators who want it for people can require it in the pool settings")
                                .build(),
                        NagPackSuppression.builder()
                                .id("AwsSolutions-COG3")
                                .reason(
                                        "threat protection (advanced security) needs the Plus feature plan, a per-user cost; the "
                                                + "pool uses Essentials, which the version 2 token trigger needs, and can be raised to Plus")
                                .build()),
                true);
    }

    /** Issuer, audience and JWKS of this pool, for the authorizers. */
    public StackConfig.Jwt jwt() {
        return jwt;
    }

    public UserPool userPool() {
        return pool;
    }

    public UserPoolClient client() {
        return client;
    }

    public JavaFunction trigger() {
        return trigger;
    }
}
