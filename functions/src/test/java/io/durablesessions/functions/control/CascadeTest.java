package io.durablesessions.functions.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.RunState;
import io.durablesessions.functions.store.RunRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which runs a cancel reaches: every descendant once, never a sibling, and a cycle cannot make it loop. */
class CascadeTest {
    static RunRow run(String id, String parent) {
        return new RunRow(id, "agent-" + id, parent, RunState.RUNNING, 1, 1, null, null, Map.of(), 0, null, 0);
    }

    static List<String> ids(List<RunRow> rows) {
        return rows.stream().map(RunRow::runId).sorted().toList();
    }

    @Test
    void everyDescendantOnceAndNoSiblingOrAncestor() {
        List<RunRow> runs = List.of(
                run("root", null),
                run("a", "root"),
                run("b", "root"),
                run("a1", "a"),
                run("a1x", "a1"),
                run("other", null),
                run("o1", "other"));

        assertThat(ids(Controller.descendants(runs, "root"))).containsExactly("a", "a1", "a1x", "b");
        assertThat(ids(Controller.descendants(runs, "a"))).containsExactly("a1", "a1x");
        assertThat(Controller.descendants(runs, "a1x")).isEmpty();
    }

    @Test
    void aCycleInStoredDataEndsTheWalkInsteadOfLooping() {
        // the store refuses such parents now; rows written before that rule could still hold a cycle
        List<RunRow> runs = List.of(run("c1", "c2"), run("c2", "c1"), run("c3", "c2"));

        assertThat(ids(Controller.descendants(runs, "c1"))).containsExactly("c2", "c3");
        assertThat(ids(Controller.descendants(runs, "c2"))).containsExactly("c1", "c3");
    }

    @Test
    void aDeepChainIsWalkedWithWorkBoundedByTheSessionsRuns() {
        List<RunRow> runs = new ArrayList<>();
        runs.add(run("r0", null));
        for (int i = 1; i < 2_000; i++) runs.add(run("r" + i, "r" + (i - 1)));

        assertThat(Controller.descendants(runs, "r0")).hasSize(1_999);
    }
}
