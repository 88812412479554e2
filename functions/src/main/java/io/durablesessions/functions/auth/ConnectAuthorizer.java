package io.durablesessions.functions.auth;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayCustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.IamPolicyResponseV1;
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

    private final TokenVerifier verifier;

    public ConnectAuthorizer() {
        this(new TokenVerifier(AuthConfig.fromEnvironment(System.getenv())));
    }

    public ConnectAuthorizer(TokenVerifier verifier) {
        this.verifier = verifier;
    }

    @Override
    public IamPolicyResponseV1 handleRequest(APIGatewayCustomAuthorizerEvent event, Context context) {
        String token = tokenOf(event.getQueryStringParameters(), event.getHeaders());
        try {
            Principal p = verifier.verify(token);
            return IamPolicyResponseV1.builder().withPrincipalId(p.subject())
                    .withPolicyDocument(policy(IamPolicyResponseV1.ALLOW, event.getMethodArn()))
                    .withContext(Map.of(CONTEXT_PRINCIPAL, p.toJson())).build();
        } catch (TokenVerifier.InvalidToken e) {
            LOG.info("connect refused: " + e.getMessage()); // the reason, never the token
            Metrics.count("AuthRefusals", 1);
            return IamPolicyResponseV1.builder().withPrincipalId("anonymous")
                    .withPolicyDocument(policy(IamPolicyResponseV1.DENY, event.getMethodArn())).build();
        }
    }

    static String tokenOf(Map<String, String> query, Map<String, String> headers) {
        if (query != null && query.get("token") != null) return query.get("token");
        if (headers != null) {
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
        return IamPolicyResponseV1.PolicyDocument.builder().withVersion(IamPolicyResponseV1.VERSION_2012_10_17)
                .withStatement(List.of(IamPolicyResponseV1.Statement.builder().withAction(IamPolicyResponseV1.EXECUTE_API_INVOKE)
                        .withEffect(effect).withResource(List.of(resource == null ? "*" : resource)).build()))
                .build();
    }
}
