package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.client.AppendPolicy.Attempt;
import io.durablesessions.client.AppendPolicy.Batch;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AppendPolicyTest {
    /** A backoff without jitter: 1 s, 2 s, 3 s, … */
    final AppendPolicy policy = new AppendPolicy(n -> Duration.ofSeconds(n + 1));

    final Batch deltas = new Batch(List.of(EventType.TEXT_DELTA, EventType.TEXT_DELTA), Set.of("m-1"), false);
    final Batch completion = new Batch(List.of(EventType.MESSAGE_END, EventType.RUN_COMPLETED), Set.of("m-1"), false);
    final Batch stopAck = new Batch(List.of(EventType.RUN_STOP_ACKNOWLEDGED), Set.of(), true);

    static AgentTransport.Refused refused(String code, ObjectNode details, long retryAfterMs) {
        return new AgentTransport.Refused(code, "…", details, retryAfterMs);
    }

    @Test
    void anAckStoresTheBatch() {
        assertThat(policy.decide(new AgentTransport.Acked(5, 6, true), deltas, Attempt.FIRST))
                .isEqualTo(new AppendPolicy.Stored(5, 6, true));
    }

    @Test
    void aLostAnswerIsSentAgainAtOnceThenPacedFromTheAttemptsStart() {
        assertThat(policy.decide(new AgentTransport.Lost("timeout"), deltas, Attempt.FIRST))
                .isEqualTo(new AppendPolicy.Resend(0, "lost: timeout", true));
        // third attempt: the backoff of the second re-send (2 s), less the 300 ms this attempt already waited
        assertThat(policy.decide(new AgentTransport.Lost("timeout"), deltas, new Attempt(2, true, 300)))
                .isEqualTo(new AppendPolicy.Resend(1700, "lost: timeout", true));
        assertThat(policy.decide(new AgentTransport.Lost("timeout"), deltas, new Attempt(1, true, 5000)))
                .isEqualTo(new AppendPolicy.Resend(0, "lost: timeout", true));
    }

    @Test
    void transientRefusalsAreSentAgainAfterTheBackoffOrTheServicesHintWhicheverIsLonger() {
        assertThat(policy.decide(refused("CONTENTION", Json.object(), 0), deltas, new Attempt(1, false, 0)))
                .isEqualTo(new AppendPolicy.Resend(2000, "CONTENTION", false));
        assertThat(policy.decide(refused("RATE_LIMITED", Json.object(), 7000), deltas, Attempt.FIRST))
                .isEqualTo(new AppendPolicy.Resend(7000, "RATE_LIMITED", false));
        assertThat(policy.decide(refused("INTERNAL", Json.object(), 0), deltas, Attempt.FIRST))
                .isInstanceOf(AppendPolicy.Resend.class);
    }

    @Test
    void anInterruptedReplyIsTakenOutAndTheRestGoesAgain() {
        assertThat(policy.decide(
                        refused("MESSAGE_FENCED", Json.object().put("messageId", "m-2"), 0), deltas, Attempt.FIRST))
                .isEqualTo(new AppendPolicy.FenceMessages(Set.of("m-2")));
        // no messageId named: every reply of the batch
        assertThat(policy.decide(refused("MESSAGE_FENCED", Json.object(), 0), deltas, Attempt.FIRST))
                .isEqualTo(new AppendPolicy.FenceMessages(Set.of("m-1")));
    }

    @Test
    void aFencedRunDropsTheBatchUnlessOurOwnUnansweredAttemptEndedIt() {
        ObjectNode completed = Json.object().put("state", "completed");
        assertThat(policy.decide(
                        refused("RUN_FENCED", Json.object().put("state", "stop_requested"), 0), deltas, Attempt.FIRST))
                .isEqualTo(new AppendPolicy.FenceRun("stop_requested"));
        assertThat(policy.decide(refused("RUN_FENCED", completed, 0), completion, new Attempt(1, true, 0)))
                .isEqualTo(new AppendPolicy.StoredEarlier("completed"));
        // never sent without an answer: somebody else's completion (or a failure) fenced it
        assertThat(policy.decide(refused("RUN_FENCED", completed, 0), completion, new Attempt(1, false, 0)))
                .isEqualTo(new AppendPolicy.FenceRun("completed"));
        assertThat(policy.decide(
                        refused("RUN_FENCED", Json.object().put("state", "failed"), 0),
                        completion,
                        new Attempt(1, true, 0)))
                .isEqualTo(new AppendPolicy.FenceRun("failed"));
    }

    @Test
    void aStaleEpochFencesTheProducer() {
        AppendPolicy.Decision d = policy.decide(refused("STALE_EPOCH", Json.object(), 0), deltas, Attempt.FIRST);
        assertThat(d).isInstanceOfSatisfying(AppendPolicy.ProducerFenced.class, f -> {
            assertThat(f.error()).isInstanceOf(DurableSessionException.ProducerFencedException.class);
            assertThat(f.error().errorCode()).isEqualTo(ErrorCode.STALE_EPOCH);
        });
    }

    @Test
    void aStopAcknowledgementThatOvertookTheStopIsSentAgainAFewTimesThenDropped() {
        ObjectNode running = Json.object().put("state", "running");
        assertThat(policy.decide(refused("INVALID_TRANSITION", running, 0), stopAck, new Attempt(2, false, 0)))
                .isEqualTo(new AppendPolicy.Resend(3000, "stop being recorded", false));
        assertThat(policy.decide(
                        refused("INVALID_TRANSITION", running, 0),
                        stopAck,
                        new Attempt(AppendPolicy.STOP_RECORDING_ATTEMPTS, false, 0)))
                .isEqualTo(new AppendPolicy.Dropped("INVALID_TRANSITION"));
        // the service's own run.stopped came first
        assertThat(policy.decide(
                        refused("INVALID_TRANSITION", Json.object().put("state", "stopped"), 0),
                        stopAck,
                        Attempt.FIRST))
                .isEqualTo(new AppendPolicy.Dropped("INVALID_TRANSITION"));
        assertThat(policy.decide(refused("INVALID_TRANSITION", Json.object(), 0), deltas, Attempt.FIRST))
                .isInstanceOf(AppendPolicy.Failed.class);
    }

    @Test
    void everythingElseFailsWithItsTypedException() {
        assertThat(policy.decide(refused("UNAUTHORIZED", Json.object(), 0), deltas, Attempt.FIRST))
                .isInstanceOfSatisfying(
                        AppendPolicy.Failed.class,
                        f -> assertThat(f.error()).isInstanceOf(DurableSessionException.UnauthorizedException.class));
        assertThat(policy.decide(refused("FORBIDDEN", Json.object(), 0), deltas, Attempt.FIRST))
                .isInstanceOfSatisfying(
                        AppendPolicy.Failed.class,
                        f -> assertThat(f.error().errorCode()).isEqualTo(ErrorCode.FORBIDDEN));
        // not a code of the protocol (an HTTP status without a problem body): final, with no ErrorCode
        assertThat(policy.decide(refused("HTTP_418", Json.object(), 0), deltas, Attempt.FIRST))
                .isInstanceOfSatisfying(AppendPolicy.Failed.class, f -> {
                    assertThat(f.error().code()).isEqualTo("HTTP_418");
                    assertThat(f.error().errorCode()).isNull();
                });
    }
}
