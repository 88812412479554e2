package io.durablesessions.cli;

import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One WebSocket handshake with a token, closed at once: tells "refused" (401/403, exit code
 * {@link ExitCodes#AUTH}) from "nothing there" ({@link ExitCodes#UNREACHABLE}) before a command
 * relies on the SDK, which retries both forever (it cannot know whether a token will come back).
 */
public final class Handshake {
    /** How a handshake came out: {@code exitCode} {@link ExitCodes#OK} when the service accepted it. */
    public record Outcome(int exitCode, String message, long millis) {
        public boolean ok() {
            return exitCode == ExitCodes.OK;
        }
    }

    private Handshake() {}

    /** The {@code $connect} URL with the token (and more query parameters, e.g. {@code instance=…}) in the query. */
    public static URI connectUri(URI ws, String token, String moreQuery) {
        String q = "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)
                + (moreQuery == null || moreQuery.isEmpty() ? "" : "&" + moreQuery);
        String s = ws.toString();
        return URI.create(s + (s.contains("?") ? "&" : "?") + q);
    }

    public static Outcome check(URI ws, String token, Duration timeout) {
        return check(ws, token, false, timeout);
    }

    /**
     * @param viaProtocol offer the token as a subprotocol ({@code durable-sessions}, {@code token.<jwt>}), as
     *                    browsers do, instead of in the query: a stage deployed to read it only there
     */
    public static Outcome check(URI ws, String token, boolean viaProtocol, Duration timeout) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
        long t0 = System.nanoTime();
        try {
            WebSocket.Builder b = client.newWebSocketBuilder().connectTimeout(timeout);
            if (viaProtocol) b.subprotocols("durable-sessions", "token." + token);
            URI uri = viaProtocol
                    ? URI.create(ws + (ws.toString().contains("?") ? "&" : "?") + "instance=ds-check")
                    : connectUri(ws, token, "instance=ds-check");
            WebSocket socket = b.buildAsync(uri, new WebSocket.Listener() {})
                    .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "")
                    .orTimeout(5, TimeUnit.SECONDS)
                    .whenComplete((w, e) -> socket.abort());
            return new Outcome(ExitCodes.OK, "the WebSocket handshake succeeded", ms);
        } catch (ExecutionException | CompletionException e) {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            Throwable cause = e.getCause();
            if (cause instanceof WebSocketHandshakeException h) {
                int status = h.getResponse().statusCode();
                int code = status == 401 || status == 403 ? ExitCodes.AUTH : ExitCodes.FAILED;
                return new Outcome(
                        code,
                        "the WebSocket handshake was refused with " + status
                                + (code == ExitCodes.AUTH
                                        ? " (the token: expired, revoked, or not of this deployment)"
                                        : ""),
                        ms);
            }
            if (cause instanceof ConnectException
                    || cause instanceof HttpConnectTimeoutException
                    || cause instanceof UnresolvedAddressException
                    || cause != null && cause.getCause() instanceof UnresolvedAddressException) {
                return new Outcome(
                        ExitCodes.UNREACHABLE, "nothing answered at " + ws + " (" + Api.describe(cause) + ")", ms);
            }
            return new Outcome(
                    ExitCodes.UNREACHABLE,
                    "the WebSocket handshake with " + ws + " failed (" + Api.describe(cause == null ? e : cause) + ")",
                    ms);
        } catch (TimeoutException e) {
            return new Outcome(
                    ExitCodes.UNREACHABLE,
                    "no WebSocket handshake with " + ws + " within " + timeout.toSeconds() + " s",
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(ExitCodes.FAILED, "interrupted", 0);
        }
    }
}
