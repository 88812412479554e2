package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;

/**
 * Walks {@code GET /v1/sessions/{id}/events} page after page, from after a seq until the head
 * ({@code more: false}) or until {@code limit} events; the pages are handed on as they come, so an
 * export of any length needs the memory of one page.
 */
final class EventPages {
    /** What a walk read: how many events, the first and last seq (0 when none). */
    record Walked(long events, long firstSeq, long lastSeq) {}

    private EventPages() {}

    /** @param limit at most this many events; 0 for all */
    static Walked walk(Api api, String session, long afterSeq, long limit, Consumer<List<ObjectNode>> page) {
        long after = afterSeq;
        long count = 0;
        long first = 0;
        long last = 0;
        while (true) {
            int size = limit == 0 ? Api.MAX_PAGE : (int) Math.min(Api.MAX_PAGE, limit - count);
            Api.Page p = api.events(session, after, size);
            List<ObjectNode> events = p.events();
            if (!events.isEmpty()) {
                long seq = events.get(0).path("seq").asLong();
                if (seq <= after) {
                    // the service promises seq > afterSeq: a page that goes back would loop forever
                    throw new CliException(
                            ExitCodes.FAILED, "the events page after seq " + after + " starts at seq " + seq);
                }
                if (first == 0) first = seq;
                last = events.get(events.size() - 1).path("seq").asLong();
                count += events.size();
                page.accept(events);
            }
            if (!p.more() || (limit != 0 && count >= limit) || events.isEmpty()) return new Walked(count, first, last);
            after = Math.max(p.nextAfterSeq(), last);
        }
    }
}
