package io.durablesessions.local.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The client rule of docs/protocol.md §7: drop seq ≤ last, apply last+1, buffer the rest until
 * the gap closes. What a correct client ends up with, whatever the transport did.
 */
final class ClientLog {
    long last;
    final List<ObjectNode> applied = new ArrayList<>();
    final TreeMap<Long, ObjectNode> buffered = new TreeMap<>();
    int duplicatesDropped;

    ClientLog(long startAfter) {
        last = startAfter;
    }

    void offer(JsonNode event) {
        long seq = event.get("seq").asLong();
        if (seq <= last || buffered.containsKey(seq)) {
            duplicatesDropped++;
            return;
        }
        buffered.put(seq, (ObjectNode) event);
        while (!buffered.isEmpty() && buffered.firstKey() == last + 1) {
            applied.add(buffered.pollFirstEntry().getValue());
            last++;
        }
    }

    void offerFrames(List<ObjectNode> frames) {
        for (ObjectNode f : frames) {
            if ("events".equals(f.path("type").asText())) f.get("events").forEach(this::offer);
        }
    }

    List<Long> seqs() {
        return applied.stream().map(e -> e.get("seq").asLong()).toList();
    }
}
