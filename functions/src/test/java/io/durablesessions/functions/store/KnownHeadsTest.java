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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;

/**
 * A store appends to a session after its own last commit without reading the head again
 * ({@link KnownHeads}); what another process did meanwhile is decided by the head condition, and a
 * duplicate or a refusal is never answered from the remembered row.
 */
@EnabledIf(
        value = "io.durablesessions.functions.testing.TestDynamo#available",
        disabledReason = "no Docker engine: the LocalStack profile is skipped")
class KnownHeadsTest {
    static TestDynamo dynamo;

    @BeforeAll
    static void start() {
        dynamo = TestDynamo.start();
    }

    @AfterAll
    static void stop() {
        if (dynamo != null) dynamo.close();
    }

    /** A store (a Lambda container) whose SESSION reads are counted. */
    record Container(SessionStore store, AtomicInteger sessionReads, DynamoDbClient client) implements AutoCloseable {
        static Container start() {
            AtomicInteger reads = new AtomicInteger();
            DynamoDbClient client = dynamo.clientWith(new ExecutionInterceptor() {
                @Override
                public void beforeExecution(Context.BeforeExecution ctx, ExecutionAttributes attributes) {
                    if (ctx.request() instanceof GetItemRequest get
                            && Keys.SESSION.equals(get.key().get(Attrs.SK).s())) {
                        reads.incrementAndGet();
                    }
                }
            });
            return new Container(new SessionStore(client, dynamo.tables, Clock.systemUTC()), reads, client);
        }

        AppendResult append(String session, String writer, Producer p, String name) {
            return store.append(new AppendRequest(session, writer, p, List.of(custom(name))));
        }

        @Override
        public void close() {
            client.close();
        }
    }

    static long firstSeq(AppendResult r) {
        assertThat(r).isInstanceOf(Appended.class);
        return ((Appended) r).firstSeq();
    }

    @Test
    void aWriterThatAppendedLastAppendsAgainWithoutReadingTheHead() {
        String session = "known-" + UUID.randomUUID();
        try (Container c = Container.start()) {
            assertThat(firstSeq(c.append(session, "a", new Producer("pa", 0, 0), "a0")))
                    .isEqualTo(1);
            int afterFirst = c.sessionReads.get();
            for (int i = 1; i <= 5; i++) {
                assertThat(firstSeq(c.append(session, "a", new Producer("pa", 0, i), "a" + i)))
                        .isEqualTo(i + 1);
            }
            assertThat(c.sessionReads.get() - afterFirst)
                    .as("SESSION reads for 5 more appends")
                    .isZero();
        }
    }

    @Test
    void aHeadMovedByAnotherProcessIsCaughtByTheConditionAndTheAppendTakesTheNextSeq() {
        String session = "known-" + UUID.randomUUID();
        try (Container mine = Container.start();
                Container other = Container.start()) {
            firstSeq(mine.append(session, "a", new Producer("pa", 0, 0), "a0"));
            firstSeq(other.append(session, "b", new Producer("pb", 0, 0), "b0"));
            // mine remembers head 1; the condition fails on head 2 and the retry takes seq 3
            assertThat(firstSeq(mine.append(session, "a", new Producer("pa", 0, 1), "a1")))
                    .isEqualTo(3);
            // and the producers' positions are intact: both retries are duplicates
            assertThat(mine.append(session, "b", new Producer("pb", 0, 0), "b0"))
                    .isEqualTo(new AppendResult.Duplicate(2L, 2L));
            assertThat(other.append(session, "a", new Producer("pa", 0, 1), "a1"))
                    .isEqualTo(new AppendResult.Duplicate(3L, 3L));
        }
    }

    @Test
    void aDuplicateIsNeverAnsweredFromTheRememberedRow() {
        // the session is erased and its writer starts again at seq 0: the remembered row (pa at seq 2)
        // would call that a duplicate; the store reads the head before answering
        String session = "known-" + UUID.randomUUID();
        try (Container c = Container.start()) {
            for (int i = 0; i < 3; i++) firstSeq(c.append(session, "a", new Producer("pa", 0, i), "a" + i));
            new SessionCatalog(dynamo.client, dynamo.tables, Clock.systemUTC()).erase(session);
            assertThat(firstSeq(c.append(session, "a", new Producer("pa", 0, 0), "again")))
                    .isEqualTo(1);
        }
    }

    @Test
    void aSessionErasedAndWrittenAgainToTheSameHeadIsAnotherRow() {
        // mine remembers head 1 with pa hot; the session is erased and another process writes it to head 1
        // again with pb: mine's append must not commit on the remembered row (pb's position would be lost)
        String session = "known-" + UUID.randomUUID();
        try (Container mine = Container.start();
                Container other = Container.start()) {
            firstSeq(mine.append(session, "a", new Producer("pa", 0, 0), "a0"));
            new SessionCatalog(dynamo.client, dynamo.tables, Clock.systemUTC()).erase(session);
            untilTheClockTicks(); // the new row's createdAt is a later millisecond
            firstSeq(other.append(session, "b", new Producer("pb", 0, 0), "b0"));
            assertThat(firstSeq(mine.append(session, "a", new Producer("pa", 1, 0), "a-new")))
                    .isEqualTo(2);
            assertThat(other.append(session, "b", new Producer("pb", 0, 0), "b0"))
                    .as("pb's retry after mine's append")
                    .isEqualTo(new AppendResult.Duplicate(1L, 1L));
            List<String> names = new ArrayList<>();
            mine.store.forEachAfter(
                    session, 0, e -> names.add(Event.fromJson(e.json()).dataText("name")));
            assertThat(names).containsExactly("b0", "a-new");
        }
    }

    private static void untilTheClockTicks() {
        long now = System.currentTimeMillis();
        while (System.currentTimeMillis() <= now) Thread.onSpinWait();
    }
}
