package io.durablesessions.functions.store;

import java.util.List;

/** One page of the log in seq order; {@code more} when events after the last one may exist. */
public record EventPage(List<StoredEvent> events, boolean more) {
    public EventPage {
        events = List.copyOf(events);
    }

    public long lastSeq(long fallback) {
        return events.isEmpty() ? fallback : events.get(events.size() - 1).seq();
    }
}
