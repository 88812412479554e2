package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.ClientRule;
import java.util.ArrayList;
import java.util.List;

/**
 * What a reader following the client rule of docs/protocol.md §7 ends up with: the events of the
 * frames it received, put through events' {@link ClientRule} (the one the SDKs use). The kit never
 * re-subscribes on a gap: a gap that stays open is the service's fault. It also notes a frame whose
 * events are not in increasing seq order, which the rule would hide.
 */
final class ReaderRule {
    /**
     * @param applied      the events applied, in order (each seq once)
     * @param last         the highest seq applied
     * @param buffered     seqs held above a gap
     * @param orderProblem a frame whose events were not in increasing seq order (null if none)
     */
    record Result(List<JsonNode> applied, long last, List<Long> buffered, String orderProblem) {}

    private ReaderRule() {}

    /** Applies the rule from {@code start} over {@code frames} (each an array of events), in the order given. */
    static Result apply(long start, List<JsonNode> frames) {
        ClientRule rule = new ClientRule(start);
        List<JsonNode> applied = new ArrayList<>();
        String order = null;
        for (JsonNode frame : frames) {
            long prev = -1;
            for (JsonNode e : frame) {
                long seq = e.path("seq").asLong();
                if (seq <= prev && order == null)
                    order = "a frame delivered seq " + seq + " after " + prev + ": " + Jsons.brief(frame, 300);
                prev = seq;
                if (e instanceof ObjectNode o) applied.addAll(rule.offer(o));
            }
        }
        return new Result(applied, rule.last(), rule.held(), order);
    }
}
