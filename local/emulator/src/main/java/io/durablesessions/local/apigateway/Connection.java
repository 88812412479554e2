package io.durablesessions.local.apigateway;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/** One client connection as API Gateway tracks it: identity, timestamps, the socket and its end. */
final class Connection {

    /** API Gateway splits outgoing messages into frames of at most 32 KB. */
    static final int MAX_FRAME_BYTES = 32 * 1024;

    private static final long SEND_TIMEOUT_SECONDS = 10;

    /** How a connection ended, as reported to {@code $disconnect}. */
    record CloseReason(int statusCode, String reason) {}

    final String id;
    final Instant connectedAt;
    final String sourceIp;
    final String userAgent;
    /** requestContext.authorizer of every event; null without an authorizer. */
    final Map<String, Object> authorizerContext;
    /** Runs this connection's invocations one at a time; null when they run concurrently. */
    final ExecutorService serialExecutor;

    private volatile Session session;
    private volatile Instant lastActiveAt;
    /** Set when the server decides to close (DELETE, timeouts) so $disconnect reports the server's reason. */
    private volatile CloseReason serverClose;

    private volatile long closeRequestedAtNanos;
    private final AtomicBoolean ended = new AtomicBoolean();
    /** One message at a time on the wire: fragments of concurrent sends must not interleave. */
    private final ReentrantLock sendLock = new ReentrantLock();

    Connection(
            String id,
            Instant connectedAt,
            String sourceIp,
            String userAgent,
            Map<String, Object> authorizerContext,
            ExecutorService serialExecutor) {
        this.id = id;
        this.connectedAt = connectedAt;
        this.lastActiveAt = connectedAt;
        this.sourceIp = sourceIp;
        this.userAgent = userAgent;
        this.authorizerContext = authorizerContext;
        this.serialExecutor = serialExecutor;
    }

    void opened(Session session) {
        this.session = session;
    }

    Instant lastActiveAt() {
        return lastActiveAt;
    }

    void touch() {
        lastActiveAt = Instant.now();
    }

    boolean isOpen() {
        Session s = session;
        return !ended.get() && s != null && s.isOpen();
    }

    /** True exactly once: for the caller that gets to fire $disconnect. */
    boolean markEnded() {
        return ended.compareAndSet(false, true);
    }

    CloseReason serverClose() {
        return serverClose;
    }

    /** True if the emulator asked the client to close longer ago than {@code nanos}. */
    boolean closeRequestedLongerAgoThan(long nanos) {
        return serverClose != null && System.nanoTime() - closeRequestedAtNanos > nanos;
    }

    /** Close handshake initiated by the emulator (the first reason wins). */
    void close(int statusCode, String reason) {
        synchronized (this) {
            if (serverClose == null) {
                serverClose = new CloseReason(statusCode, reason);
                closeRequestedAtNanos = System.nanoTime();
            }
        }
        Session s = session;
        if (s != null) {
            s.close(statusCode, reason, Callback.NOOP);
        }
    }

    /** Drop the TCP connection without a close frame, like a network cut. */
    void abort() {
        Session s = session;
        if (s != null) {
            s.disconnect();
        }
    }

    /**
     * Sends one text message, in frames of at most 32 KB, and waits until it is written.
     *
     * @throws IOException if the connection is gone or the write fails
     */
    void send(String text) throws IOException {
        sendLock.lock();
        try {
            Session s = session;
            if (s == null || !isOpen()) {
                throw new IOException("connection " + id + " is closed");
            }
            List<String> frames = splitIntoFrames(text);
            for (int i = 0; i < frames.size(); i++) {
                boolean last = i == frames.size() - 1;
                String frame = frames.get(i);
                await(Callback.Completable.with(cb -> s.sendPartialText(frame, last, cb)));
            }
        } finally {
            sendLock.unlock();
        }
    }

    private static void await(Callback.Completable completion) throws IOException {
        try {
            completion.get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending", e);
        } catch (ExecutionException e) {
            throw new IOException("send failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("send timed out", e);
        }
    }

    /** Cuts text at code point boundaries so that each piece is at most 32 KB of UTF-8. */
    static List<String> splitIntoFrames(String text) {
        List<String> frames = new ArrayList<>();
        int start = 0;
        int bytes = 0;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + size > MAX_FRAME_BYTES) {
                frames.add(text.substring(start, i));
                start = i;
                bytes = 0;
            }
            bytes += size;
            i += Character.charCount(cp);
        }
        frames.add(text.substring(start));
        return frames;
    }
}
