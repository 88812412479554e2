package io.durablesessions.local.apigateway;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Live counters behind {@link WebSocketApiEmulator#counters()}. */
final class Metrics {

    private final LongAdder connects = new LongAdder();
    private final LongAdder disconnects = new LongAdder();
    private final LongAdder messagesIn = new LongAdder();
    private final LongAdder messagesOut = new LongAdder();
    private final ConcurrentHashMap<Integer, AtomicLong> managementCalls = new ConcurrentHashMap<>();

    void connected() { connects.increment(); }
    void disconnected() { disconnects.increment(); }
    void messageIn() { messagesIn.increment(); }
    void messageOut() { messagesOut.increment(); }

    void managementCall(int status) {
        managementCalls.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    WebSocketApiEmulator.Counters snapshot() {
        Map<Integer, Long> calls = new TreeMap<>();
        managementCalls.forEach((status, count) -> calls.put(status, count.get()));
        return new WebSocketApiEmulator.Counters(connects.sum(), disconnects.sum(), messagesIn.sum(),
                messagesOut.sum(), java.util.Collections.unmodifiableMap(calls));
    }
}
