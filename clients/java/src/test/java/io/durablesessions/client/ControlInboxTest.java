package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ControlInboxTest {
    final List<String> log = new ArrayList<>(); // what happened, in order: callbacks and actions
    final ControlInbox inbox = new ControlInbox(
            this,
            e -> log.add("told " + e.kind() + " " + e.runId() + (e.messageId() != null ? " " + e.messageId() : "")
                    + (e.text() != null ? " " + e.text() : "")),
            Runnable::run,
            new ControlInbox.Actions() {
                @Override
                public void dropRun(String runId) {
                    log.add("drop run " + runId);
                }

                @Override
                public void dropMessage(String messageId) {
                    log.add("drop message " + messageId);
                }

                @Override
                public void acknowledgeStop(String runId) {
                    log.add("acknowledge stop " + runId);
                }

                @Override
                public void acknowledge(String runId, long seq) {
                    log.add("acknowledge " + runId + "@" + seq);
                }
            });

    static ObjectNode event(long seq, String type, String runId, ObjectNode data) {
        ObjectNode e = Json.object()
                .put("seq", seq)
                .put("sessionId", "s")
                .put("type", type)
                .put("agentId", "svc")
                .put("runId", runId)
                .put("ts", 1);
        e.set("data", data);
        return e;
    }

    static ObjectNode stopRequested(long seq, String runId) {
        return event(
                seq,
                "run.stop_requested",
                runId,
                Json.object()
                        .put("command", "cancel")
                        .put("by", "u")
                        .put("stoppedAtSeq", seq - 1)
                        .put("reason", "enough"));
    }

    @Test
    void aStopIsObeyedOnceTheOwnerToldOnceAndItsControlAcknowledgedAfterTheCallback() {
        inbox.open("r");
        inbox.deliver(stopRequested(7, "r"));
        inbox.deliver(stopRequested(7, "r")); // delivered again (a resumed subscription, a repeated HTTP answer)
        assertThat(log)
                .containsExactly(
                        "drop run r",
                        "acknowledge stop r",
                        "told CANCEL r enough",
                        "acknowledge r@7",
                        "acknowledge r@7");
        assertThat(inbox.isFenced("r")).isTrue();
        assertThat(inbox.isClosed("r")).isTrue();
    }

    @Test
    void aRunFencedByARefusedAppendTellsTheOwnerOnceAndALaterStopIsStillAcknowledged() {
        inbox.open("r");
        inbox.fence("r", "stop_requested", null, 0, null); // the append was refused RUN_FENCED first
        inbox.deliver(stopRequested(9, "r")); // then the stop's event arrives
        assertThat(log)
                .containsExactly("drop run r", "acknowledge stop r", "told CANCEL r", "drop run r", "acknowledge r@9");
    }

    @Test
    void theAgentsOwnEndSeenFirstInAHeartbeatsAnswerIsNotToldAsAFenceButAnotherStateIs() {
        inbox.open("r");
        inbox.ending("r", "completed");
        inbox.fence("r", "completed", null, 0, null); // a heartbeat's answer overtook run.completed's ack
        assertThat(log).containsExactly("drop run r");
        inbox.open("s");
        inbox.ending("s", "completed");
        inbox.fence("s", "failed", null, 0, null); // the service failed it first (liveness timeout)
        assertThat(log).containsExactly("drop run r", "drop run s", "told FENCED s");
    }

    @Test
    void aRunFailedByTheServiceIsFencedAndTold() {
        inbox.open("r");
        inbox.fence("r", "failed", null, 0, null);
        inbox.fence("r", "failed", null, 0, null);
        assertThat(log).containsExactly("drop run r", "told FENCED r", "drop run r");
    }

    @Test
    void anInterruptWithoutAMessageIdFencesTheCurrentReplyOnly() {
        inbox.open("r");
        inbox.replyStarted("r", "m-2");
        inbox.deliver(event(4, "run.interrupted", "r", Json.object().put("by", "u")));
        assertThat(log).containsExactly("drop message m-2", "told INTERRUPT r m-2", "acknowledge r@4");
        assertThat(inbox.isMessageFenced("m-2")).isTrue();
        assertThat(inbox.isFenced("r")).isFalse();
    }

    @Test
    void aSteerReachesTheOwnerWithItsText() {
        inbox.open("r");
        inbox.deliver(event(5, "run.steered", "r", Json.object().put("by", "u").put("text", "shorter")));
        assertThat(log).containsExactly("told STEER r shorter", "acknowledge r@5");
    }

    @Test
    void controlOfOtherRunsIsIgnoredAndUnknownTypesAreAcknowledgedWithoutACallback() {
        inbox.open("r");
        inbox.deliver(stopRequested(3, "somebody-elses"));
        inbox.deliver(event(6, "run.some_future_kind", "r", Json.object()));
        assertThat(log).containsExactly("acknowledge r@6");
    }

    @Test
    void anOpenRunThatStoredNothingSinceTheLastTickIsQuiet() {
        inbox.open("a");
        inbox.open("b");
        inbox.open("done");
        inbox.ended("done");
        inbox.wrote("a");
        assertThat(inbox.quietRuns()).containsExactly("b");
        assertThat(inbox.quietRuns()).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void aRunIsOpenedOnce() {
        assertThat(inbox.open("r")).isTrue();
        assertThat(inbox.open("r")).isFalse();
    }
}
