package io.durablesessions.client;

import java.net.URI;
import java.util.Map;

/**
 * Adds headers to each HTTP API request just before it is sent, e.g. an AWS SigV4 signature for a
 * deployment whose API is IAM-authorized. It sees the request exactly as it will go out.
 */
@FunctionalInterface
public interface RequestSigner {
    /** Signs nothing. */
    RequestSigner NONE = (method, uri, headers, body) -> Map.of();

    /**
     * @param method  {@code POST}
     * @param uri     the full request URI
     * @param headers the headers set so far ({@code Content-Type}, {@code Authorization} when there is a token)
     * @param body    the exact body bytes
     * @return headers to add (e.g. {@code Authorization}, {@code X-Amz-Date}); a name already set is
     *         replaced. {@code Host} and {@code Content-Length} are written by the JDK from the URI and
     *         the body, so they may be signed but are not taken from here.
     */
    Map<String, String> sign(String method, URI uri, Map<String, String> headers, byte[] body);
}
