package io.durablesessions.functions.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;

/**
 * The SDK clients' HTTP client hands the JDK connection a request with a body without its
 * {@code Content-Length}, so the connection buffers the body instead of streaming it after the
 * headers; the body still arrives with the length the SDK signed. A request without a body goes on
 * as it was. (What buffering saves is a figure, not a test: see the class's documentation.)
 */
class BufferedBodyHttpClientTest {
    private static final String BODY = "{\"TableName\":\"ds-sessions\",\"Key\":{\"sessionId\":{\"S\":\"s-1\"}}}";

    @Test
    void theSdkClientGetsARequestWithABodyWithoutItsLengthAndOneWithoutABodyAsItWas() {
        List<SdkHttpRequest> handedOn = new ArrayList<>();
        SdkHttpClient recording = new SdkHttpClient() {
            @Override
            public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
                handedOn.add(request.httpRequest());
                return null;
            }

            @Override
            public void close() {}
        };
        SdkHttpClient client = new BufferedBodyHttpClient(recording);
        SdkHttpFullRequest withBody = SdkHttpFullRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(URI.create("http://127.0.0.1:1/"))
                .putHeader("Content-Length", "59")
                .putHeader("X-Amz-Target", "DynamoDB_20120810.GetItem")
                .build();
        SdkHttpFullRequest withoutBody = SdkHttpFullRequest.builder()
                .method(SdkHttpMethod.DELETE)
                .uri(URI.create("http://127.0.0.1:1/@connections/c-1"))
                .putHeader("Content-Length", "0")
                .build();
        client.prepareRequest(HttpExecuteRequest.builder()
                .request(withBody)
                .contentStreamProvider(ContentStreamProvider.fromUtf8String(BODY))
                .build());
        client.prepareRequest(HttpExecuteRequest.builder().request(withoutBody).build());

        assertThat(handedOn.get(0).headers()).doesNotContainKey("Content-Length");
        assertThat(handedOn.get(0).firstMatchingHeader("X-Amz-Target")).hasValue("DynamoDB_20120810.GetItem");
        assertThat(handedOn.get(1).headers()).isEqualTo(withoutBody.headers());
    }

    @Test
    void aRequestWithABodyArrivesWholeWithTheSignedContentLength() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                SdkHttpClient client = BufferedBodyHttpClient.create()) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> answerOnce(server));
            byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
            SdkHttpFullRequest request = SdkHttpFullRequest.builder()
                    .method(SdkHttpMethod.POST)
                    .uri(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/"))
                    .putHeader("Content-Length", Integer.toString(body.length))
                    .putHeader("X-Amz-Target", "DynamoDB_20120810.GetItem")
                    .build();
            HttpExecuteResponse response = client.prepareRequest(HttpExecuteRequest.builder()
                            .request(request)
                            .contentStreamProvider(ContentStreamProvider.fromUtf8String(BODY))
                            .build())
                    .call();

            assertThat(response.httpResponse().statusCode()).isEqualTo(200);
            String arrived = received.get(10, TimeUnit.SECONDS);
            assertThat(arrived).endsWith("\r\n\r\n" + BODY);
            assertThat(arrived.toLowerCase()).contains("content-length: " + body.length + "\r\n");
        }
    }

    @Test
    void aRequestWithoutABodyKeepsItsHeaders() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                SdkHttpClient client = BufferedBodyHttpClient.create()) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> answerOnce(server));
            SdkHttpFullRequest request = SdkHttpFullRequest.builder()
                    .method(SdkHttpMethod.DELETE)
                    .uri(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/@connections/c-1"))
                    .putHeader("X-Probe", "kept")
                    .build();
            HttpExecuteResponse response = client.prepareRequest(
                            HttpExecuteRequest.builder().request(request).build())
                    .call();

            assertThat(response.httpResponse().statusCode()).isEqualTo(200);
            String got = received.get(10, TimeUnit.SECONDS);
            assertThat(got).startsWith("DELETE /@connections/c-1 ");
            assertThat(got.toLowerCase()).contains("x-probe: kept\r\n");
        }
    }

    /** Accepts one connection, returns the whole request it read, and answers 200 with an empty object. */
    private static String answerOnce(ServerSocket server) {
        try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16 * 1024];
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            int n;
            while (!complete(request.toString(StandardCharsets.ISO_8859_1)) && (n = in.read(buf)) > 0) {
                request.write(buf, 0, n);
            }
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return request.toString(StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean complete(String request) {
        int end = request.indexOf("\r\n\r\n");
        if (end < 0) return false;
        String head = request.substring(0, end).toLowerCase();
        int at = head.indexOf("content-length: ");
        if (at < 0) return true;
        int length = Integer.parseInt(head.substring(at + 16).split("\r\n")[0].trim());
        return request.length() - end - 4 >= length;
    }
}
