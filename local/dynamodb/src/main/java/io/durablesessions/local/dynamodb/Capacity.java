package io.durablesessions.local.dynamodb;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Consumed-capacity accounting with DynamoDB's on-demand formulas: a write costs 1 WCU per started
 * KB (of the larger of old and new item), a read 1 RCU per started 4 KB (half when eventually
 * consistent), and transactional requests cost double.
 */
final class Capacity {
    static double writeUnits(long bytes) {
        return Math.max(1, (bytes + 1023) / 1024);
    }

    static double readUnits(long bytes, boolean consistent) {
        double units = Math.max(1, (bytes + 4095) / 4096);
        return consistent ? units : units / 2;
    }

    /** Units consumed by one request, per table and per index. */
    static final class Meter {
        private final boolean write;
        private final Map<String, double[]> tables = new LinkedHashMap<>();
        private final Map<String, Map<String, Double>> indexes = new LinkedHashMap<>();

        Meter(boolean write) {
            this.write = write;
        }

        void table(String table, double units) {
            tables.computeIfAbsent(table, k -> new double[1])[0] += units;
        }

        void index(String table, String index, double units) {
            tables.computeIfAbsent(table, k -> new double[1]);
            indexes.computeIfAbsent(table, k -> new LinkedHashMap<>()).merge(index, units, Double::sum);
        }

        double total(String table) {
            double t = tables.getOrDefault(table, new double[1])[0];
            for (double v : indexes.getOrDefault(table, Map.of()).values()) t += v;
            return t;
        }

        void record(Stats stats) {
            for (String table : tables.keySet()) {
                if (write) stats.addWrite(table, total(table));
                else stats.addRead(table, total(table));
            }
        }

        ObjectNode describe(String table, String mode) {
            ObjectNode c = Json.object();
            c.put("TableName", table);
            c.put("CapacityUnits", total(table));
            c.put(write ? "WriteCapacityUnits" : "ReadCapacityUnits", total(table));
            if ("INDEXES".equals(mode)) {
                c.putObject("Table").put("CapacityUnits", tables.getOrDefault(table, new double[1])[0]);
                Map<String, Double> idx = indexes.get(table);
                if (idx != null) {
                    ObjectNode g = c.putObject("GlobalSecondaryIndexes");
                    idx.forEach((name, units) -> g.putObject(name).put("CapacityUnits", units));
                }
            }
            return c;
        }

        /** Adds {@code ConsumedCapacity} (an object, or an array for multi-table operations) when asked for. */
        void render(ObjectNode response, String mode, boolean asArray) {
            if (mode == null || mode.equals("NONE")) return;
            if (asArray) {
                ArrayNode arr = response.putArray("ConsumedCapacity");
                tables.keySet().forEach(t -> arr.add(describe(t, mode)));
            } else if (!tables.isEmpty()) {
                response.set(
                        "ConsumedCapacity", describe(tables.keySet().iterator().next(), mode));
            }
        }
    }
}
