package io.durablesessions.local.e2e;

import io.durablesessions.events.Event;
import io.durablesessions.functions.store.EventPage;
import io.durablesessions.local.LocalStack;
import java.util.ArrayList;
import java.util.List;

/** The stored log of a session, read page by page from the store: what every client must end up with. */
final class StoredLog {
    private StoredLog() {}

    static List<String> raw(LocalStack stack, String session) {
        List<String> all = new ArrayList<>();
        long after = 0;
        EventPage page;
        do {
            page = stack.services().sessions().readAfter(session, after, 1000);
            page.events().forEach(e -> all.add(e.json()));
            after = page.lastSeq(after);
        } while (page.more());
        return all;
    }

    static List<Event> events(LocalStack stack, String session) {
        return raw(stack, session).stream().map(Event::fromJson).toList();
    }
}
