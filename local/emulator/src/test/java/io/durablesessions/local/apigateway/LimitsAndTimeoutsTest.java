package io.durablesessions.local.apigateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * API Gateway quotas: 32 KB frames, 128 KB messages (a bigger one closes the connection with 1009),
 * 10 min idle timeout and 2 h maximum duration (closed with 1001 "Going away"), here shortened.
 */
class LimitsAndTimeoutsTest {

    private final RecordingHandler messages = RecordingHandler.ok();
    private final RecordingHandler disconnect = RecordingHandler.ok();
    private WebSocketApiEmulator emulator;

    @AfterEach
    void stop() {
        if (emulator != null) {
            emulator.close();
        }
    }

    private void start(WebSocketApiEmulator.Builder builder) {
        emulator = builder.defaultRoute(messages)
                .route("$disconnect", disconnect)
                .build()
                .start();
    }

    private int disconnectStatus() {
        await().atMost(Duration.ofSeconds(30)).until(() -> disconnect.events.size() == 1);
        return ((DisconnectRequestContext) disconnect.last().getRequestContext()).getDisconnectStatusCode();
    }

    @Test
    void aFrameOver32KbClosesTheConnectionWith1009() throws Exception {
        start(WebSocketApiEmulator.builder());
        // the JDK client splits big messages into small frames, so speak the protocol by hand
        try (Socket socket = new Socket("127.0.0.1", emulator.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /local HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            String handshake = readHeaders(in);
            assertThat(handshake).startsWith("HTTP/1.1 101");

            int length = 32 * 1024 + 1;
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x81); // FIN + text
            frame.write(0x80 | 126); // masked, 16-bit length
            frame.write(length >> 8);
            frame.write(length & 0xff);
            frame.write(new byte[4]); // zero mask: payload goes as is
            frame.write("x".repeat(length).getBytes(StandardCharsets.US_ASCII));
            out.write(frame.toByteArray());
            out.flush();

            assertThat(in.readUnsignedByte() & 0x0f).as("a close frame").isEqualTo(0x8);
            in.readUnsignedByte(); // unmasked payload length
            assertThat(in.readUnsignedShort()).isEqualTo(1009);
        }
        assertThat(disconnectStatus()).isEqualTo(1009);
        assertThat(messages.events).isEmpty();
    }

    private static String readHeaders(DataInputStream in) throws java.io.IOException {
        StringBuilder headers = new StringBuilder();
        while (!headers.toString().endsWith("\r\n\r\n")) {
            headers.append((char) in.readUnsignedByte());
        }
        return headers.toString();
    }

    @Test
    void aMessageOver128KbSentIn32KbFramesClosesTheConnectionWith1009() throws Exception {
        start(WebSocketApiEmulator.builder());
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        String frame = "x".repeat(32 * 1024);
        for (int i = 0; i < 4; i++) {
            client.socket.sendText(frame, false).join();
        }
        client.socket.sendText("y", true);
        assertThat(client.awaitCloseCode()).isEqualTo(1009);
        assertThat(disconnectStatus()).isEqualTo(1009);
        assertThat(messages.events).isEmpty();
    }

    @Test
    void exactly128KbIn32KbFramesIsOneMessage() {
        start(WebSocketApiEmulator.builder());
        try (TestClient client = TestClient.connect(emulator.webSocketUrl())) {
            String frame = "x".repeat(32 * 1024);
            for (int i = 0; i < 4; i++) {
                client.socket.sendText(frame, i == 3).join();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> messages.events.size() == 1);
            assertThat(messages.last().getBody()).hasSize(128 * 1024);
        }
    }

    @Test
    void anIdleConnectionIsClosedWithGoingAwayAndDisconnectFires() throws Exception {
        start(WebSocketApiEmulator.builder().idleTimeout(Duration.ofSeconds(1)));
        long started =
                System.nanoTime(); // before the connection exists: the measured time is never shorter than its life
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        assertThat(client.awaitCloseCode()).isEqualTo(1001);
        // not before the idle timeout; the upper bound only catches a connection that is never closed
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isBetween(Duration.ofMillis(900), Duration.ofSeconds(30));
        assertThat(disconnectStatus()).isEqualTo(1001);
        assertThat(((DisconnectRequestContext) disconnect.last().getRequestContext()).getDisconnectReason())
                .isEqualTo("Going away");
        assertThat(emulator.connectionIds()).isEmpty();
    }

    @Test
    void clientMessagesKeepAConnectionAliveButNotBeyondTheMaximumDuration() throws Exception {
        // a message every 300 ms keeps it alive with a wide margin to the idle timeout, even on a busy machine
        start(WebSocketApiEmulator.builder()
                .idleTimeout(Duration.ofSeconds(2))
                .maxConnectionDuration(Duration.ofSeconds(5)));
        long started =
                System.nanoTime(); // before the connection exists: the measured time is never shorter than its life
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        while (!client.closeCode.isDone() && System.nanoTime() - started < 60_000_000_000L) {
            client.send("still here");
            Thread.sleep(300);
        }
        assertThat(client.awaitCloseCode()).isEqualTo(1001);
        // closed at the maximum duration, not at the idle timeout; the upper bound only catches one never closed
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isBetween(Duration.ofMillis(4900), Duration.ofSeconds(30));
        assertThat(disconnectStatus()).isEqualTo(1001);
    }

    @Test
    void closingTheEmulatorDisconnectsEveryone() throws Exception {
        start(WebSocketApiEmulator.builder());
        TestClient client = TestClient.connect(emulator.webSocketUrl());
        await().atMost(Duration.ofSeconds(30))
                .until(() -> emulator.connectionIds().size() == 1);
        emulator.close();
        assertThat(client.awaitCloseCode()).isEqualTo(1001);
        assertThat(disconnectStatus()).isEqualTo(1001);
        emulator = null;
    }
}
