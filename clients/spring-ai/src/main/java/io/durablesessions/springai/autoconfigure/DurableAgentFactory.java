package io.durablesessions.springai.autoconfigure;

import io.durablesessions.client.ControlEvent;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.RunControls;
import io.durablesessions.springai.SessionAgent;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Makes the {@link DurableAgent}s of this application from its {@code durable-sessions.*}
 * properties: the URL (WebSocket or HTTP API, by scheme), the token, the producer id and timings.
 *
 * <pre>{@code
 * try (SessionAgent agent = agents.connect("chat-42")) {
 *     DurableAgent.Run run = agent.startRun("run-1");
 *     agent.reply(run, "m-1").build().stream(chatClient.prompt().user(question).stream()).join();
 *     run.complete();
 * }
 * }</pre>
 */
public final class DurableAgentFactory {
    private final DurableSessionsProperties properties;
    private final Supplier<String> token;

    public DurableAgentFactory(DurableSessionsProperties properties, Supplier<String> token) {
        this.properties = Objects.requireNonNull(properties);
        this.token = Objects.requireNonNull(token);
        if (properties.url() == null) throw new IllegalArgumentException("durable-sessions.url is required");
        String scheme = properties.url().getScheme() == null
                ? ""
                : properties.url().getScheme().toLowerCase(Locale.ROOT);
        if (!Set.of("ws", "wss", "http", "https").contains(scheme)) {
            throw new IllegalArgumentException(
                    "durable-sessions.url must be ws://, wss:// (WebSocket), http:// or https:// (HTTP API): "
                            + properties.url());
        }
    }

    public DurableSessionsProperties properties() {
        return properties;
    }

    /** A builder with the properties applied, for anything more (epoch, backoff, …); the producer id is the configured one. */
    public DurableAgent.Builder builder(String sessionId) {
        return builder(sessionId, properties.producerId());
    }

    /** A builder with the properties applied and another producer id (one per concurrent writer of a session). */
    public DurableAgent.Builder builder(String sessionId, String producerId) {
        URI url = properties.url();
        DurableAgent.Builder b = DurableAgent.builder(url, sessionId, producerId)
                .coalesceWindow(properties.coalesceWindow())
                .heartbeatInterval(properties.heartbeatInterval())
                .requestTimeout(properties.requestTimeout());
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.startsWith("http")) {
            b.bearerToken(token);
        } else {
            b.connectQuery(() -> {
                String t = token.get();
                String instance = "instance=" + encode(producerId);
                return t == null || t.isEmpty() ? instance : "token=" + encode(t) + "&" + instance;
            });
        }
        return b;
    }

    /** Connects an agent for {@code sessionId} whose runs' streams stop when a client stops them. */
    public SessionAgent connect(String sessionId) {
        return connect(sessionId, e -> {});
    }

    /** As {@link #connect(String)}; {@code onControl} (the application's own handler) sees every control event too. */
    public SessionAgent connect(String sessionId, Consumer<ControlEvent> onControl) {
        RunControls controls = new RunControls(onControl);
        return new SessionAgent(builder(sessionId).onControl(controls).connect(), controls);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
