package io.durablesessions.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One WebSocket connection (the JDK's client): JSON frames in and out, answers matched to
 * requests by {@code requestId}. Sends are serialized (the JDK allows one outstanding send) and a
 * message larger than one API Gateway frame (32 KB) is sent as several frames. Reconnecting is
 * the owner's business: a closed connection is never reopened.
 */
final class WsConnection {
    /** Characters per frame: at most 3 UTF-8 bytes each, so a frame stays under 32 KB. */
    static final int CHARS_PER_FRAME = 10_000;

    private static final AtomicLong IDS = new AtomicLong();
    private static final Set<String> ANSWERS = Set.of("ack", "error", "subscribed", "pong", "unsubscribed");

    /** Thrown into pending requests when the connection goes away before the answer came. */
    static final class ConnectionLost extends RuntimeException {
        ConnectionLost(String why) {
            super(why, null, false, false);
        }
    }

    private final String prefix = "j" + Long.toString(IDS.incrementAndGet(), 36) + "-";
    private final AtomicLong requests = new AtomicLong();
    private final Map<String, CompletableFuture<ObjectNode>> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Consumer<ObjectNode> onFrame;
    private final Consumer<WsConnection> onClosed;
    private final Predicate<ObjectNode> deliver;
    private final long openedNanos = System.nanoTime();
    private volatile WebSocket socket;

    private WsConnection(Consumer<ObjectNode> onFrame, Consumer<WsConnection> onClosed, Predicate<ObjectNode> deliver) {
        this.onFrame = onFrame;
        this.onClosed = onClosed;
        this.deliver = deliver;
    }

    /** Opens a connection; frames that are not answers go to {@code onFrame}, on the socket's thread. */
    static WsConnection open(
            HttpClient http,
            URI uri,
            Duration timeout,
            Consumer<ObjectNode> onFrame,
            Consumer<WsConnection> onClosed,
            Predicate<ObjectNode> deliver) {
        WsConnection c = new WsConnection(onFrame, onClosed, deliver);
        try {
            c.socket = http.newWebSocketBuilder()
                    .connectTimeout(timeout)
                    .buildAsync(uri, c.listener())
                    .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionLost("interrupted while connecting");
        } catch (Exception e) {
            throw new ConnectionLost("cannot connect to " + redact(uri) + ": " + rootMessage(e));
        }
        return c;
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    String text = partial.toString();
                    partial.setLength(0);
                    try {
                        dispatch(Json.parseObject(text));
                    } catch (RuntimeException e) {
                        // a frame we cannot read is skipped; the client rule repairs any gap
                    }
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                gone("closed " + statusCode + " " + reason);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                gone("error " + rootMessage(error));
            }
        };
    }

    private void dispatch(ObjectNode frame) {
        if (!deliver.test(frame)) return; // fault injection: the frame is "lost"
        String type = frame.path("type").asText();
        String requestId = frame.path("requestId").asText(null);
        if (requestId != null && ANSWERS.contains(type)) {
            CompletableFuture<ObjectNode> f = pending.remove(requestId);
            if (f != null) {
                f.complete(frame);
                if (!"subscribed".equals(type)) return;
            }
        }
        onFrame.accept(frame);
    }

    private void gone(String why) {
        if (!closed.compareAndSet(false, true)) return;
        ConnectionLost lost = new ConnectionLost(why);
        pending.values().forEach(f -> f.completeExceptionally(lost));
        pending.clear();
        WebSocket s = socket;
        if (s != null) s.abort();
        onClosed.accept(this);
    }

    boolean isOpen() {
        return !closed.get();
    }

    Duration age() {
        return Duration.ofNanos(System.nanoTime() - openedNanos);
    }

    /** Sends one frame; throws {@link ConnectionLost} when the connection is gone. */
    void send(ObjectNode frame) {
        String text = Json.write(frame);
        synchronized (this) {
            if (closed.get()) throw new ConnectionLost("connection closed");
            try {
                if (text.length() <= CHARS_PER_FRAME) {
                    socket.sendText(text, true).get(30, TimeUnit.SECONDS);
                } else {
                    int at = 0;
                    while (at < text.length()) {
                        int end = Math.min(text.length(), at + CHARS_PER_FRAME);
                        if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end--;
                        socket.sendText(text.substring(at, end), end == text.length())
                                .get(30, TimeUnit.SECONDS);
                        at = end;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort();
                throw new ConnectionLost("interrupted while sending");
            } catch (Exception e) {
                abort();
                throw new ConnectionLost("send failed: " + rootMessage(e));
            }
        }
    }

    /**
     * Sends a frame with a fresh {@code requestId} and returns its answer ({@code ack},
     * {@code error}, {@code subscribed}, {@code pong}); fails with {@link ConnectionLost} if the
     * connection goes away first. The caller applies its own timeout.
     */
    CompletableFuture<ObjectNode> request(ObjectNode frame) {
        String id = prefix + requests.incrementAndGet();
        frame.put("requestId", id);
        CompletableFuture<ObjectNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        if (closed.get()) {
            pending.remove(id);
            answer.completeExceptionally(new ConnectionLost("connection closed"));
            return answer;
        }
        try {
            send(frame);
        } catch (ConnectionLost e) {
            pending.remove(id);
            answer.completeExceptionally(e);
        }
        return answer;
    }

    /** Polite close (close frame), then the socket is dropped. */
    void close() {
        WebSocket s = socket;
        if (s != null && !s.isOutputClosed()) {
            try {
                s.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // dropping it anyway
            }
        }
        gone("closed by the client");
    }

    /** A network cut, for tests and for giving up on a stuck socket. */
    void abort() {
        WebSocket s = socket;
        if (s != null) s.abort();
        gone("aborted");
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /** The URL without its query (which may carry a token). */
    static String redact(URI uri) {
        String s = uri.toString();
        int q = s.indexOf('?');
        return q < 0 ? s : s.substring(0, q) + "?…";
    }

    static URI connectUri(URI base, Supplier<String> query) {
        String q = query == null ? null : query.get();
        if (q == null || q.isEmpty()) return base;
        if (q.startsWith("?")) q = q.substring(1);
        return URI.create(base + (base.toString().contains("?") ? "&" : "?") + q);
    }
}
