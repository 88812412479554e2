package io.durablesessions.functions.auth;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2CustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.SimpleIAMPolicyResponse;
import io.durablesessions.functions.runtime.MetricName;
import io.durablesessions.functions.runtime.Metrics;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The HTTP API's Lambda authorizer (payload 2.0, simple responses): verifies the
 * {@code Authorization: Bearer <jwt>} header with the same {@link TokenVerifier} as the
 * WebSocket's {@code $connect} authorizer and hands the verified principal to the route function
 * in the authorizer context. API Gateway caches the verdict per header value, so the principal
 * carries the token's expiry and the function refuses it once passed. Never logs the token.
 */
public final class HttpAuthorizer
        implements RequestHandler<APIGatewayV2CustomAuthorizerEvent, SimpleIAMPolicyResponse> {
    private static final Logger LOG = Logger.getLogger(HttpAuthorizer.class.getName());
    /** The authorizer context key the route function reads ({@code requestContext.authorizer.lambda.principal}). */
    public static final String CONTEXT_PRINCIPAL = ConnectAuthorizer.CONTEXT_PRINCIPAL;

    private final TokenVerifier verifier;

    public HttpAuthorizer() {
        this(new TokenVerifier(AuthConfig.fromEnvironment(System.getenv())));
    }

    public HttpAuthorizer(TokenVerifier verifier) {
        this.verifier = verifier;
    }

    @Override
    public SimpleIAMPolicyResponse handleRequest(APIGatewayV2CustomAuthorizerEvent event, Context context) {
        try {
            Principal p = verifier.verify(bearer(event.getHeaders()));
            return new SimpleIAMPolicyResponse(true, Map.of(CONTEXT_PRINCIPAL, p.toJson()));
        } catch (TokenVerifier.InvalidToken e) {
            LOG.info("HTTP request refused by the authorizer: " + e.getMessage()); // the reason, never the token
            Metrics.count(MetricName.AUTH_REFUSALS, 1);
            return new SimpleIAMPolicyResponse(false, Map.of());
        }
    }

    /** The token of an {@code Authorization: Bearer <token>} header (any header-name case), or null. */
    public static String bearer(Map<String, String> headers) {
        if (headers == null) return null;
        for (var h : headers.entrySet()) {
            if (!h.getKey().equalsIgnoreCase("authorization") || h.getValue() == null) continue;
            String v = h.getValue().trim();
            return v.regionMatches(true, 0, "Bearer ", 0, 7) ? v.substring(7).trim() : null;
        }
        return null;
    }
}
