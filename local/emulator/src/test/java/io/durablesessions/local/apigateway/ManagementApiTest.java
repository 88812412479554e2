package io.durablesessions.local.apigateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.apigatewaymanagementapi.ApiGatewayManagementApiClient;
import software.amazon.awssdk.services.apigatewaymanagementapi.model.ApiGatewayManagementApiException;
import software.amazon.awssdk.services.apigatewaymanagementapi.model.GetConnectionResponse;
import software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException;
import software.amazon.awssdk.services.apigatewaymanagementapi.model.PayloadTooLargeException;

/** The @connections API, driven by the real AWS SDK v2 client the fan-out Lambda uses. */
class ManagementApiTest {

    private final RecordingHandler disconnect = RecordingHandler.ok();
    private WebSocketApiEmulator emulator;
    private ApiGatewayManagementApiClient sdk;

    @BeforeEach
    void start() {
        emulator = WebSocketApiEmulator.builder()
                .route("$disconnect", disconnect)
                .build()
                .start();
        sdk = ApiGatewayManagementApiClient.builder()
                .endpointOverride(emulator.managementEndpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    @AfterEach
    void stop() {
        sdk.close();
        emulator.close();
    }

    private String onlyConnectionId() {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> emulator.connectionIds().size() == 1);
        return emulator.connectionIds().iterator().next();
    }

    @Test
    void postToConnectionDeliversTheBodyAsOneTextMessage() throws Exception {
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            String id = onlyConnectionId();
            sdk.postToConnection(
                    r -> r.connectionId(id).data(SdkBytes.fromUtf8String("{\"seq\":1,\"text\":\"héllo\"}")));
            assertThat(client.nextMessage()).isEqualTo("{\"seq\":1,\"text\":\"héllo\"}");
            assertThat(emulator.counters().messagesOut()).isEqualTo(1);
            assertThat(emulator.counters().managementCallsByStatus()).containsEntry(200, 1L);
        }
    }

    @Test
    void a128KbMessageIsDeliveredInFramesOfAtMost32Kb() throws Exception {
        String payload = "x".repeat(WebSocketApiEmulator.MAX_MESSAGE_BYTES);
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        String id = onlyConnectionId();
        sdk.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String(payload)));
        assertThat(client.nextMessage()).isEqualTo(payload);
        assertThat(client.fragmentLengths)
                .hasSizeGreaterThanOrEqualTo(4)
                .allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(32 * 1024));
        client.close();
    }

    @Test
    void postOver128KbIsRejectedWithPayloadTooLarge() throws Exception {
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        try {
            String id = onlyConnectionId();
            String tooBig = "x".repeat(WebSocketApiEmulator.MAX_MESSAGE_BYTES + 1);
            assertThatThrownBy(
                            () -> sdk.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String(tooBig))))
                    .isInstanceOf(PayloadTooLargeException.class)
                    .satisfies(e -> assertThat(((PayloadTooLargeException) e).statusCode())
                            .isEqualTo(413));
            assertThat(emulator.connectionIds()).as("the connection survives").containsExactly(id);
        } finally {
            client.close();
        }
    }

    @Test
    void getConnectionDescribesTheConnection() {
        Instant before = Instant.now().minusSeconds(1);
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        try {
            String id = onlyConnectionId();
            GetConnectionResponse info = sdk.getConnection(r -> r.connectionId(id));
            assertThat(info.connectedAt()).isAfter(before).isBeforeOrEqualTo(Instant.now());
            assertThat(info.lastActiveAt()).isAfterOrEqualTo(info.connectedAt().minusMillis(1));
            assertThat(info.identity().sourceIp()).isEqualTo("127.0.0.1");
            assertThat(info.identity().userAgent()).startsWith("Java-http-client");
        } finally {
            client.close();
        }
    }

    @Test
    void deleteConnectionClosesTheSocketAndFiresDisconnectAfterwhichTheConnectionIsGone() throws Exception {
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        String id = onlyConnectionId();

        sdk.deleteConnection(r -> r.connectionId(id));

        assertThat(client.awaitCloseCode()).isEqualTo(1000);
        await().atMost(Duration.ofSeconds(30)).until(() -> disconnect.events.size() == 1);
        assertThat(disconnect.last().getRequestContext().getConnectionId()).isEqualTo(id);
        assertThatThrownBy(() -> sdk.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String("late"))))
                .isInstanceOf(GoneException.class)
                .satisfies(e -> assertThat(((GoneException) e).statusCode()).isEqualTo(410));
        assertThatThrownBy(() -> sdk.getConnection(r -> r.connectionId(id))).isInstanceOf(GoneException.class);
        assertThatThrownBy(() -> sdk.deleteConnection(r -> r.connectionId(id))).isInstanceOf(GoneException.class);
    }

    @Test
    void unknownConnectionIsGone() {
        assertThatThrownBy(() -> sdk.postToConnection(
                        r -> r.connectionId("AAAAAAAAAAAAAAA=").data(SdkBytes.fromUtf8String("x"))))
                .isInstanceOf(GoneException.class);
        assertThat(emulator.counters().managementCallsByStatus()).containsEntry(410, 1L);
    }

    @Test
    void errorsCarryTheAwsErrorTypeHeaderAndAJsonMessage() {
        assertThatThrownBy(() -> sdk.postToConnection(
                        r -> r.connectionId("AAAAAAAAAAAAAAA=").data(SdkBytes.fromUtf8String("x"))))
                .isInstanceOfSatisfying(GoneException.class, e -> {
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("GoneException");
                    assertThat(e.statusCode()).isEqualTo(410);
                });
    }

    @Test
    void anUnsignedOrWronglySignedCallIsRefusedAsApiGatewayRefusesIt() throws Exception {
        String id;
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        try {
            id = onlyConnectionId();
            HttpResponse<String> unsigned = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(emulator.managementEndpoint() + "/@connections/" + id))
                                    .POST(HttpRequest.BodyPublishers.ofString("forged"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(unsigned.statusCode()).isEqualTo(403);
            assertThat(unsigned.headers().firstValue("x-amzn-ErrorType")).hasValue("ForbiddenException");
            assertThat(unsigned.body()).contains("\"message\"");
            for (var bad : List.of(
                    client(Region.US_EAST_1, "someone", "else"), // unknown key
                    client(Region.US_EAST_1, "local", "wrong-secret"), // bad signature
                    client(Region.EU_WEST_1, "local", "local"))) { // another region
                assertThatThrownBy(() ->
                                bad.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String("forged"))))
                        .isInstanceOfSatisfying(
                                ApiGatewayManagementApiException.class,
                                e -> assertThat(e.statusCode()).isEqualTo(403));
                bad.close();
            }
            assertThat(client.messages).noneMatch(m -> m.contains("forged"));
        } finally {
            client.close();
        }
    }

    private ApiGatewayManagementApiClient client(Region region, String key, String secret) {
        return ApiGatewayManagementApiClient.builder()
                .endpointOverride(emulator.managementEndpoint())
                .region(region)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key, secret)))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(1)))
                .build();
    }

    @Test
    void unavailableManagementApiAnswers503WhichTheSdkSeesAsARetryableServiceError() {
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        try {
            String id = onlyConnectionId();
            emulator.setManagementApiAvailable(false);
            ApiGatewayManagementApiClient impatient = ApiGatewayManagementApiClient.builder()
                    .endpointOverride(emulator.managementEndpoint())
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                    .httpClient(UrlConnectionHttpClient.create())
                    .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(3)
                            .backoffStrategy(BackoffStrategy.retryImmediately())
                            .throttlingBackoffStrategy(BackoffStrategy.retryImmediately())))
                    .build();
            assertThatThrownBy(() ->
                            impatient.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String("x"))))
                    .isInstanceOfSatisfying(ApiGatewayManagementApiException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(503);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ServiceUnavailableException");
                    });
            emulator.setManagementApiAvailable(true);
            sdk.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String("back")));
            assertThat(emulator.counters().managementCallsByStatus()).containsEntry(200, 1L);
            assertThat(emulator.counters().managementCallsByStatus())
                    .as("the SDK retried")
                    .containsEntry(503, 3L);
            impatient.close();
        } finally {
            client.close();
        }
    }

    @Test
    void killConnectionCutsTheSocketWithoutACloseFrameAndFiresDisconnect() throws Exception {
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        String id = onlyConnectionId();

        assertThat(emulator.killConnection(id)).isTrue();

        assertThat(client.awaitCloseCode())
                .as("no close frame, the client sees a broken connection")
                .isIn(-1, 1006);
        await().atMost(Duration.ofSeconds(30)).until(() -> disconnect.events.size() == 1);
        assertThat(disconnect.last().getRequestContext().getConnectionId()).isEqualTo(id);
        assertThat(((DisconnectRequestContext) disconnect.last().getRequestContext()).getDisconnectStatusCode())
                .isEqualTo(1006);
        assertThat(emulator.connectionIds()).isEmpty();
        assertThatThrownBy(() -> sdk.postToConnection(r -> r.connectionId(id).data(SdkBytes.fromUtf8String("x"))))
                .isInstanceOf(GoneException.class);
        assertThat(emulator.killConnection(id)).isFalse();
    }
}
