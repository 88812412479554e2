package io.durablesessions.infra;

import io.durablesessions.functions.store.TableLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.lambda.Code;
import software.constructs.Construct;

/**
 * The whole service in one stack:
 * <pre>
 * clients ⇄ WebSocketApi ──routes──▶ RouteFunctions ──▶ SessionTables (events, sessions, connections)
 *                 ▲                                          │ events stream (NEW_IMAGE, INSERT only)
 *                 └──── PostToConnection ◀── FanoutFunction ◀┘ ──failed batches──▶ SQS
 * agents, back ends ──▶ SessionHttpApi (/v1/sessions…, JWT; optionally a second one under IAM) ──▶ same tables
 * LivenessSweeper (every minute) ──▶ sessions live-runs index / events
 * WebSocketAuthorizer (on by default) guards $connect; Observability watches all of it.
 * CognitoAuth (-c cognito=true): the stack's own user pool and token trigger, the issuer the authorizers trust.
 * </pre>
 */
public final class DurableSessionsStack extends Stack {
    private final SessionTables tables;
    private final WebSocketApi api;
    private final RouteFunctions routes;
    private final FanoutFunction fanout;
    private final LivenessSweeper sweeper;
    private final SessionHttpApi http;
    private final WebSocketAuthorizer authorizer;
    private final Observability observability;
    private final CognitoAuth cognito;

    public DurableSessionsStack(Construct scope, String id, StackProps props, StackConfig settings, Path functionsJar) {
        super(scope, id, props);
        settings.requireDeployable(); // before any resource: a clear message, not a half-built stack
        Code code = Code.fromAsset(functionsJar.toString());

        this.tables = new SessionTables(this, "Tables", settings.tableNamePrefix());
        this.api = new WebSocketApi(this, "WebSocket", settings);
        // turnkey auth: the stack's own user pool is the token issuer the authorizers trust
        this.cognito = settings.cognito() ? new CognitoAuth(this, "Auth", code, tables, api, settings) : null;
        StackConfig config =
                cognito != null ? settings.toBuilder().jwt(cognito.jwt()).build() : settings;
        this.authorizer = config.authorizer()
                ? new WebSocketAuthorizer(this, "ConnectAuthorizer", code, tables, api, config)
                : null;
        this.routes = new RouteFunctions(
                this, "Routes", code, tables, api, config, authorizer == null ? null : authorizer.authorizer());
        this.fanout = new FanoutFunction(this, "Fanout", code, tables, api, config);
        this.sweeper = config.sweeper() ? new LivenessSweeper(this, "Sweeper", code, tables, api, config) : null;
        this.http = config.httpApi() ? new SessionHttpApi(this, "Http", code, tables, api, config) : null;

        Map<String, JavaFunction> all = new LinkedHashMap<>();
        routes.byRoute().forEach((key, fn) -> all.put(RouteFunctions.constructId(key), fn));
        all.put("Fanout", fanout.function());
        if (sweeper != null) all.put("Sweeper", sweeper.function());
        if (authorizer != null) all.put("Authorizer", authorizer.function());
        if (cognito != null) all.put("CognitoTrigger", cognito.trigger());
        if (http != null) {
            all.put("HttpApi", http.function());
            if (http.authorizerFunction() != null) all.put("HttpAuthorizer", http.authorizerFunction());
        }
        // the value of the handlers' EMF dimension "Function" (runtime/Metrics), which the dashboard reads
        all.forEach((name, fn) -> fn.function().addEnvironment(Observability.FUNCTION_ENV, name));
        this.observability = new Observability(this, "Observability", config, api, all, fanout);

        CfnOutput.Builder.create(this, "WebSocketUrl")
                .description("what clients connect to (wss://…/{stage})")
                .value(api.webSocketUrl())
                .build();
        CfnOutput.Builder.create(this, "ManagementEndpoint")
                .description("API Gateway management API (@connections), the handlers' MANAGEMENT_ENDPOINT")
                .value(api.managementEndpoint())
                .build();
        if (http != null) {
            CfnOutput.Builder.create(this, "HttpApiUrl")
                    .description(
                            "the HTTP API for agents and back ends (Authorization: Bearer <jwt>): {url}/v1/sessions")
                    .value(http.url())
                    .build();
            if (http.iamApi() != null) {
                CfnOutput.Builder.create(this, "IamHttpApiUrl")
                        .description("the same HTTP API under IAM (SigV4) authorization: {url}/v1/sessions")
                        .value(http.iamApi().getApiEndpoint())
                        .build();
            }
        }
        if (cognito != null) {
            CfnOutput.Builder.create(this, "UserPoolId")
                    .description("the Cognito user pool (users, groups agent/client/viewer)")
                    .value(cognito.userPool().getUserPoolId())
                    .build();
            CfnOutput.Builder.create(this, "UserPoolClientId")
                    .description("the app client clients sign in with (SRP)")
                    .value(cognito.client().getUserPoolClientId())
                    .build();
            CfnOutput.Builder.create(this, "JwtIssuer")
                    .description("the issuer the authorizers trust")
                    .value(cognito.jwt().issuer())
                    .build();
        }
        for (var e : tables.all().entrySet()) {
            TableLayout layout = e.getKey();
            CfnOutput.Builder.create(this, layout.id() + "TableName")
                    .description("DynamoDB table " + layout.id() + " (env " + layout.envVar() + ")")
                    .value(e.getValue().getTableName())
                    .build();
        }
        CfnOutput.Builder.create(this, "FailedBatchesQueueUrl")
                .description("on-failure destination of the fan-out's stream mapping")
                .value(fanout.failures().getQueueUrl())
                .build();
    }

    public SessionTables tables() {
        return tables;
    }

    public WebSocketApi webSocket() {
        return api;
    }

    public RouteFunctions routes() {
        return routes;
    }

    public FanoutFunction fanout() {
        return fanout;
    }

    public LivenessSweeper sweeper() {
        return sweeper;
    }

    public WebSocketAuthorizer authorizer() {
        return authorizer;
    }

    public SessionHttpApi http() {
        return http;
    }

    public Observability observability() {
        return observability;
    }

    public CognitoAuth cognito() {
        return cognito;
    }
}
