package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which control events end a reply's stream, and the routing to the run's listeners (no network). */
class RunControlsTest {
    final List<ControlEvent> seenByNext = new ArrayList<>();
    final RunControls controls = new RunControls(seenByNext::add);
    final DurableAgent agent = DurableAgent.builder(URI.create("ws://fake/local"), "s", "p1")
            .heartbeatInterval(Duration.ofHours(1))
            .transport(FakeTransport::new)
            .connect();

    @AfterEach
    void close() {
        agent.close();
    }

    static ControlEvent event(ControlEvent.Kind kind, String runId, String messageId, String text) {
        return new ControlEvent(kind, runId, messageId, text, 1, null);
    }

    @Test
    void aCancelAFenceOrAnInterruptOfThisReplyStopsItAndASteerReachesIt() {
        DurableAgent.Reply reply = agent.startRun("r").startReply("m");
        List<String> stops = new ArrayList<>();
        List<String> steers = new ArrayList<>();
        RunControls.Watch w = controls.watchReply(reply, () -> stops.add("stop"), steers::add);

        controls.accept(event(ControlEvent.Kind.INTERRUPT, "r", "another-reply", null));
        controls.accept(event(ControlEvent.Kind.INTERRUPT, "other-run", null, null));
        controls.accept(event(ControlEvent.Kind.STEER, "r", null, "shorter"));
        assertThat(stops).isEmpty();
        assertThat(steers).containsExactly("shorter");

        controls.accept(event(ControlEvent.Kind.INTERRUPT, "r", "m", null));
        controls.accept(event(ControlEvent.Kind.INTERRUPT, "r", null, null)); // names no reply: the current one
        controls.accept(event(ControlEvent.Kind.CANCEL, "r", null, "user"));
        controls.accept(event(ControlEvent.Kind.FENCED, "r", null, null));
        assertThat(stops).hasSize(4);

        w.close();
        controls.accept(event(ControlEvent.Kind.CANCEL, "r", null, null));
        assertThat(stops).hasSize(4);
        assertThat(seenByNext).hasSize(8); // the application's own handler sees every event, watched or not
    }

    @Test
    void aFailingListenerKeepsTheEventFromNoOneElse() {
        List<String> got = new ArrayList<>();
        controls.watch("r", e -> {
            throw new IllegalStateException("boom");
        });
        controls.watch("r", e -> got.add(e.text()));
        controls.accept(event(ControlEvent.Kind.STEER, "r", null, "go on"));
        assertThat(got).containsExactly("go on");
        assertThat(seenByNext).hasSize(1);
    }
}
