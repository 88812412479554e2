package io.durablesessions.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.function.ObjLongConsumer;
import java.util.stream.Stream;

/**
 * A client of the Durable Streams protocol (PROTOCOL.md of durable-streams/durable-streams), enough
 * for the benchmarks: create a JSON stream (PUT), append with an idempotent producer
 * ({@code Producer-Id}/{@code -Epoch}/{@code -Seq} headers; 200 new, 204 duplicate, 409 with
 * {@code Producer-Expected-Seq} when an earlier seq has not arrived yet), and read live over SSE
 * ({@code ?offset=…&live=sse}: an {@code event: data} per stored append, then {@code event: control}
 * with {@code streamNextOffset}) or long-poll ({@code ?offset=…&live=long-poll}).
 */
final class PeerClient {
    /** The reference server serves streams under any path; this is the one its docs use. */
    static final String STREAM_PATH = "/v1/stream/";

    private final URI base;
    // HTTP/1.1 as the server speaks it (no h2c upgrade attempts); one connection per request in flight
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();

    PeerClient(URI base) {
        this.base = base;
    }

    URI streamUrl(String stream) {
        return URI.create(base + STREAM_PATH + stream);
    }

    /** Creates an empty {@code application/json} stream; returns its tail offset. */
    String create(String stream) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(streamUrl(stream))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.noBody())
                .build());
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw new IllegalStateException("PUT " + stream + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.headers().firstValue("Stream-Next-Offset").orElse("-1");
    }

    /** The answer to one append attempt. */
    record Answer(int status, long expectedSeq) {}

    /** One POST of {@code jsonArray} (each element one message) as producer {@code (id, 0, seq)}; throws on I/O failure. */
    Answer append(String stream, String producerId, long seq, String jsonArray)
            throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(streamUrl(stream))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .header("Producer-Id", producerId)
                        .header("Producer-Epoch", "0")
                        .header("Producer-Seq", Long.toString(seq))
                        .POST(HttpRequest.BodyPublishers.ofString(jsonArray))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        long expected = r.headers()
                .firstValue("Producer-Expected-Seq")
                .map(Long::parseLong)
                .orElse(-1L);
        return new Answer(r.statusCode(), expected);
    }

    /**
     * A live reader over SSE from the stream's start: {@code onMessage} gets every message with the
     * time ({@link System#nanoTime()}) its data event arrived. Reconnects from the last control
     * event's offset when the server ends the response. {@link Reader#live} completes at the first
     * control event (the reader is attached).
     */
    Reader sse(String stream, ObjLongConsumer<JsonNode> onMessage) {
        Reader reader = new Reader();
        reader.thread = Thread.ofVirtual().name("peer-sse-" + stream).start(() -> {
            String offset = "-1";
            String cursor = null;
            while (!reader.closed) {
                URI uri = URI.create(streamUrl(stream) + "?live=sse&offset=" + enc(offset)
                        + (cursor == null ? "" : "&cursor=" + enc(cursor)));
                try {
                    HttpResponse<Stream<String>> r = http.send(
                            HttpRequest.newBuilder(uri)
                                    .header("Accept", "text/event-stream")
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofLines());
                    if (r.statusCode() != 200) throw new IllegalStateException("SSE answered " + r.statusCode());
                    reader.response = r.body();
                    String event = null;
                    StringBuilder data = new StringBuilder();
                    for (Iterator<String> it = r.body().iterator(); it.hasNext() && !reader.closed; ) {
                        String line = it.next();
                        long now = System.nanoTime();
                        if (line.isEmpty()) { // an event ends
                            if ("data".equals(event)) {
                                for (JsonNode m : Json.MAPPER.readTree(data.toString())) onMessage.accept(m, now);
                            } else if ("control".equals(event)) {
                                JsonNode c = Json.MAPPER.readTree(data.toString());
                                offset = c.path("streamNextOffset").asText(offset);
                                cursor = c.path("streamCursor").asText(cursor);
                                reader.live.complete(null);
                            }
                            event = null;
                            data.setLength(0);
                        } else if (line.startsWith("event:")) {
                            event = line.substring(6).strip();
                        } else if (line.startsWith("data:")) {
                            if (!data.isEmpty()) data.append('\n');
                            data.append(line.startsWith("data: ") ? line.substring(6) : line.substring(5));
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    if (reader.closed) return;
                    reader.failures++;
                    Benchmarks.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return reader;
    }

    /**
     * A live reader over long-poll from {@code offset}: each 200 carries the messages that arrived
     * (their arrival time is the response's), a 204 means the server's wait timed out.
     */
    Reader longPoll(String stream, String offset, ObjLongConsumer<JsonNode> onMessage) {
        Reader reader = new Reader();
        reader.thread = Thread.ofVirtual().name("peer-long-poll-" + stream).start(() -> {
            String at = offset;
            String cursor = null;
            while (!reader.closed) {
                URI uri = URI.create(streamUrl(stream) + "?live=long-poll&offset=" + enc(at)
                        + (cursor == null ? "" : "&cursor=" + enc(cursor)));
                try {
                    reader.live.complete(null); // the request is on its way; the caller settles before writing
                    HttpResponse<String> r =
                            http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
                    long now = System.nanoTime();
                    if (r.statusCode() == 200) {
                        for (JsonNode m : Json.MAPPER.readTree(r.body())) onMessage.accept(m, now);
                    } else if (r.statusCode() != 204) {
                        throw new IllegalStateException("long-poll answered " + r.statusCode());
                    }
                    at = r.headers().firstValue("Stream-Next-Offset").orElse(at);
                    cursor = r.headers().firstValue("Stream-Cursor").orElse(cursor);
                } catch (IOException | RuntimeException e) {
                    if (reader.closed) return;
                    reader.failures++;
                    Benchmarks.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return reader;
    }

    /** A running live reader; {@link #close()} ends it. */
    static final class Reader implements AutoCloseable {
        final CompletableFuture<Void> live = new CompletableFuture<>();
        volatile boolean closed;
        volatile long failures;
        volatile Stream<String> response;
        Thread thread;

        @Override
        public void close() {
            closed = true;
            Stream<String> r = response;
            if (r != null) r.close(); // closes the connection under a blocked SSE read
            thread.interrupt();
        }
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Ends every request still open (a reader's long-poll may be held by the server for 30 s). */
    void close() {
        http.shutdownNow();
    }
}
