package io.durablesessions.functions.bench;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.functions.runtime.Clients;
import io.durablesessions.functions.store.SessionStore;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Prints what one append costs in DynamoDB write/read units (DynamoDB's formulas, as the embedded
 * endpoint computes them) and how many appends per second one session takes on the embedded
 * DynamoDB. A benchmark, not a test: it asserts nothing about speed.
 * Run: {@code ./mvnw -pl functions test -Dtest=AppendCostBench -Dbench=true}
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class AppendCostBench {
    static EventInput delta(String run, int i) {
        return EventInput.of(
                EventType.TEXT_DELTA, run, Json.object().put("messageId", "m").put("text", "token " + i + " "));
    }

    @Test
    void costAndThroughputOfAppends() throws Exception {
        try (LocalDynamoDb server = LocalDynamoDb.start()) {
            DynamoDbClient ddb = Clients.dynamo(Region.US_EAST_1, server.endpoint());
            TableNames tables = TableNames.withPrefix("bench-");
            TableProvisioner.createAll(ddb, tables);
            SessionStore store = new SessionStore(ddb, tables, Clock.systemUTC());
            store.append(new AppendRequest(
                    "cost",
                    "agent",
                    new Producer("p", 0, 0),
                    List.of(
                            EventInput.of(EventType.RUN_STARTED, "r", Json.object()),
                            EventInput.of(
                                    EventType.MESSAGE_START,
                                    "r",
                                    Json.object().put("messageId", "m").put("role", "assistant")))));
            int n = 200;
            System.out.println("== cost of one append of one small event (average of " + n + ") ==");
            measure(
                    server,
                    "plain",
                    n,
                    i -> store.append(new AppendRequest(
                            "cost-plain",
                            "agent",
                            null,
                            List.of(EventInput.of(
                                    EventType.CUSTOM, null, Json.object().put("name", "e" + i))))));
            measure(
                    server,
                    "with producer",
                    n,
                    i -> store.append(new AppendRequest(
                            "cost-prod",
                            "agent",
                            new Producer("p", 0, i),
                            List.of(EventInput.of(
                                    EventType.CUSTOM, null, Json.object().put("name", "e" + i))))));
            measure(
                    server,
                    "with producer + run",
                    n,
                    i -> store.append(
                            new AppendRequest("cost", "agent", new Producer("p", 0, i + 1), List.of(delta("r", i)))));
            measure(server, "with producer + run, 10 deltas", n, i -> {
                List<EventInput> batch = new ArrayList<>();
                for (int k = 0; k < 10; k++) batch.add(delta("r", k));
                return store.append(new AppendRequest("cost", "agent", new Producer("p", 0, i + 1 + n), batch));
            });

            System.out.println("== appends/s into one session (embedded DynamoDB, producer + run, 1 event each) ==");
            for (int writers : new int[] {1, 8}) {
                int each = writers == 1 ? 1000 : 250;
                String s = "tp-" + writers;
                for (int w = 0; w < writers; w++) {
                    store.append(new AppendRequest(
                            s,
                            "agent-" + w,
                            new Producer("w" + w, 0, 0),
                            List.of(EventInput.of(EventType.RUN_STARTED, "r" + w, Json.object()))));
                }
                ExecutorService pool = Executors.newFixedThreadPool(writers);
                long t0 = System.nanoTime();
                List<Future<?>> fs = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int writer = w;
                    fs.add(pool.submit(() -> {
                        for (int i = 1; i <= each; i++) {
                            AppendResult r;
                            do {
                                r = store.append(new AppendRequest(
                                        s,
                                        "agent-" + writer,
                                        new Producer("w" + writer, 0, i),
                                        List.of(delta("r" + writer, i))));
                            } while (r instanceof AppendResult.Contention);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get();
                double secs = (System.nanoTime() - t0) / 1e9;
                pool.shutdown();
                System.out.printf(
                        "  %d writer(s): %d appends in %.1f s = %.0f appends/s (head %d)%n",
                        writers, writers * each, secs, writers * each / secs, store.head(s));
            }
        }
    }

    interface Op {
        AppendResult run(int i);
    }

    static void measure(LocalDynamoDb server, String label, int n, Op op) {
        server.stats().reset();
        for (int i = 0; i < n; i++) {
            AppendResult r = op.run(i);
            if (!(r instanceof AppendResult.Appended)) throw new IllegalStateException(label + ": " + r);
        }
        var snap = server.stats().snapshot();
        double wcu = snap.writeCapacityUnitsByTable().values().stream()
                        .mapToDouble(Double::doubleValue)
                        .sum()
                / n;
        double rcu = snap.readCapacityUnitsByTable().values().stream()
                        .mapToDouble(Double::doubleValue)
                        .sum()
                / n;
        System.out.printf("  %-32s %5.2f WCU  %5.2f RCU  per append%n", label, wcu, rcu);
    }
}
