package io.durablesessions.lab.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.client.example.SimulatedAgent;
import io.durablesessions.events.Coalescing;
import io.durablesessions.events.Json;
import io.durablesessions.local.EmbeddedStack;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The demo chat under {@code /demo/}: serves the static files of {@code clients/web} (the page, its
 * script and the built web package under {@code dist/}) and {@code POST /demo/api/turn}, which starts
 * the simulated agent's reply to a user message the page has just appended (as a product's back end
 * dispatches its agent).
 * {@code GET /demo/api/config} tells the page the WebSocket URL and hands it a client token of the local
 * development issuer (loopback only; a real product gets the token from its own login).
 *
 * <p>The files are read from disk on every request (edit and reload): {@code DS_DEMO_DIR}, or the
 * first {@code clients/web} found from the working directory upwards.
 *
 * <p>Its token is for this machine only: requests must name a loopback host (a DNS-rebinding page
 * that resolves its own name to 127.0.0.1 is refused), an {@code Origin} must be this server, and a
 * turn must be a JSON request (which no cross-site form can send without asking first). At most
 * {@value #MAX_AGENTS} simulated agents run at once.
 */
public final class Demo implements AutoCloseable {
    private static final String AGENT = "demo-agent";
    /** The agent's one display name: its connection label, its agent.joined, the page. */
    static final String AGENT_LABEL = "Simulated agent";

    private static final String USER = "demo-user";
    private static final Pattern SESSION = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    static final int MAX_AGENTS = 50;
    private static final Map<String, String> TYPES = Map.of(
            "html",
            "text/html; charset=utf-8",
            "js",
            "text/javascript; charset=utf-8",
            "css",
            "text/css; charset=utf-8",
            "png",
            "image/png",
            "svg",
            "image/svg+xml",
            "json",
            "application/json");

    private final Path root;
    private final Map<String, SimulatedAgent> agents = new ConcurrentHashMap<>();
    private final int tokensPerSecond;
    private final int replyTokens;
    private volatile URI webSocketUrl;

    public Demo() {
        this.root = findRoot();
        this.tokensPerSecond = intEnv("DS_DEMO_TOKENS_PER_SECOND", 20);
        this.replyTokens = intEnv("DS_DEMO_REPLY_TOKENS", 80);
    }

    /** The Jetty handler to mount at {@code /demo}. */
    public Handler handler() {
        return new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return serve(request, response, callback);
            }
        };
    }

    /** Where the agents connect; call once the gateway is started. */
    public void start(URI webSocketUrl) {
        this.webSocketUrl = webSocketUrl;
    }

    public boolean available() {
        return root != null;
    }

    @Override
    public void close() {
        agents.values().forEach(SimulatedAgent::close);
        agents.clear();
    }

    private boolean serve(Request request, Response response, Callback callback) throws IOException {
        String path = request.getHttpURI().getDecodedPath();
        String method = request.getMethod();
        if (!fromThisMachine(request)) {
            return send(
                    response,
                    callback,
                    403,
                    "text/plain",
                    "the demo answers loopback requests to itself only".getBytes(StandardCharsets.UTF_8));
        }
        if (path.equals("/demo")) {
            response.setStatus(302);
            response.getHeaders().put(HttpHeader.LOCATION, "/demo/");
            callback.succeeded();
            return true;
        }
        if (path.equals("/demo/api/config")) {
            // local development only: anyone who can reach loopback gets a client token of the dev issuer
            URI ws = webSocketUrl;
            ObjectNode config = Json.object()
                    .put("webSocketUrl", String.valueOf(ws))
                    .put("httpApiUrl", "http://" + ws.getHost() + ":" + ws.getPort())
                    .put("token", EmbeddedStack.devToken(USER, "client"))
                    .put("user", USER);
            config.putObject("agent").put("id", AGENT).put("label", AGENT_LABEL);
            return send(
                    response,
                    callback,
                    200,
                    "application/json",
                    Json.write(config).getBytes(StandardCharsets.UTF_8));
        }
        if (path.equals("/demo/api/turn") && "POST".equals(method)) {
            String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
                return send(
                        response,
                        callback,
                        415,
                        "application/json",
                        "{\"error\":\"send application/json\"}".getBytes(StandardCharsets.UTF_8));
            }
            ObjectNode body;
            try {
                body = Json.parseObject(Content.Source.asString(request, StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                return send(
                        response,
                        callback,
                        400,
                        "application/json",
                        "{\"error\":\"bad json\"}".getBytes(StandardCharsets.UTF_8));
            }
            String session = body.path("sessionId").asText("");
            if (!SESSION.matcher(session).matches() || webSocketUrl == null) {
                return send(
                        response,
                        callback,
                        400,
                        "application/json",
                        "{\"error\":\"bad sessionId\"}".getBytes(StandardCharsets.UTF_8));
            }
            if (!agents.containsKey(session) && agents.size() >= MAX_AGENTS) {
                return send(
                        response,
                        callback,
                        429,
                        "application/json",
                        "{\"error\":\"too many demo sessions at once\"}".getBytes(StandardCharsets.UTF_8));
            }
            agents.computeIfAbsent(
                            session,
                            s -> new SimulatedAgent(
                                    webSocketUrl,
                                    () -> "token=" + EmbeddedStack.devToken(AGENT, "agent") + "&label="
                                            + URLEncoder.encode(AGENT_LABEL, StandardCharsets.UTF_8) + "&instance="
                                            + AGENT,
                                    s,
                                    AGENT,
                                    // the page posts each turn here: the agent need not read the session for them
                                    new SimulatedAgent.Options(
                                            tokensPerSecond,
                                            replyTokens,
                                            Coalescing.DEFAULT_WINDOW,
                                            AGENT_LABEL,
                                            false)))
                    .respond(body.path("text").asText(""));
            return send(response, callback, 202, "application/json", "{\"ok\":true}".getBytes(StandardCharsets.UTF_8));
        }
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            return send(response, callback, 405, "text/plain", "method not allowed".getBytes(StandardCharsets.UTF_8));
        }
        if (root == null) {
            return send(
                    response,
                    callback,
                    404,
                    "text/plain",
                    "demo files not found: set DS_DEMO_DIR to the clients/web folder".getBytes(StandardCharsets.UTF_8));
        }
        String rel = path.substring("/demo/".length());
        if (rel.isEmpty()) rel = "index.html";
        Path file = root.resolve(rel).normalize();
        if (!file.startsWith(root)
                || rel.startsWith("node_modules")
                || rel.startsWith("test")
                || !Files.isRegularFile(file)) {
            return send(response, callback, 404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
        }
        String name = file.getFileName().toString();
        String ext = name.substring(name.lastIndexOf('.') + 1);
        return send(
                response, callback, 200, TYPES.getOrDefault(ext, "application/octet-stream"), Files.readAllBytes(file));
    }

    /** The Host names this server (loopback, its port); an Origin, when sent, is this server too. */
    private boolean fromThisMachine(Request request) {
        URI ws = webSocketUrl;
        if (ws == null) return false;
        int port = ws.getPort();
        Set<String> hosts = Set.of("127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port);
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (host == null || !hosts.contains(host.toLowerCase(Locale.ROOT))) return false;
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        return origin == null || hosts.stream().anyMatch(h -> origin.equalsIgnoreCase("http://" + h));
    }

    private static boolean send(Response response, Callback callback, int status, String type, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    private static Path findRoot() {
        String env = System.getenv("DS_DEMO_DIR");
        if (env != null && Files.isRegularFile(Path.of(env, "index.html")))
            return Path.of(env).toAbsolutePath().normalize();
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("clients/web");
            if (Files.isRegularFile(candidate.resolve("index.html"))) return candidate.normalize();
            dir = dir.getParent();
        }
        return null;
    }

    private static int intEnv(String name, int fallback) {
        try {
            String v = System.getenv(name);
            return v == null ? fallback : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
