package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.SessionStoreContractTest.custom;
import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.AppendResult;
import io.durablesessions.events.AppendResult.Appended;
import io.durablesessions.events.ClientMessage.Producer;
import io.durablesessions.events.Event;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.functions.testing.TestDynamo;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Writers of one session in one process (the local stack, or any host that runs the handlers
 * concurrently) take turns instead of racing: the same log as racing containers would write, without
 * the cancelled transactions. SessionStoreContractTest keeps one store per thread for the races.
 */
@EnabledIf(
        value = "io.durablesessions.functions.testing.TestDynamo#available",
        disabledReason = "no Docker engine: the LocalStack profile is skipped")
class SessionTurnsTest {
    static TestDynamo dynamo;
    static DynamoDbClient counted;
    static final AtomicInteger cancelled = new AtomicInteger();

    @BeforeAll
    static void start() {
        dynamo = TestDynamo.start();
        counted = dynamo.clientWith(new ExecutionInterceptor() {
            @Override
            public void onExecutionFailure(Context.FailedExecution failed, ExecutionAttributes attributes) {
                if (failed.exception() instanceof TransactionCanceledException) cancelled.incrementAndGet();
            }
        });
    }

    @AfterAll
    static void stop() {
        if (counted != null) counted.close();
        if (dynamo != null) dynamo.close();
    }

    @Test
    void eightWritersOfOneSessionInOneProcessNeverLoseARaceToEachOther() throws Exception {
        SessionStore store = new SessionStore(counted, dynamo.tables, Clock.systemUTC());
        String session = "turns-" + UUID.randomUUID();
        int writers = 8;
        int each = 50;
        cancelled.set(0);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<AppendResult>>> futures = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            String id = "w" + w;
            futures.add(pool.submit(() -> {
                go.await();
                List<AppendResult> results = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    results.add(store.append(
                            new AppendRequest(session, id, new Producer(id, 0, i), List.of(custom(id + "-" + i)))));
                }
                return results;
            }));
        }
        go.countDown();
        List<AppendResult> results = new ArrayList<>();
        for (Future<List<AppendResult>> f : futures) results.addAll(f.get());
        pool.shutdown();

        assertThat(results).allMatch(r -> r instanceof Appended);
        List<Event> log = new ArrayList<>();
        store.forEachAfter(session, 0, e -> log.add(Event.fromJson(e.json())));
        assertThat(log)
                .extracting(Event::seq)
                .containsExactlyElementsOf(
                        LongStream.rangeClosed(1, writers * each).boxed().toList());
        assertThat(cancelled.get()).as("transactions cancelled by a race").isZero();
        assertThat(store.turnsInUse()).as("turns left behind").isZero();
    }

    @Test
    void aPipelinedAppendWaitingForItsPredecessorDoesNotHoldTheTurn() throws Exception {
        SessionStore store = new SessionStore(counted, dynamo.tables, Clock.systemUTC());
        String session = "turns-" + UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            // seq 1 first: it waits for seq 0, which must be able to commit meanwhile
            Future<AppendResult> second = pool.submit(() ->
                    store.append(new AppendRequest(session, "a", new Producer("p", 0, 1), List.of(custom("second")))));
            Future<AppendResult> first = pool.submit(() ->
                    store.append(new AppendRequest(session, "a", new Producer("p", 0, 0), List.of(custom("first")))));
            assertThat(first.get()).isInstanceOf(Appended.class);
            assertThat(((Appended) first.get()).firstSeq()).isEqualTo(1);
            assertThat(second.get()).isInstanceOf(Appended.class);
            assertThat(((Appended) second.get()).firstSeq()).isEqualTo(2);
        } finally {
            pool.shutdown();
        }
        assertThat(store.turnsInUse()).isZero();
    }
}
