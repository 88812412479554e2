package io.durablesessions.lab.bench;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.DurableSessionException;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.Event;
import io.durablesessions.local.EmbeddedStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * The benchmarks' clients are the Java SDK's: agents are {@link DurableAgent}s, readers
 * {@link SessionSubscriber}s, identified by development tokens of the local issuer. One JDK HTTP
 * client (virtual threads) serves them all, so a thousand readers do not mean a thousand clients.
 */
public final class SdkClients {
    public static final HttpClient HTTP = HttpClient.newBuilder()
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();

    private SdkClients() {}

    /** An agent {@code id} of the session over the WebSocket; its producer is {@code id-p}. */
    public static DurableAgent.Builder agent(URI webSocketUrl, String sessionId, String id) {
        return DurableAgent.builder(webSocketUrl, sessionId, id + "-p")
                .httpClient(HTTP)
                .connectQuery(() -> "token=" + EmbeddedStack.devToken(id, "agent") + "&instance=" + id);
    }

    /** An agent {@code id} of the session over the HTTP API (its base URL). */
    public static DurableAgent.Builder httpAgent(URI httpApiUrl, String sessionId, String id) {
        return DurableAgent.builder(httpApiUrl, sessionId, id + "-p")
                .httpClient(HTTP)
                .bearerToken(() -> EmbeddedStack.devToken(id, "agent"));
    }

    /**
     * A user {@code id}'s reader of the whole session: {@code onEvent} gets each event once, in seq order (on
     * the socket's thread, as it arrives); {@code connected} completes once its first subscription is done.
     */
    public static SessionSubscriber.Builder reader(
            URI webSocketUrl, String sessionId, String id, Consumer<Event> onEvent, CompletableFuture<Void> connected) {
        return SessionSubscriber.builder(webSocketUrl, sessionId)
                .httpClient(HTTP)
                .connectQuery(() -> "token=" + EmbeddedStack.devToken(id, "client") + "&instance=" + id)
                .listener(new SessionSubscriber.Listener() {
                    @Override
                    public void onEvent(Event event) {
                        onEvent.accept(event);
                    }

                    @Override
                    public void onConnected() {
                        connected.complete(null);
                    }

                    @Override
                    public void onFailed(DurableSessionException error) {
                        connected.completeExceptionally(error);
                    }
                });
    }
}
