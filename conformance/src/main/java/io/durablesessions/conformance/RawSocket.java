package io.durablesessions.conformance;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLSocketFactory;

/**
 * A WebSocket spoken by hand, for what the JDK's client will not send: one frame over 32 KB (the
 * JDK splits large messages into small frames) and text that is not UTF-8. It performs the
 * handshake of RFC 6455, writes one masked frame and reports the close status the server answers.
 */
final class RawSocket {
    private static final SecureRandom RANDOM = new SecureRandom();

    private RawSocket() {}

    /**
     * Connects to {@code uri} (ws or wss), sends one frame with {@code opcode} and {@code payload},
     * and returns the status of the server's close frame; -1 when the server dropped the connection
     * without one, null when it stayed open until the timeout.
     */
    static Integer sendFrameAndAwaitClose(URI uri, int opcode, byte[] payload, Duration timeout) throws IOException {
        boolean tls = "wss".equals(uri.getScheme());
        int port = uri.getPort() != -1 ? uri.getPort() : tls ? 443 : 80;
        Socket socket = tls ? SSLSocketFactory.getDefault().createSocket() : new Socket();
        try (socket) {
            socket.connect(new InetSocketAddress(uri.getHost(), port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] keyBytes = new byte[16];
            RANDOM.nextBytes(keyBytes);
            String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            String request =
                    "GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + (uri.getPort() != -1 ? ":" + port : "")
                            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                            + Base64.getEncoder().encodeToString(keyBytes) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = line(in);
            if (!status.matches("HTTP/1\\.1 101.*")) throw new IOException("handshake refused: " + status);
            while (!line(in).isEmpty()) {
                // response headers: nothing the kit needs
            }
            out.write(frame(opcode, payload));
            out.flush();
            try {
                while (true) {
                    int b0 = in.readUnsignedByte();
                    int b1 = in.readUnsignedByte();
                    long len = b1 & 0x7f;
                    if (len == 126) len = in.readUnsignedShort();
                    else if (len == 127) len = in.readLong();
                    byte[] body = new byte[(int) Math.min(len, 1 << 20)];
                    in.readFully(body);
                    if ((b0 & 0x0f) == 0x8) return body.length >= 2 ? ((body[0] & 0xff) << 8) | (body[1] & 0xff) : 1005;
                }
            } catch (EOFException | SocketException e) {
                return -1;
            } catch (SocketTimeoutException e) {
                return null;
            }
        }
    }

    private static byte[] frame(int opcode, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x80 | opcode); // FIN
        int n = payload.length;
        if (n < 126) {
            f.write(0x80 | n);
        } else if (n < 65536) {
            f.write(0x80 | 126);
            f.write(n >> 8);
            f.write(n & 0xff);
        } else {
            f.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) f.write((int) ((long) n >> (8 * i)) & 0xff);
        }
        byte[] mask = new byte[4];
        RANDOM.nextBytes(mask);
        f.writeBytes(mask);
        byte[] masked = new byte[n];
        for (int i = 0; i < n; i++) masked[i] = (byte) (payload[i] ^ mask[i % 4]);
        f.writeBytes(masked);
        return f.toByteArray();
    }

    private static String line(DataInputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') break;
            if (c != '\r') sb.append((char) c);
        }
        if (c == -1 && sb.isEmpty()) throw new EOFException("connection closed during the handshake");
        return sb.toString();
    }
}
