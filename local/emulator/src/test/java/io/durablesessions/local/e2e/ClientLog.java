package io.durablesessions.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.ClientRule;
import java.util.ArrayList;
import java.util.List;

/**
 * What a correct client ends up with, whatever the transport did: the events of the frames a test
 * socket received, put through the client rule of docs/protocol.md §7 (events' {@link ClientRule},
 * the one the SDKs use).
 */
final class ClientLog {
    private final ClientRule rule;
    final List<ObjectNode> applied = new ArrayList<>();

    ClientLog(long startAfter) {
        rule = new ClientRule(startAfter);
    }

    void offerFrames(List<ObjectNode> frames) {
        for (ObjectNode f : frames) {
            if ("events".equals(f.path("type").asText())) {
                for (JsonNode e : f.get("events")) applied.addAll(rule.offer((ObjectNode) e));
            }
        }
    }

    /** The highest seq applied. */
    long last() {
        return rule.last();
    }

    /** Seqs held behind a gap. */
    List<Long> held() {
        return rule.held();
    }

    List<Long> seqs() {
        return applied.stream().map(e -> e.get("seq").asLong()).toList();
    }
}
