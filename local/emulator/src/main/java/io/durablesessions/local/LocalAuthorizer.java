package io.durablesessions.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayCustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.IamPolicyResponseV1;
import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.local.apigateway.Authorizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the real {@link ConnectAuthorizer} Lambda the way API Gateway does: builds its REQUEST
 * event from the upgrade request, reads the policy's effect, and passes the context on.
 */
final class LocalAuthorizer implements Authorizer {
    private final ConnectAuthorizer handler;
    private final String stage;

    LocalAuthorizer(ConnectAuthorizer handler, String stage) {
        this.handler = handler;
        this.stage = stage;
    }

    @Override
    public Decision authorize(ConnectRequest request) {
        Map<String, String> headers = new HashMap<>();
        request.headers().forEach((k, v) -> headers.put(k, String.join(",", v)));
        Map<String, String> query = new HashMap<>();
        request.queryStringParameters().forEach((k, v) -> query.put(k, v.get(v.size() - 1)));
        APIGatewayCustomAuthorizerEvent event = APIGatewayCustomAuthorizerEvent.builder()
                .withType("REQUEST")
                .withMethodArn("arn:aws:execute-api:local:000000000000:local/" + stage + "/$connect")
                .withHeaders(headers)
                .withQueryStringParameters(query)
                .build();
        IamPolicyResponseV1 policy = handler.handleRequest(event, null);
        if (!allowed(policy)) return Authorizer.unauthorized();
        Map<String, Object> context = new HashMap<>(policy.getContext() == null ? Map.of() : policy.getContext());
        context.put("principalId", policy.getPrincipalId());
        return Authorizer.allow(context);
    }

    @SuppressWarnings("unchecked")
    private static boolean allowed(IamPolicyResponseV1 policy) {
        Object statements = policy.getPolicyDocument().get("Statement");
        List<?> list =
                statements instanceof Object[] array ? List.of(array) : statements instanceof List<?> l ? l : List.of();
        if (list.isEmpty()) return false;
        for (Object st : list) {
            Map<String, Object> m = st instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
            if (!IamPolicyResponseV1.ALLOW.equals(m.get("Effect"))) return false;
        }
        return true;
    }
}
