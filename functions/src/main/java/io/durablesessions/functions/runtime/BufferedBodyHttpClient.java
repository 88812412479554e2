package io.durablesessions.functions.runtime;

import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;

/**
 * The SDK's {@link UrlConnectionHttpClient} (small and quick to start in Lambda), with each request
 * body buffered by the JDK connection instead of streamed.
 *
 * <p>Why: given a {@code Content-Length}, the stock client puts the JDK connection in fixed-length
 * streaming mode: the headers go out first, and the small body after them is held back until the
 * peer acknowledges the headers (Nagle's algorithm, which the JDK connection leaves on, against the
 * peer's delayed acknowledgement). That cost 1.2 ms per request on loopback, against 0.12 ms with
 * the body buffered (2,000 POSTs of a GetItem-sized body each way, 2026-12-04), and on a network it
 * costs at least one more round trip per call. Without the header the JDK buffers the body and sets
 * {@code Content-Length} itself, to the same value, so a SigV4 signature over it stays valid. Only
 * requests with a body lose the header: one without sends none, as it was signed.
 *
 * <p>A buffered request is one the JDK may send again when a kept-alive connection turns out dead
 * before any answer; the SDK's own retries do the same, and every write of the store is conditional
 * or carries an idempotency token (TransactWriteItems), so a resend is never applied twice.
 *
 * <p>Kept-alive connections: the JDK keeps at most {@code http.maxConnections} idle connections per
 * host, 5 unless told otherwise, and closes any further one once its request is done. Delivery posts
 * to many subscribers at once ({@code fanout/Delivery}, up to 64 posts in flight), so past 5 readers
 * every post opened a connection of its own and closed it after: 300 appends to 10 readers left
 * 1,360 closed connections on the local stack (about 4.5 per append); on AWS each would be a new TLS
 * connection to the management API. So unless the JVM was started with a value, this raises it to
 * {@value #KEEP_ALIVE_PER_HOST} before the first client is built (the JDK reads it once, when it
 * first keeps a connection): 0 closed connections then.
 */
public final class BufferedBodyHttpClient implements SdkHttpClient {
    static final int KEEP_ALIVE_PER_HOST = 64;

    static {
        if (System.getProperty("http.maxConnections") == null) {
            System.setProperty("http.maxConnections", Integer.toString(KEEP_ALIVE_PER_HOST));
        }
    }

    private final SdkHttpClient delegate;

    BufferedBodyHttpClient(SdkHttpClient delegate) {
        this.delegate = delegate;
    }

    /** A new client over a new {@link UrlConnectionHttpClient} with its defaults. */
    public static SdkHttpClient create() {
        return new BufferedBodyHttpClient(UrlConnectionHttpClient.create());
    }

    @Override
    public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        if (request.contentStreamProvider().isEmpty()) return delegate.prepareRequest(request);
        SdkHttpRequest unsized =
                request.httpRequest().toBuilder().removeHeader("Content-Length").build();
        return delegate.prepareRequest(HttpExecuteRequest.builder()
                .request(unsized)
                .contentStreamProvider(request.contentStreamProvider().get())
                .metricCollector(request.metricCollector().orElse(null))
                .build());
    }

    @Override
    public String clientName() {
        return delegate.clientName();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
