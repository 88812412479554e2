package io.durablesessions.local.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A real WebSocket client (the JDK's) for benchmarks and the chaos suite. It counts what API
 * Gateway bills (messages each way, in 32 KB units), matches answers to requests by
 * {@code requestId}, and hands every other frame to a listener with its arrival time.
 */
public final class BenchClient implements AutoCloseable {
    /** API Gateway meters WebSocket messages in 32 KB increments. */
    public static final int BILLING_UNIT_BYTES = 32 * 1024;

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    private static final AtomicLong REQUESTS = new AtomicLong();

    /** A received frame: parsed, with its arrival time ({@link System#nanoTime()}) and its size. */
    public record Frame(ObjectNode json, long receivedNanos, int bytes) {
        public String type() {
            return json.path("type").asText();
        }
    }

    public final String name;
    public final AtomicLong messagesIn = new AtomicLong();
    public final AtomicLong unitsIn = new AtomicLong();
    public final AtomicLong messagesOut = new AtomicLong();
    public final AtomicLong unitsOut = new AtomicLong();
    public final CompletableFuture<Integer> closed = new CompletableFuture<>();
    public final AtomicLong listenerFailures = new AtomicLong();

    private final Map<String, CompletableFuture<Frame>> pending = new ConcurrentHashMap<>();
    private final ReentrantLock sendLock = new ReentrantLock();
    private volatile Consumer<Frame> listener;
    private final WebSocket socket;
    private final long openedNanos = System.nanoTime();

    private BenchClient(String name, URI uri, Consumer<Frame> listener, Duration timeout) {
        this.name = name;
        this.listener = listener;
        this.socket = HTTP.newWebSocketBuilder().connectTimeout(timeout)
                .buildAsync(uri, new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        try {
                            partial.append(data);
                            if (last) {
                                String text = partial.toString();
                                partial.setLength(0);
                                received(text);
                            }
                        } catch (RuntimeException | Error e) {
                            // never stop reading because a listener failed: count it and go on
                            listenerFailures.incrementAndGet();
                            System.err.println(BenchClient.this.name + ": listener failed: " + e);
                        } finally {
                            ws.request(1);
                        }
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                        ended(statusCode);
                        return null;
                    }

                    @Override
                    public void onError(WebSocket ws, Throwable error) {
                        ended(-1);
                    }
                }).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /**
     * Connects as {@code name} with {@code role}; {@code listener} receives every frame that does not
     * answer a pending request (events, snapshots, unsolicited errors). Throws if the handshake fails.
     */
    public static BenchClient connect(URI base, String name, String role, Consumer<Frame> listener) {
        // identity comes from a token of the local development issuer (full rights of the role)
        String token = io.durablesessions.local.LocalStack.devToken(name, role);
        return new BenchClient(name, URI.create(base + "?token=" + token), listener, Duration.ofSeconds(10));
    }

    public void listener(Consumer<Frame> l) {
        this.listener = l;
    }

    private void received(String text) {
        long now = System.nanoTime();
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        messagesIn.incrementAndGet();
        unitsIn.addAndGet(units(bytes));
        ObjectNode json;
        try {
            json = Json.parseObject(text);
        } catch (RuntimeException e) {
            return;
        }
        Frame f = new Frame(json, now, bytes);
        String type = f.type();
        String rid = json.path("requestId").asText(null);
        // snapshot parts and catch-up frames carry no requestId (or precede the answer): the listener gets them
        if (rid != null && !"snapshot".equals(type) && !"events".equals(type)) {
            CompletableFuture<Frame> p = pending.remove(rid);
            if (p != null) {
                p.complete(f);
                return;
            }
        }
        Consumer<Frame> l = listener;
        if (l != null) l.accept(f);
    }

    private void ended(int status) {
        closed.complete(status);
        pending.values().forEach(p -> p.completeExceptionally(new IllegalStateException("connection closed")));
        pending.clear();
    }

    public boolean isOpen() {
        return !closed.isDone() && !socket.isOutputClosed() && !socket.isInputClosed();
    }

    public static long units(int bytes) {
        return Math.max(1, (bytes + BILLING_UNIT_BYTES - 1) / BILLING_UNIT_BYTES);
    }

    /** Sends one text frame (one at a time: the JDK client refuses overlapping sends). */
    public void send(String text) {
        sendLock.lock();
        try {
            socket.sendText(text, true).get(10, TimeUnit.SECONDS);
            messagesOut.incrementAndGet();
            unitsOut.addAndGet(units(text.getBytes(StandardCharsets.UTF_8).length));
        } catch (Exception e) {
            throw new IllegalStateException(name + ": send failed: " + e, e);
        } finally {
            sendLock.unlock();
        }
    }

    /** Sends {@code frame} with a fresh requestId; the future completes with the answer. */
    public CompletableFuture<Frame> request(ObjectNode frame) {
        String id = name + "-" + REQUESTS.incrementAndGet();
        frame.put("requestId", id);
        CompletableFuture<Frame> f = new CompletableFuture<>();
        pending.put(id, f);
        if (closed.isDone()) {
            pending.remove(id);
            f.completeExceptionally(new IllegalStateException("connection closed"));
            return f;
        }
        try {
            send(Json.write(frame));
        } catch (RuntimeException e) {
            pending.remove(id);
            f.completeExceptionally(e);
        }
        return f;
    }

    /** {@link #request} and wait. */
    public Frame call(ObjectNode frame, Duration timeout) {
        try {
            return request(frame).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(name + ": no answer to " + frame.path("action").asText() + ": " + e, e);
        }
    }

    /** Forgets a pending request (its answer, if it ever comes, goes to the listener). */
    public void forget(String requestId) {
        pending.remove(requestId);
    }

    public double connectedMinutes() {
        return (System.nanoTime() - openedNanos) / 60e9;
    }

    /** A network cut from the client side: no close frame. */
    public void abort() {
        socket.abort();
        ended(-1);
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // closing anyway
            }
        }
        socket.abort();
        ended(1000);
    }

    public static ObjectNode subscribe(String sessionId, long afterSeq) {
        return Json.object().put("action", "subscribe").put("sessionId", sessionId).put("afterSeq", afterSeq);
    }

    public static ObjectNode hydrate(String sessionId) {
        return Json.object().put("action", "subscribe").put("sessionId", sessionId).put("hydrate", true);
    }
}
