package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RunStateMachineTest {
    @Test
    void aRunStartsOnceAndRunsUntilFenced() {
        assertThat(RunStateMachine.next(null, EventType.RUN_STARTED)).contains(RunState.RUNNING);
        assertThat(RunStateMachine.next(RunState.RUNNING, EventType.RUN_STARTED))
                .isEmpty();
        assertThat(RunStateMachine.next(RunState.RUNNING, EventType.TEXT_DELTA)).contains(RunState.RUNNING);
        assertThat(RunStateMachine.next(RunState.RUNNING, EventType.RUN_COMPLETED))
                .contains(RunState.COMPLETED);
        assertThat(RunStateMachine.next(null, EventType.TEXT_DELTA)).isEmpty();
    }

    @Test
    void everyStateButRunningIsFencedForOrdinaryEvents() {
        for (RunState s : RunState.values()) {
            assertThat(RunStateMachine.next(s, EventType.TEXT_DELTA).isPresent())
                    .isEqualTo(!s.fenced());
            assertThat(RunStateMachine.next(s, EventType.RUN_COMPLETED).isPresent())
                    .isEqualTo(s == RunState.RUNNING);
        }
    }

    @Test
    void aStopIsRequestedThenAcknowledgedOrTimedOutAndAlwaysEndsWithRunStopped() {
        assertThat(RunStateMachine.next(RunState.RUNNING, EventType.RUN_STOP_REQUESTED))
                .contains(RunState.STOP_REQUESTED);
        // the acknowledgement is recorded; run.stopped (appended by the service with it) ends the run
        assertThat(RunStateMachine.next(RunState.STOP_REQUESTED, EventType.RUN_STOP_ACKNOWLEDGED))
                .contains(RunState.STOP_REQUESTED);
        assertThat(RunStateMachine.next(RunState.STOPPED, EventType.RUN_STOP_ACKNOWLEDGED))
                .isEmpty();
        assertThat(RunStateMachine.next(RunState.STOP_REQUESTED, EventType.RUN_STOPPED))
                .contains(RunState.STOPPED);
        assertThat(RunStateMachine.next(RunState.RUNNING, EventType.RUN_STOP_ACKNOWLEDGED))
                .isEmpty();
        assertThat(RunStateMachine.next(RunState.STOP_REQUESTED, EventType.RUN_FAILED))
                .contains(RunState.FAILED);
        assertThat(RunStateMachine.next(RunState.STOPPED, EventType.RUN_FAILED)).isEmpty();
    }
}
