package io.durablesessions.local.apigateway;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Stands in for a REQUEST Lambda authorizer on the {@code $connect} route. It runs before the
 * {@code $connect} handler; a denied connection never reaches it. The context map of an allowed
 * connection is what API Gateway puts in {@code requestContext.authorizer} of every event of that
 * connection ({@code $connect}, messages and {@code $disconnect}).
 */
@FunctionalInterface
public interface Authorizer {

    Decision authorize(ConnectRequest request);

    /**
     * What an authorizer sees of the upgrade request.
     *
     * @param headers header name → values, looked up case-insensitively (HTTP header names are)
     * @param queryStringParameters query parameter name → values, in request order
     */
    record ConnectRequest(
            String connectionId,
            Map<String, List<String>> headers,
            Map<String, List<String>> queryStringParameters,
            String sourceIp) {

        /** The first value of a header, or null. */
        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        /** The last value of a query parameter (API Gateway's single-value rule), or null. */
        public String queryParameter(String name) {
            List<String> values = queryStringParameters.get(name);
            return values == null || values.isEmpty() ? null : values.get(values.size() - 1);
        }
    }

    sealed interface Decision permits Allow, Deny {}

    /** Let the connection through; {@code context} (principalId included if wanted) reaches the handlers. */
    record Allow(Map<String, Object> context) implements Decision {
        public Allow {
            context = Map.copyOf(Objects.requireNonNull(context, "context"));
        }
    }

    /** Refuse the upgrade: API Gateway answers 401 when the identity is missing, 403 when the policy denies. */
    record Deny(int statusCode) implements Decision {
        public Deny {
            if (statusCode < 400 || statusCode > 599) {
                throw new IllegalArgumentException("a denial needs a 4xx/5xx status, got " + statusCode);
            }
        }
    }

    static Decision allow(Map<String, Object> context) {
        return new Allow(context);
    }

    static Decision unauthorized() {
        return new Deny(401);
    }

    static Decision forbidden() {
        return new Deny(403);
    }
}
