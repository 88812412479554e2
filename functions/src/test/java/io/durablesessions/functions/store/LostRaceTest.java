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
import java.util.concurrent.atomic.AtomicBoolean;
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
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

/**
 * Two Lambda containers appending to one session: the one that loses the race retries from the
 * SESSION row its failed head condition returned, instead of reading it again (one round trip less
 * per lost race on AWS, where the race is decided in DynamoDB).
 */
@EnabledIf(
        value = "io.durablesessions.functions.testing.TestDynamo#available",
        disabledReason = "no Docker engine: the LocalStack profile is skipped")
class LostRaceTest {
    static TestDynamo dynamo;

    @BeforeAll
    static void start() {
        dynamo = TestDynamo.start();
    }

    @AfterAll
    static void stop() {
        if (dynamo != null) dynamo.close();
    }

    @Test
    void theLoserRetriesFromTheRowItsFailedConditionReturned() {
        String session = "race-" + UUID.randomUUID();
        SessionStore winner = new SessionStore(dynamo.client, dynamo.tables, Clock.systemUTC());
        winner.append(new AppendRequest(session, "a", new Producer("pa", 0, 0), List.of(custom("a0"))));

        AtomicBoolean raceArmed = new AtomicBoolean(true);
        AtomicInteger sessionReads = new AtomicInteger();
        try (DynamoDbClient loserClient = dynamo.clientWith(new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution ctx, ExecutionAttributes attributes) {
                if (ctx.request() instanceof GetItemRequest get
                        && Keys.SESSION.equals(get.key().get(Attrs.SK).s())) {
                    sessionReads.incrementAndGet();
                }
                // the other container commits between the loser's read and its transaction
                if (ctx.request() instanceof TransactWriteItemsRequest && raceArmed.compareAndSet(true, false)) {
                    winner.append(new AppendRequest(session, "a", new Producer("pa", 0, 1), List.of(custom("a1"))));
                }
            }
        })) {
            SessionStore loser = new SessionStore(loserClient, dynamo.tables, Clock.systemUTC());
            AppendResult r =
                    loser.append(new AppendRequest(session, "b", new Producer("pb", 0, 0), List.of(custom("b0"))));

            assertThat(r).isInstanceOf(Appended.class);
            assertThat(((Appended) r).firstSeq()).isEqualTo(3);
            assertThat(raceArmed).isFalse();
            assertThat(sessionReads).as("SESSION reads by the loser").hasValue(1);
        }
        List<String> names = new ArrayList<>();
        winner.forEachAfter(session, 0, e -> names.add(Event.fromJson(e.json()).dataText("name")));
        assertThat(names).containsExactly("a0", "a1", "b0");
        // and the producers' positions survived the spill the loser's retry made: retries are duplicates
        assertThat(winner.append(new AppendRequest(session, "a", new Producer("pa", 0, 1), List.of(custom("a1")))))
                .isEqualTo(new AppendResult.Duplicate(2L, 2L));
        assertThat(winner.append(new AppendRequest(session, "b", new Producer("pb", 0, 0), List.of(custom("b0")))))
                .isEqualTo(new AppendResult.Duplicate(3L, 3L));
    }
}
