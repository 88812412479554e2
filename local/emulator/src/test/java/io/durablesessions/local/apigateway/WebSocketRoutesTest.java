package io.durablesessions.local.apigateway;

import static io.durablesessions.local.apigateway.RecordingHandler.response;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** $connect, route selection and route responses, seen from a real WebSocket client. */
class WebSocketRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private WebSocketApiEmulator emulator;

    @AfterEach
    void stop() {
        if (emulator != null) {
            emulator.close();
        }
    }

    private WebSocketApiEmulator start(WebSocketApiEmulator.Builder builder) {
        emulator = builder.build().start();
        return emulator;
    }

    @Test
    void connectEventCarriesHeadersQueryIdentityAndRequestContext() {
        RecordingHandler connect = RecordingHandler.ok();
        start(WebSocketApiEmulator.builder().stage("dev").route("$connect", connect));

        URI uri = URI.create(emulator.webSocketUrl() + "?token=abc&tag=a&tag=b");
        TestClient.connect(uri, Map.of("X-Client", "test-suite", "User-Agent", "agent/1.0"))
                .join()
                .close();

        APIGatewayV2WebSocketEvent event = connect.last();
        assertThat(event.getQueryStringParameters())
                .containsEntry("token", "abc")
                .containsEntry("tag", "b");
        assertThat(event.getMultiValueQueryStringParameters()).containsEntry("tag", List.of("a", "b"));
        assertThat(event.getHeaders()).containsEntry("X-Client", "test-suite").containsKey("Sec-WebSocket-Key");
        assertThat(event.getMultiValueHeaders()).containsEntry("X-Client", List.of("test-suite"));
        assertThat(event.getBody()).isNull();
        assertThat(event.isIsBase64Encoded()).isFalse();

        var ctx = event.getRequestContext();
        assertThat(ctx.getRouteKey()).isEqualTo("$connect");
        assertThat(ctx.getEventType()).isEqualTo("CONNECT");
        assertThat(ctx.getConnectionId()).matches("[A-Za-z0-9_-]{15}=");
        assertThat(ctx.getStage()).isEqualTo("dev");
        assertThat(ctx.getApiId()).isEqualTo("local");
        assertThat(ctx.getDomainName()).isEqualTo("127.0.0.1:" + emulator.port());
        assertThat(ctx.getMessageDirection()).isEqualTo("IN");
        assertThat(ctx.getMessageId()).isNull();
        assertThat(ctx.getRequestId()).isNotBlank().isEqualTo(ctx.getExtendedRequestId());
        assertThat(ctx.getConnectedAt()).isPositive();
        assertThat(ctx.getRequestTimeEpoch()).isGreaterThanOrEqualTo(ctx.getConnectedAt());
        assertThat(ctx.getIdentity().getSourceIp()).isEqualTo("127.0.0.1");
        assertThat(ctx.getIdentity().getUserAgent()).isEqualTo("agent/1.0");
        assertThat(ctx.getAuthorizer()).isNull();
        assertThat(connect.contexts.get(0).getAwsRequestId()).isNotBlank();
        assertThat(connect.contexts.get(0).getRemainingTimeInMillis()).isPositive();
    }

    @Test
    void connectWithoutQueryStringHasNoQueryMaps() {
        RecordingHandler connect = RecordingHandler.ok();
        start(WebSocketApiEmulator.builder().route("$connect", connect));
        TestClient.connect(emulator.webSocketUrl()).close();
        assertThat(connect.last().getQueryStringParameters()).isNull();
        assertThat(connect.last().getMultiValueQueryStringParameters()).isNull();
    }

    @Test
    void connectHandlerRefusingWithStatusFailsTheHandshakeWithThatStatus() {
        RecordingHandler disconnect = RecordingHandler.ok();
        start(WebSocketApiEmulator.builder()
                .route("$connect", new RecordingHandler(e -> response(403, null)))
                .route("$disconnect", disconnect));

        assertThatThrownBy(() -> TestClient.connect(emulator.webSocketUrl()))
                .isInstanceOf(CompletionException.class)
                .cause()
                .isInstanceOfSatisfying(
                        WebSocketHandshakeException.class,
                        e -> assertThat(e.getResponse().statusCode()).isEqualTo(403));
        assertThat(emulator.connectionIds()).isEmpty();
        assertThat(disconnect.events).as("a refused connection never existed").isEmpty();
    }

    @Test
    void connectHandlerThatThrowsFailsTheHandshakeWith500() {
        start(WebSocketApiEmulator.builder().route("$connect", new RecordingHandler(e -> {
            throw new IllegalStateException("boom");
        })));
        assertThatThrownBy(() -> TestClient.connect(emulator.webSocketUrl()))
                .cause()
                .isInstanceOfSatisfying(
                        WebSocketHandshakeException.class,
                        e -> assertThat(e.getResponse().statusCode()).isEqualTo(500));
    }

    @Test
    void authorizerRunsBeforeConnectAndItsContextReachesEveryEvent() throws Exception {
        RecordingHandler connect = RecordingHandler.ok();
        RecordingHandler message = RecordingHandler.ok();
        RecordingHandler disconnect = RecordingHandler.ok();
        start(WebSocketApiEmulator.builder()
                .authorizer(request -> "secret".equals(request.queryParameter("token"))
                                || "Bearer secret".equals(request.header("authorization"))
                        ? Authorizer.allow(Map.of("principalId", "user-1", "tenant", "t1"))
                        : Authorizer.forbidden())
                .route("$connect", connect)
                .defaultRoute(message)
                .route("$disconnect", disconnect)
                .serializePerConnection(true));

        assertThatThrownBy(() -> TestClient.connect(URI.create(emulator.webSocketUrl() + "?token=wrong")))
                .cause()
                .isInstanceOfSatisfying(
                        WebSocketHandshakeException.class,
                        e -> assertThat(e.getResponse().statusCode()).isEqualTo(403));
        assertThat(connect.events)
                .as("a denied connection never reaches $connect")
                .isEmpty();

        TestClient byHeader = TestClient.connect(emulator.webSocketUrl(), Map.of("Authorization", "Bearer secret"))
                .join();
        byHeader.close();
        TestClient client = TestClient.connect(URI.create(emulator.webSocketUrl() + "?token=secret"));
        client.send("hello");
        await().atMost(Duration.ofSeconds(30)).until(() -> message.events.size() == 1);
        client.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> disconnect.events.size() == 2);

        Map<String, Object> expected = Map.of("principalId", "user-1", "tenant", "t1");
        assertThat(connect.last().getRequestContext().getAuthorizer()).isEqualTo(expected);
        assertThat(message.last().getRequestContext().getAuthorizer()).isEqualTo(expected);
        assertThat(disconnect.last().getRequestContext().getAuthorizer()).isEqualTo(expected);
    }

    @Test
    void authorizerSaying401RefusesWith401() {
        start(WebSocketApiEmulator.builder().authorizer(request -> Authorizer.unauthorized()));
        assertThatThrownBy(() -> TestClient.connect(emulator.webSocketUrl()))
                .cause()
                .isInstanceOfSatisfying(
                        WebSocketHandshakeException.class,
                        e -> assertThat(e.getResponse().statusCode()).isEqualTo(401));
    }

    @Test
    void messagesAreRoutedByTheirActionFieldAndEverythingElseGoesToDefault() throws Exception {
        RecordingHandler append = RecordingHandler.ok();
        RecordingHandler fallback = RecordingHandler.ok();
        start(WebSocketApiEmulator.builder()
                .route("append", append)
                .defaultRoute(fallback)
                .serializePerConnection(true));

        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            client.send("{\"action\":\"append\",\"text\":\"hi\"}");
            client.send("{\"action\":\"unknown\"}");
            client.send("not json at all");
            client.send("[\"action\",\"append\"]");
            client.send("{\"action\":42}");
            client.send("{\"text\":\"no action\"}");
            await().atMost(Duration.ofSeconds(30)).until(() -> fallback.events.size() == 5);
        }

        APIGatewayV2WebSocketEvent routed = append.events.get(0);
        assertThat(routed.getBody()).isEqualTo("{\"action\":\"append\",\"text\":\"hi\"}");
        assertThat(routed.getRequestContext().getRouteKey()).isEqualTo("append");
        assertThat(routed.getRequestContext().getEventType()).isEqualTo("MESSAGE");
        assertThat(routed.getRequestContext().getMessageId()).isNotBlank();
        assertThat(routed.getRequestContext().getMessageDirection()).isEqualTo("IN");
        assertThat(routed.getHeaders()).as("headers are sent on $connect only").isNull();
        assertThat(routed.getQueryStringParameters()).isNull();
        assertThat(fallback.events)
                .extracting(e -> e.getRequestContext().getRouteKey())
                .containsOnly("$default");
        assertThat(fallback.events)
                .extracting(APIGatewayV2WebSocketEvent::getBody)
                .containsExactly(
                        "{\"action\":\"unknown\"}",
                        "not json at all",
                        "[\"action\",\"append\"]",
                        "{\"action\":42}",
                        "{\"text\":\"no action\"}");
        assertThat(emulator.counters().messagesIn()).isEqualTo(6);
    }

    @Test
    void withoutADefaultRouteAnUnmatchedMessageGetsForbidden() throws Exception {
        start(WebSocketApiEmulator.builder().route("append", RecordingHandler.ok()));
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            client.send("{\"action\":\"nope\"}");
            JsonNode reply = JSON.readTree(client.nextMessage());
            assertThat(reply.get("message").asText()).isEqualTo("Forbidden");
            assertThat(reply.get("connectionId").asText()).isEqualTo(single(emulator.connectionIds()));
            assertThat(reply.get("requestId").asText()).isNotBlank();
        }
    }

    @Test
    void twoWayRouteSendsTheResponseBodyBackAndOneWayRouteDoesNot() throws Exception {
        start(WebSocketApiEmulator.builder()
                .route("echo", new RecordingHandler(e -> response(200, "echo:" + e.getBody())))
                .route("silent", new RecordingHandler(e -> response(200, "never sent")), false)
                .route("nobody", RecordingHandler.ok())
                .serializePerConnection(true));
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            client.send("{\"action\":\"silent\"}");
            client.send("{\"action\":\"nobody\"}");
            client.send("{\"action\":\"echo\"}");
            assertThat(client.nextMessage()).isEqualTo("echo:{\"action\":\"echo\"}");
            assertThat(client.messages.poll(300, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    void handlerExceptionSendsInternalServerErrorAndKeepsTheConnectionOpen() throws Exception {
        start(WebSocketApiEmulator.builder()
                .route("fail", new RecordingHandler(e -> {
                    throw new RuntimeException("bug");
                }))
                .route("echo", new RecordingHandler(e -> response(200, "still here"))));
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            client.send("{\"action\":\"fail\"}");
            JsonNode reply = JSON.readTree(client.nextMessage());
            assertThat(reply.get("message").asText()).isEqualTo("Internal server error");
            assertThat(reply.get("connectionId").asText()).isEqualTo(single(emulator.connectionIds()));
            assertThat(reply.get("requestId").asText()).isNotBlank();

            client.send("{\"action\":\"echo\"}");
            assertThat(client.nextMessage()).isEqualTo("still here");
        }
    }

    @Test
    void messagesOfOneConnectionAreHandledConcurrentlyByDefault() throws Exception {
        CountDownLatch bothInside = new CountDownLatch(2);
        start(WebSocketApiEmulator.builder().defaultRoute(new RecordingHandler(e -> {
            bothInside.countDown();
            try {
                // only returns if the other message is being handled at the same time
                return response(200, bothInside.await(30, TimeUnit.SECONDS) ? "overlapped" : "alone");
            } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
            }
        })));
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            client.send("one");
            client.send("two");
            assertThat(List.of(client.nextMessage(), client.nextMessage())).containsOnly("overlapped");
        }
    }

    @Test
    void serializedConnectionsHandleMessagesInArrivalOrder() throws Exception {
        start(WebSocketApiEmulator.builder()
                .serializePerConnection(true)
                .defaultRoute(new RecordingHandler(e -> response(200, e.getBody()))));
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            for (int i = 0; i < 20; i++) {
                client.send("m" + i);
            }
            for (int i = 0; i < 20; i++) {
                assertThat(client.nextMessage()).isEqualTo("m" + i);
            }
        }
    }

    @Test
    void subprotocolChosenByConnectHandlerIsEchoedToTheClient() {
        start(WebSocketApiEmulator.builder()
                .route(
                        "$connect",
                        new RecordingHandler(
                                e -> response(200, null, Map.of("Sec-WebSocket-Protocol", "durable.v1")))));
        TestClient client = TestClient.connect(emulator.webSocketUrl(), Map.of(), "durable.v1", "other")
                .join();
        assertThat(client.socket.getSubprotocol()).isEqualTo("durable.v1");
        client.close();
    }

    @Test
    void disconnectFiresOnceWithTheSameConnectionIdWhenTheClientCloses() throws Exception {
        RecordingHandler connect = RecordingHandler.ok();
        RecordingHandler disconnect = RecordingHandler.ok();
        start(WebSocketApiEmulator.builder().route("$connect", connect).route("$disconnect", disconnect));
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        client.socket.sendClose(4000, "done").join();
        await().atMost(Duration.ofSeconds(30)).until(() -> disconnect.events.size() == 1);
        Thread.sleep(200);
        assertThat(disconnect.events).hasSize(1);

        var ctx = disconnect.last().getRequestContext();
        assertThat(ctx.getConnectionId())
                .isEqualTo(connect.last().getRequestContext().getConnectionId());
        assertThat(ctx.getRouteKey()).isEqualTo("$disconnect");
        assertThat(ctx.getEventType()).isEqualTo("DISCONNECT");
        assertThat(ctx).isInstanceOfSatisfying(DisconnectRequestContext.class, d -> {
            assertThat(d.getDisconnectStatusCode()).isEqualTo(4000);
            assertThat(d.getDisconnectReason()).isEqualTo("done");
        });
        assertThat(emulator.connectionIds()).isEmpty();
    }

    @Test
    void otherHttpHandlersCanBeMountedOnTheSameServer() throws Exception {
        start(WebSocketApiEmulator.builder().httpRoute("/demo", new org.eclipse.jetty.server.Handler.Abstract() {
            @Override
            public boolean handle(
                    org.eclipse.jetty.server.Request request,
                    org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) {
                response.write(
                        true,
                        java.nio.ByteBuffer.wrap(("demo " + request.getHttpURI().getPath()).getBytes()),
                        callback);
                return true;
            }
        }));
        var http = java.net.http.HttpClient.newHttpClient();
        var reply = http.send(
                java.net.http.HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + emulator.port() + "/demo/index.html"))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(reply.body()).isEqualTo("demo /demo/index.html");
        var missing = http.send(
                java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + emulator.port() + "/elsewhere"))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    static String single(java.util.Set<String> ids) {
        assertThat(ids).hasSize(1);
        return ids.iterator().next();
    }

    static Duration seconds(double s) {
        return Duration.ofMillis((long) (s * 1000));
    }
}
