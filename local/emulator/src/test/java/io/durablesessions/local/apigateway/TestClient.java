package io.durablesessions.local.apigateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A browser-like client on the JDK's WebSocket: collects whole text messages and the close code. */
final class TestClient implements WebSocket.Listener, AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    /** Length of every text fragment received (the JDK may split frames further, never join them). */
    final List<Integer> fragmentLengths = new CopyOnWriteArrayList<>();
    /** The close code the server sent, or -1 when the connection broke without a close frame. */
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

    private final StringBuilder partial = new StringBuilder();
    WebSocket socket;

    static TestClient connect(URI uri) {
        return connect(uri, Map.of()).join();
    }

    static CompletableFuture<TestClient> connect(URI uri, Map<String, String> headers, String... subprotocols) {
        TestClient client = new TestClient();
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
        headers.forEach(builder::header);
        if (subprotocols.length > 0) {
            builder.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
        }
        return builder.buildAsync(uri, client).thenApply(ws -> {
            client.socket = ws;
            return client;
        });
    }

    void send(String text) {
        socket.sendText(text, true).join();
    }

    String nextMessage() throws InterruptedException {
        // generous: the bound only says when to give up, and a busy machine can be slow
        String message = messages.poll(30, TimeUnit.SECONDS);
        assertThat(message).as("a message from the server within 30 s").isNotNull();
        return message;
    }

    int awaitCloseCode() throws Exception {
        return closeCode.get(30, TimeUnit.SECONDS);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        fragmentLengths.add(data.length());
        partial.append(data);
        if (last) {
            messages.add(partial.toString());
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeCode.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closeCode.complete(-1);
    }

    @Override
    public void close() {
        if (socket != null && !socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
        }
    }
}
