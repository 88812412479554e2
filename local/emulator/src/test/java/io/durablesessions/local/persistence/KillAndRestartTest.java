package io.durablesessions.local.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.store.SessionStore;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.local.e2e.WsClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * DS_DATA_DIR: the local stack runs in a child JVM while an agent streams into it, is killed with
 * SIGKILL mid-stream, and is started again on the same data directory. Every acknowledged event
 * must be there, at its acknowledged seq, in a gapless log, and the producer's state must have
 * survived: re-sending the last acknowledged append is answered as a duplicate.
 */
class KillAndRestartTest {
    @TempDir
    Path dataDir;

    /** A local stack in its own JVM, as scripts/local runs it. */
    record Child(Process process, URI webSocket, URI dynamo) {
        static Child start(Path dataDir) throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.durablesessions.local.EmbeddedStackMain");
            pb.environment().put("DS_LOCAL_PORT", "0");
            pb.environment().put("DS_DATA_DIR", dataDir.toString());
            pb.environment().put("DS_REQUEST_LOG", "off");
            pb.redirectErrorStream(true);
            Process p = pb.start();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r =
                        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) lines.add(line);
                } catch (IOException ignored) {
                    // the process was killed
                }
            });
            URI ws = null, dynamo = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while ((ws == null || dynamo == null) && System.nanoTime() < deadline) {
                String line = lines.poll(1, TimeUnit.SECONDS);
                if (line == null) {
                    if (!p.isAlive()) break;
                    continue;
                }
                System.out.println("[child] " + line);
                String t = line.trim();
                if (t.startsWith("WebSocket API"))
                    ws = URI.create(t.substring("WebSocket API".length()).trim());
                if (t.startsWith("DynamoDB endpoint"))
                    dynamo = URI.create(
                            t.substring("DynamoDB endpoint".length()).trim().split("\\s+")[0]);
            }
            if (ws == null || dynamo == null) {
                p.destroyForcibly();
                throw new IllegalStateException("the local stack did not start; its output: " + lines);
            }
            return new Child(p, ws, dynamo);
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL on Linux and macOS: no shutdown hook runs
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    record Ack(long firstSeq, long lastSeq, List<JsonNode> events) {}

    static ObjectNode appendFrame(String session, long producerSeq, List<JsonNode> events) {
        ObjectNode f = Json.object().put("action", "append").put("sessionId", session);
        f.putObject("producer").put("id", "writer-1").put("epoch", 0).put("seq", producerSeq);
        ArrayNode arr = f.putArray("events");
        events.forEach(arr::add);
        return f;
    }

    static List<JsonNode> events(long producerSeq) {
        List<JsonNode> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ObjectNode data = Json.object().put("name", "e");
            data.putObject("payload").put("p", producerSeq).put("i", i);
            out.add(Json.object().put("type", "custom").set("data", data));
        }
        return out;
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void everyAcknowledgedEventSurvivesASigkillMidStreamAndARetryIsStillADuplicate() throws Exception {
        String session = "kill-" + System.nanoTime();
        Map<Long, Ack> acks = new ConcurrentSkipListMap<>();
        Child first = Child.start(dataDir);
        WsClient agent = WsClient.connect(first.webSocket(), "id=writer-1&role=agent");
        AtomicBoolean killed = new AtomicBoolean();
        long[] next = {0};
        Thread writer = Thread.ofPlatform().name("agent").start(() -> {
            while (!killed.get()) {
                long seq = next[0];
                List<JsonNode> evs = events(seq);
                try {
                    JsonNode answer = agent.request(appendFrame(session, seq, evs));
                    if (!"ack".equals(answer.path("type").asText()))
                        throw new IllegalStateException("not acked: " + answer);
                    acks.put(
                            seq,
                            new Ack(
                                    answer.get("firstSeq").asLong(),
                                    answer.get("lastSeq").asLong(),
                                    evs));
                    next[0] = seq + 1;
                } catch (RuntimeException | AssertionError lostWithTheProcess) {
                    return; // the answer died with the process: this append is in flight, unknown
                }
            }
        });
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acks.size() < 150 && System.nanoTime() < until && writer.isAlive()) Thread.sleep(5);
        assertThat(acks.size()).as("appends acknowledged before the kill").isGreaterThanOrEqualTo(150);
        first.kill(); // while the agent is still streaming
        killed.set(true);
        writer.join(15_000);
        agent.abort();
        long inFlight = next[0];
        System.out.printf(
                "[kill] %d appends acknowledged before SIGKILL; producer seq %d was in flight%n",
                acks.size(), inFlight);

        Child second = Child.start(dataDir);
        try (DynamoDbClient ddb = Clients.dynamo(Region.US_EAST_1, second.dynamo())) {
            SessionStore store = new SessionStore(ddb, TableNames.fromEnvironment(Map.of()), Clock.systemUTC());
            List<ObjectNode> stored = new ArrayList<>();
            store.forEachAfter(session, 0, e -> stored.add(Json.parseObject(e.json())));
            for (int i = 0; i < stored.size(); i++)
                assertThat(stored.get(i).get("seq").asLong()).isEqualTo(i + 1);
            for (Map.Entry<Long, Ack> e : acks.entrySet()) {
                Ack ack = e.getValue();
                for (int i = 0; i < ack.events().size(); i++) {
                    long seq = ack.firstSeq() + i;
                    assertThat(seq)
                            .as("acked seq of producer seq %d", e.getKey())
                            .isLessThanOrEqualTo(stored.size());
                    ObjectNode got = stored.get((int) seq - 1);
                    assertThat(got.get("data").toString())
                            .isEqualTo(ack.events().get(i).get("data").toString());
                }
            }
            // the in-flight append is either fully there (written, answer lost) or not at all
            long lastAcked = acks.get(inFlight - 1).lastSeq();
            assertThat(stored.size()).isIn((int) lastAcked, (int) lastAcked + 3);

            WsClient again = WsClient.connect(second.webSocket(), "id=writer-1&role=agent");
            try {
                Ack last = acks.get(inFlight - 1);
                JsonNode dup = again.request(appendFrame(session, inFlight - 1, last.events()));
                assertThat(dup.path("type").asText()).isEqualTo("ack");
                assertThat(dup.path("duplicate").asBoolean())
                        .as("re-sent last acked append: %s", dup)
                        .isTrue();
                assertThat(dup.path("firstSeq").asLong()).isEqualTo(last.firstSeq());
                // the append that was in flight: re-sending it resolves it, exactly once
                JsonNode resolved = again.request(appendFrame(session, inFlight, events(inFlight)));
                assertThat(resolved.path("type").asText()).isEqualTo("ack");
                assertThat(resolved.path("firstSeq").asLong()).isEqualTo(lastAcked + 1);
                System.out.printf(
                        "[kill] after restart: %d events stored, in-flight append %s%n",
                        stored.size(),
                        resolved.path("duplicate").asBoolean()
                                ? "had been written (duplicate)"
                                : "had not been written (new)");
            } finally {
                again.close();
            }
        } finally {
            second.kill();
        }
    }
}
