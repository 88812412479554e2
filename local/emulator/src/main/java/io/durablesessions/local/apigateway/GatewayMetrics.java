package io.durablesessions.local.apigateway;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Live counters behind {@link WebSocketApiEmulator#counters()}. */
final class GatewayMetrics {

    private final LongAdder connects = new LongAdder();
    private final LongAdder disconnects = new LongAdder();
    private final LongAdder messagesIn = new LongAdder();
    private final LongAdder messagesOut = new LongAdder();
    private final LongAdder unitsIn = new LongAdder();
    private final LongAdder unitsOut = new LongAdder();
    private final LongAdder integrationErrors = new LongAdder();
    private final ConcurrentHashMap<Integer, AtomicLong> managementCalls = new ConcurrentHashMap<>();

    /** API Gateway meters WebSocket messages in 32 KB increments. */
    static final int BILLING_UNIT_BYTES = 32 * 1024;

    void connected() {
        connects.increment();
    }

    void disconnected() {
        disconnects.increment();
    }

    void integrationError() {
        integrationErrors.increment();
    }

    void messageIn(int bytes) {
        messagesIn.increment();
        unitsIn.add(units(bytes));
    }

    void messageOut(int bytes) {
        messagesOut.increment();
        unitsOut.add(units(bytes));
    }

    static long units(int bytes) {
        return Math.max(1, (bytes + BILLING_UNIT_BYTES - 1) / BILLING_UNIT_BYTES);
    }

    /** The UTF-8 size of a message as far as metering tells: exact from one unit up (a shorter one is one unit anyway). */
    static int meteredBytes(String s) {
        if (s.length() * 3 <= BILLING_UNIT_BYTES) return s.length();
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    void managementCall(int status) {
        managementCalls.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    WebSocketApiEmulator.Counters snapshot() {
        Map<Integer, Long> calls = new TreeMap<>();
        managementCalls.forEach((status, count) -> calls.put(status, count.get()));
        return new WebSocketApiEmulator.Counters(
                connects.sum(),
                disconnects.sum(),
                messagesIn.sum(),
                messagesOut.sum(),
                unitsIn.sum(),
                unitsOut.sum(),
                integrationErrors.sum(),
                Collections.unmodifiableMap(calls));
    }
}
