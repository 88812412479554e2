package io.durablesessions.functions.http;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTP API's routes: one list, read by {@link HttpApiHandler} (dispatch), the local stack
 * (route keys for the events it builds), the CDK stack (one API Gateway route each) and the test
 * that holds {@code docs/openapi.yaml} to it.
 */
public final class HttpRoutes {
    private HttpRoutes() {}

    public enum Op {
        CREATE_SESSION,
        LIST_SESSIONS,
        GET_SESSION,
        DELETE_SESSION,
        APPEND_EVENTS,
        READ_EVENTS,
        SNAPSHOT,
        CONTROL_RUN,
        ACK_CONTROL,
        HEARTBEAT,
        REVOKE
    }

    /** {@code method} and a path template with {@code {param}} segments, as API Gateway spells route keys. */
    public record Route(String method, String path, Op op) {
        public String routeKey() {
            return method + " " + path;
        }
    }

    public static final List<Route> ALL = List.of(
            new Route("POST", "/v1/sessions", Op.CREATE_SESSION),
            new Route("GET", "/v1/sessions", Op.LIST_SESSIONS),
            new Route("GET", "/v1/sessions/{sessionId}", Op.GET_SESSION),
            new Route("DELETE", "/v1/sessions/{sessionId}", Op.DELETE_SESSION),
            new Route("POST", "/v1/sessions/{sessionId}/events", Op.APPEND_EVENTS),
            new Route("GET", "/v1/sessions/{sessionId}/events", Op.READ_EVENTS),
            new Route("GET", "/v1/sessions/{sessionId}/snapshot", Op.SNAPSHOT),
            new Route("POST", "/v1/sessions/{sessionId}/runs/{runId}/control", Op.CONTROL_RUN),
            new Route("POST", "/v1/sessions/{sessionId}/runs/{runId}/ack", Op.ACK_CONTROL),
            new Route("POST", "/v1/sessions/{sessionId}/runs/{runId}/heartbeat", Op.HEARTBEAT),
            new Route("POST", "/v1/admin/revocations", Op.REVOKE));

    /** A matched request: the route and its path parameters. */
    public record Match(Route route, Map<String, String> pathParameters) {}

    /** What a method and path resolve to: a match, a known path with another method, or nothing. */
    public sealed interface Resolution {}

    public record Found(Match match) implements Resolution {}

    public record MethodNotAllowed(List<String> allowed) implements Resolution {}

    public record NotFound() implements Resolution {}

    public static Resolution resolve(String method, String path) {
        List<String> allowed = new ArrayList<>();
        for (Route r : ALL) {
            Map<String, String> params = match(r.path(), path);
            if (params == null) continue;
            if (r.method().equalsIgnoreCase(method)) return new Found(new Match(r, params));
            allowed.add(r.method());
        }
        return allowed.isEmpty() ? new NotFound() : new MethodNotAllowed(allowed);
    }

    public static Route byRouteKey(String routeKey) {
        for (Route r : ALL) if (r.routeKey().equals(routeKey)) return r;
        return null;
    }

    /** Path parameters when {@code path} fits {@code template}, else null. A parameter is one non-empty segment. */
    static Map<String, String> match(String template, String path) {
        if (path == null) return null;
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        String[] t = template.split("/");
        String[] s = p.split("/", -1);
        if (t.length != s.length) return null;
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < t.length; i++) {
            if (t[i].startsWith("{") && t[i].endsWith("}")) {
                if (s[i].isEmpty()) return null;
                params.put(t[i].substring(1, t[i].length() - 1), s[i]);
            } else if (!t[i].equals(s[i])) {
                return null;
            }
        }
        return params;
    }
}
