package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** A reader that also controls (a browser tab's Stop and Steer, from Java), and one whose socket dies silently. */
@WithTestStack
class SubscriberControlTest {
    final TestStack stack;

    SubscriberControlTest(TestStack stack) {
        this.stack = stack;
    }

    SessionSubscriber.Builder reader(String session, List<Event> seen) {
        return SessionSubscriber.builder(stack.webSocketUrl(), session)
                .afterSeq(0)
                .connectQuery(() -> stack.clientQuery("user-1", "tab-1"))
                .listener(new SessionSubscriber.Listener() {
                    @Override
                    public void onEvent(Event e) {
                        seen.add(e);
                    }
                });
    }

    @Test
    void aReaderSteersThenCancelsARunAndTheAgentObeysOnce() throws Exception {
        String s = "ctl-" + UUID.randomUUID();
        List<ControlEvent> controls = new CopyOnWriteArrayList<>();
        List<Event> seen = new CopyOnWriteArrayList<>();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                        .connectQuery(() -> stack.agentQuery("agent-1"))
                        .onControl(controls::add)
                        .connect();
                SessionSubscriber tab = reader(s, seen).start()) {
            DurableAgent.Run run = agent.startRun("run-1");
            await().until(tab::isConnected);
            tab.steer("run-1", "be brief").get(30, TimeUnit.SECONDS);
            await().until(() -> controls.stream()
                    .anyMatch(c -> c.kind() == ControlEvent.Kind.STEER && "be brief".equals(c.text())));
            tab.cancel("run-1").get(30, TimeUnit.SECONDS);
            await().until(run::isFenced);
            await().until(() -> seen.stream().anyMatch(e -> e.type() == EventType.RUN_STOPPED));
            // the run is stopped: a second cancel is refused, typed
            assertThat(tab.cancel("run-1"))
                    .failsWithin(Duration.ofSeconds(30))
                    .withThrowableThat()
                    .havingCause()
                    .isInstanceOf(DurableSessionException.RunFencedException.class);
            assertThat(controls)
                    .extracting(ControlEvent::kind)
                    .containsExactly(ControlEvent.Kind.STEER, ControlEvent.Kind.CANCEL);
        }
        assertThat(stack.storedLog(s))
                .extracting(e -> e.type().wire())
                .containsSubsequence("run.steered", "run.stop_requested", "run.stop_acknowledged", "run.stopped");
    }

    @Test
    void aSocketThatAnswersNoPingIsDroppedAndTheReaderResumesWithNothingLostOrRepeated() throws Exception {
        String s = "deaf-" + UUID.randomUUID();
        List<Event> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean deaf = new AtomicBoolean();
        try (DurableAgent agent = DurableAgent.builder(stack.webSocketUrl(), s, "p1")
                        .connectQuery(() -> stack.agentQuery("agent-1"))
                        .connect();
                SessionSubscriber tab = reader(s, seen)
                        .pingInterval(Duration.ofMillis(300))
                        .requestTimeout(Duration.ofSeconds(1))
                        // a socket that stopped delivering without closing: nothing arrives on it any more
                        .deliverInbound(f -> !deaf.get())
                        .start()) {
            await().until(() -> tab.connects() == 1); // subscribed: its answer is in (it may trail the first events)
            agent.append(EventType.CUSTOM, Json.object().put("name", "e0")).join();
            await().until(() -> names(seen).size() == 1);
            int connects = tab.connects();
            deaf.set(true);
            agent.append(EventType.CUSTOM, Json.object().put("name", "e1")).join();
            await().until(() -> !tab.isConnected() || tab.connects() > connects);
            deaf.set(false);
            agent.append(EventType.CUSTOM, Json.object().put("name", "e2")).join();
            // the catch-up frames come before the resubscribe's answer: wait for both
            await().atMost(Duration.ofSeconds(30)).until(() -> names(seen).size() >= 3 && tab.connects() > connects);
        }
        assertThat(names(seen)).containsExactly("e0", "e1", "e2"); // presence comes and goes with the reconnect
    }

    static List<String> names(List<Event> seen) {
        return seen.stream()
                .filter(e -> e.type() == EventType.CUSTOM)
                .map(e -> e.dataText("name"))
                .toList();
    }
}
