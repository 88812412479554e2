package io.durablesessions.functions.auth;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayCustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.IamPolicyResponseV1;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The WebSocket API's {@code $connect} REQUEST authorizer. Takes the JWT from the query string
 * ({@code ?token=}) or from {@code Sec-WebSocket-Protocol} (browsers cannot set Authorization on
 * a WebSocket; the token is offered as a subprotocol and {@code $connect} echoes one back).
 * Allows with the verified principal in the context, or denies; never logs the token.
 */
public final class ConnectAuthorizer implements RequestHandler<APIGatewayCustomAuthorizerEvent, IamPolicyResponseV1> {
    private static final Logger LOG = Logger.getLogger(ConnectAuthorizer.class.getName());
    /** Subprotocol prefix a browser uses to carry its token: {@code Sec-WebSocket-Protocol: token.<jwt>, durable-sessions}. */
    public static final String TOKEN_PROTOCOL_PREFIX = "token.";

    public static final String CONTEXT_PRINCIPAL = "principal";
    /** Where the token is read from; set by the CDK stack from {@code -c authorizerIdentity}. */
    public static final String ENV_IDENTITY = "AUTHORIZER_IDENTITY";

    /** Where a connection's token travels: only there is it read (a token elsewhere is ignored). */
    public enum TokenSource {
        /** {@code ?token=<jwt>} (the default in AWS). */
        QUERYSTRING,
        /** The subprotocol offer {@code token.<jwt>} (browsers). */
        PROTOCOL,
        /** Either: the local stack, which serves Java clients and browsers from one endpoint. */
        EITHER;

        public static TokenSource fromEnvironment(Map<String, String> env) {
            String v = env.get(ENV_IDENTITY);
            if (v == null || v.equals("querystring")) return QUERYSTRING;
            if (v.equals("protocol")) return PROTOCOL;
            throw new IllegalArgumentException(ENV_IDENTITY + " must be querystring or protocol: " + v);
        }
    }

    private final TokenVerifier verifier;
    private final TokenSource source;

    public ConnectAuthorizer() {
        this(
                new TokenVerifier(AuthConfig.fromEnvironment(System.getenv())),
                TokenSource.fromEnvironment(System.getenv()));
    }

    public ConnectAuthorizer(TokenVerifier verifier, TokenSource source) {
        this.verifier = verifier;
        this.source = source;
    }

    @Override
    public IamPolicyResponseV1 handleRequest(APIGatewayCustomAuthorizerEvent event, Context context) {
        String token = tokenOf(source, event.getQueryStringParameters(), event.getHeaders());
        try {
            Principal p = verifier.verify(token);
            return IamPolicyResponseV1.builder()
                    .withPrincipalId(p.subject())
                    .withPolicyDocument(policy(IamPolicyResponseV1.ALLOW, event.getMethodArn()))
                    .withContext(Map.of(CONTEXT_PRINCIPAL, p.toJson()))
                    .build();
        } catch (TokenVerifier.InvalidToken e) {
            LOG.info("connect refused: " + e.getMessage()); // the reason, never the token
            Metrics.count(MetricName.AUTH_REFUSALS, 1);
            return IamPolicyResponseV1.builder()
                    .withPrincipalId("anonymous")
                    .withPolicyDocument(policy(IamPolicyResponseV1.DENY, event.getMethodArn()))
                    .build();
        }
    }

    /**
     * The principal this authorizer verified at {@code $connect}, as API Gateway passes it in the
     * request context of {@code $connect} and of every later message of the connection; null when
     * there is none (no authorizer in front).
     */
    public static Principal principalOf(Object requestContextAuthorizer) {
        if (!(requestContextAuthorizer instanceof Map<?, ?> m)) return null;
        Object json = m.get(CONTEXT_PRINCIPAL);
        return json instanceof String s ? Principal.fromJson(s) : null;
    }

    static String tokenOf(TokenSource source, Map<String, String> query, Map<String, String> headers) {
        if (source != TokenSource.PROTOCOL && query != null && query.get("token") != null) return query.get("token");
        if (source != TokenSource.QUERYSTRING && headers != null) {
            for (var h : headers.entrySet()) {
                if (!h.getKey().equalsIgnoreCase("Sec-WebSocket-Protocol") || h.getValue() == null) continue;
                for (String p : h.getValue().split(",")) {
                    String v = p.trim();
                    if (v.startsWith(TOKEN_PROTOCOL_PREFIX)) return v.substring(TOKEN_PROTOCOL_PREFIX.length());
                }
            }
        }
        return null;
    }

    private static IamPolicyResponseV1.PolicyDocument policy(String effect, String resource) {
        return IamPolicyResponseV1.PolicyDocument.builder()
                .withVersion(IamPolicyResponseV1.VERSION_2012_10_17)
                .withStatement(List.of(IamPolicyResponseV1.Statement.builder()
                        .withAction(IamPolicyResponseV1.EXECUTE_API_INVOKE)
                        .withEffect(effect)
                        .withResource(List.of(resource == null ? "*" : resource))
                        .build()))
                .build();
    }
}
