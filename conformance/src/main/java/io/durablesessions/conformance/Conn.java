package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * One WebSocket connection of a case (the JDK's client): records every frame it receives, in
 * order, and its close status; waits on conditions with deadlines, never on sleeps.
 */
final class Conn {
    /** A received frame: its position on this connection, the text, and the object it holds (null if none). */
    record Frame(int index, String text, ObjectNode json) {
        String type() {
            return json == null ? null : json.path("type").asText(null);
        }

        String requestId() {
            return json == null ? null : json.path("requestId").asText(null);
        }
    }

    /** The handshake was refused with this HTTP status. */
    static final class HandshakeRefused extends Exception {
        final int status;

        HandshakeRefused(int status) {
            super("handshake refused with HTTP " + status, null, false, false);
            this.status = status;
        }
    }

    final String name;
    private final List<Frame> frames = new ArrayList<>();
    private Integer closeCode;
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;
    /** Sends are serialized on their own lock, so a slow send never holds up the receiving side. */
    private final Object sendLock = new Object();
    /** Session → the seq the client rule starts from on this connection (afterSeq, or a hydrate's headSeq). */
    final Map<String, Long> starts = new ConcurrentHashMap<>();
    /** A request's name in the case → the requestId sent. */
    final Map<String, String> requests = new ConcurrentHashMap<>();
    /** requestId → the frame sent with it. */
    final Map<String, ObjectNode> sentFrames = new ConcurrentHashMap<>();
    /** requestId → index of the first frame received after it was sent. */
    final Map<String, Integer> sentAt = new ConcurrentHashMap<>();

    private Conn(String name) {
        this.name = name;
    }

    static Conn open(HttpClient http, String name, URI uri, List<String> subprotocols, Duration timeout)
            throws HandshakeRefused {
        Conn c = new Conn(name);
        WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(timeout);
        if (!subprotocols.isEmpty()) {
            b.subprotocols(
                    subprotocols.get(0),
                    subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
        }
        try {
            c.socket = b.buildAsync(uri, c.listener()).get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
            return c;
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            while (cause != null && !(cause instanceof WebSocketHandshakeException) && cause.getCause() != null)
                cause = cause.getCause();
            if (cause instanceof WebSocketHandshakeException h)
                throw new HandshakeRefused(h.getResponse().statusCode());
            throw new CaseFailure("cannot connect " + name + " to " + redact(uri) + ": " + e.getCause());
        } catch (TimeoutException e) {
            throw new CaseFailure("connecting " + name + " to " + redact(uri) + " took more than " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CaseFailure("interrupted");
        }
    }

    /** The URL without its token, for reports. */
    static String redact(URI uri) {
        return uri.toString().replaceAll("token=[^&]*", "token=…");
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                synchronized (Conn.this) {
                    partial.append(data);
                    if (last) {
                        String text = partial.toString();
                        partial.setLength(0);
                        frames.add(new Frame(frames.size(), text, Jsons.parseObjectOrNull(text)));
                        Conn.this.notifyAll();
                    }
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                synchronized (Conn.this) {
                    if (last) {
                        frames.add(new Frame(frames.size(), "(binary frame)", null));
                        Conn.this.notifyAll();
                    }
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                synchronized (Conn.this) {
                    closeCode = statusCode;
                    Conn.this.notifyAll();
                }
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                synchronized (Conn.this) {
                    if (closeCode == null) closeCode = -1; // the transport failed without a close frame
                    Conn.this.notifyAll();
                }
            }
        };
    }

    synchronized int frameCount() {
        return frames.size();
    }

    synchronized List<Frame> frames() {
        return List.copyOf(frames);
    }

    synchronized Integer closeCode() {
        return closeCode;
    }

    /** Sends one text message (the JDK splits it into frames); false when the connection is gone. */
    boolean sendText(String text) {
        try {
            synchronized (sendLock) {
                // the JDK's WebSocket refuses a send while another is pending: one at a time
                socket.sendText(text, true).get(60, TimeUnit.SECONDS);
            }
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    boolean sendBinary(byte[] bytes) {
        try {
            synchronized (sendLock) {
                socket.sendBinary(ByteBuffer.wrap(bytes), true).get(60, TimeUnit.SECONDS);
            }
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A network cut: the socket is dropped without a close frame. */
    void abort() {
        socket.abort();
    }

    /** A normal close (1000). */
    void close() {
        if (!socket.isOutputClosed()) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // the other side is gone already
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        socket.abort();
    }

    /** The first frame at or after {@code from} that matches, waiting up to {@code timeout}; null if none came. */
    Frame await(int from, Predicate<Frame> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            int i = from;
            while (true) {
                for (; i < frames.size(); i++) if (match.test(frames.get(i))) return frames.get(i);
                long left = deadline - System.nanoTime();
                if (left <= 0) return null;
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CaseFailure("interrupted");
                }
            }
        }
    }

    /** Waits until {@code condition} holds over the frames received so far (re-evaluated on every frame). */
    boolean awaitCondition(Predicate<List<Frame>> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (true) {
                if (condition.test(frames)) return true;
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CaseFailure("interrupted");
                }
            }
        }
    }

    /** Waits for the close status; null when the connection is still open at the deadline. */
    Integer awaitClosed(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (closeCode == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return null;
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CaseFailure("interrupted");
                }
            }
            return closeCode;
        }
    }

    /** The events of {@code session} this connection received, frame by frame, in arrival order. */
    static List<JsonNode> eventFrames(List<Frame> frames, String session) {
        List<JsonNode> out = new ArrayList<>();
        for (Frame f : frames) {
            if ("events".equals(f.type())
                    && session.equals(f.json().path("sessionId").asText()))
                out.add(f.json().get("events"));
        }
        return out;
    }
}
