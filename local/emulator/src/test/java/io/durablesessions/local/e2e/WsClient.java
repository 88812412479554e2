package io.durablesessions.local.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A real WebSocket client (the JDK's) that records every frame it receives. */
public final class WsClient implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final AtomicInteger REQUESTS = new AtomicInteger();

    final List<ObjectNode> frames = new CopyOnWriteArrayList<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final WebSocket socket;

    private WsClient(URI uri) {
        socket = HTTP.newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(30))
                .buildAsync(uri, new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            frames.add(Json.parseObject(partial.toString()));
                            partial.setLength(0);
                        }
                        ws.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                        closed.complete(statusCode);
                        return null;
                    }

                    @Override
                    public void onError(WebSocket ws, Throwable error) {
                        closed.complete(-1);
                    }
                })
                .join();
    }

    /**
     * Connects as {@code id} with {@code role} (from the query, default client) holding a local
     * development token with that role's rights on every session; other query parameters
     * (instance, label, surface) pass through. {@code token=} in the query is used as given.
     */
    public static WsClient connect(URI base, String query) {
        return new WsClient(URI.create(base + "?" + withToken(query)));
    }

    static WsClient connectRaw(URI base, String query) {
        return new WsClient(URI.create(base + (query.isEmpty() ? "" : "?" + query)));
    }

    static String withToken(String query) {
        if (query.contains("token=")) return query;
        String id = null;
        String role = "client";
        StringBuilder rest = new StringBuilder();
        for (String kv : query.split("&")) {
            if (kv.startsWith("id=")) id = kv.substring(3);
            else if (kv.startsWith("role=")) role = kv.substring(5);
            else if (!kv.isEmpty()) rest.append('&').append(kv);
        }
        if (id == null) id = "anon-" + REQUESTS.incrementAndGet();
        return "token=" + io.durablesessions.local.EmbeddedStack.devToken(id, role) + rest;
    }

    /** One frame at a time: the JDK's WebSocket refuses a send while another is pending. */
    synchronized void send(String frame) {
        socket.sendText(frame, true).join();
    }

    /** Sends a frame carrying a fresh requestId and waits for the frame that answers it. */
    public ObjectNode request(ObjectNode frame) {
        String id = "q" + REQUESTS.incrementAndGet();
        frame.put("requestId", id);
        send(Json.write(frame));
        return await(
                f -> id.equals(f.path("requestId").asText())
                        && !"snapshot".equals(f.path("type").asText()),
                Duration.ofSeconds(30));
    }

    /** The first frame received that matches; fails once {@code timeout} passed or the connection closed without one. */
    ObjectNode await(Predicate<ObjectNode> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean gone = closed.isDone();
            for (ObjectNode f : frames) if (match.test(f)) return f;
            if (gone)
                throw new IllegalStateException(
                        "the connection closed (" + closed.join() + ") without a matching frame");
            sleep(2);
        }
        throw new AssertionError("no matching frame within " + timeout + "; got " + frames.size() + " frames");
    }

    List<ObjectNode> framesOfType(String type) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode f : frames) if (type.equals(f.path("type").asText())) out.add(f);
        return out;
    }

    /** The seqs of every event received in {@code events} frames, raw (duplicates included). */
    List<Long> rawSeqs() {
        List<Long> seqs = new ArrayList<>();
        for (ObjectNode f : framesOfType("events"))
            f.get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
        return seqs;
    }

    /** A network cut: the socket is dropped without a close frame. */
    public void abort() {
        socket.abort();
    }

    int awaitClose(Duration timeout) throws Exception {
        return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed())
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
        socket.abort();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
