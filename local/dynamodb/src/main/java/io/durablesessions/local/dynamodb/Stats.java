package io.durablesessions.local.dynamodb;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Thread-safe counters: requests per operation, consumed capacity per table (always computed, whether
 * or not the request asked for it) and stream records emitted.
 */
public final class Stats {
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, DoubleAdder> writeUnits = new ConcurrentHashMap<>();
    private final Map<String, DoubleAdder> readUnits = new ConcurrentHashMap<>();
    private final AtomicLong streamRecords = new AtomicLong();

    /** An immutable copy of the counters; maps are sorted by key. */
    public record Snapshot(
            Map<String, Long> requestsByOperation,
            Map<String, Double> writeCapacityUnitsByTable,
            Map<String, Double> readCapacityUnitsByTable,
            long streamRecordsEmitted) {
        public long requests(String operation) {
            return requestsByOperation.getOrDefault(operation, 0L);
        }

        public double writeCapacityUnits(String table) {
            return writeCapacityUnitsByTable.getOrDefault(table, 0.0);
        }

        public double readCapacityUnits(String table) {
            return readCapacityUnitsByTable.getOrDefault(table, 0.0);
        }

        public long totalRequests() {
            return requestsByOperation.values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }
    }

    Stats() {}

    public Snapshot snapshot() {
        Map<String, Long> r = new TreeMap<>();
        requests.forEach((k, v) -> r.put(k, v.sum()));
        Map<String, Double> w = new TreeMap<>();
        writeUnits.forEach((k, v) -> w.put(k, v.sum()));
        Map<String, Double> rd = new TreeMap<>();
        readUnits.forEach((k, v) -> rd.put(k, v.sum()));
        return new Snapshot(
                Collections.unmodifiableMap(r),
                Collections.unmodifiableMap(w),
                Collections.unmodifiableMap(rd),
                streamRecords.get());
    }

    public void reset() {
        requests.clear();
        writeUnits.clear();
        readUnits.clear();
        streamRecords.set(0);
    }

    void request(String operation) {
        requests.computeIfAbsent(operation, k -> new LongAdder()).increment();
    }

    void addWrite(String table, double units) {
        writeUnits.computeIfAbsent(table, k -> new DoubleAdder()).add(units);
    }

    void addRead(String table, double units) {
        readUnits.computeIfAbsent(table, k -> new DoubleAdder()).add(units);
    }

    void streamRecord() {
        streamRecords.incrementAndGet();
    }
}
