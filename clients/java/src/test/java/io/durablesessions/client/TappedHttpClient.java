package io.durablesessions.client;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The JDK's client with a tap for tests: it records every exchange and can lose a response on the
 * way back — after the server handled the request, as a dropped connection would.
 */
final class TappedHttpClient extends HttpClient {
    /** One request and what came back (the body as the client would have seen it). */
    record Exchange(String path, HttpHeaders requestHeaders, long sentNanos, int status, String body, boolean lost) {
        boolean isAppend() {
            return path.endsWith("/events");
        }

        boolean isHeartbeat() {
            return path.endsWith("/heartbeat");
        }
    }

    private final HttpClient delegate = HttpClient.newHttpClient();
    private final Predicate<HttpRequest> lose;
    final List<Exchange> exchanges = new CopyOnWriteArrayList<>();

    /** @param lose asked once the server answered: true and the client gets an {@link IOException} instead */
    TappedHttpClient(Predicate<HttpRequest> lose) {
        this.lose = lose;
    }

    TappedHttpClient() {
        this(r -> false);
    }

    List<Exchange> appends() {
        return exchanges.stream().filter(Exchange::isAppend).toList();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        long sent = System.nanoTime();
        HttpResponse<T> r = delegate.send(request, handler);
        if (record(request, sent, r)) throw new IOException("response lost (test)");
        return r;
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        long sent = System.nanoTime();
        return delegate.sendAsync(request, handler).thenApply(r -> {
            if (record(request, sent, r)) throw new CompletionException(new IOException("response lost (test)"));
            return r;
        });
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(
            HttpRequest request, HttpResponse.BodyHandler<T> handler, HttpResponse.PushPromiseHandler<T> push) {
        return sendAsync(request, handler);
    }

    /** Records the exchange; true when its response is to be lost. */
    private boolean record(HttpRequest request, long sent, HttpResponse<?> r) {
        boolean lost = lose.test(request);
        exchanges.add(new Exchange(
                request.uri().getPath(),
                request.headers(),
                sent,
                r.statusCode(),
                r.body() instanceof String s ? s : "",
                lost));
        return lost;
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
