package io.durablesessions.functions.store;

import java.util.List;
import java.util.Optional;

/**
 * The one definition of the service's DynamoDB tables: names, keys, TTL, streams and indexes.
 * The store, the local stack and the CDK stack all read it; nothing else spells a key name.
 * Plain values with no SDK types, so the CDK app can map it to its own constructs.
 */
public record TableLayout(
        String id,
        String envVar,
        String defaultName,
        KeyAttr partitionKey,
        Optional<KeyAttr> sortKey,
        Optional<String> ttlAttribute,
        Optional<StreamView> stream,
        List<Index> indexes) {

    public enum KeyType {
        S,
        N
    }

    public enum StreamView {
        NEW_IMAGE,
        NEW_AND_OLD_IMAGES,
        KEYS_ONLY
    }

    public record KeyAttr(String name, KeyType type) {}

    /** What an index copies: every attribute, or only the keys (cheaper: attribute updates don't touch it). */
    public enum Projection {
        ALL,
        KEYS_ONLY
    }

    public record Index(String name, KeyAttr partitionKey, Optional<KeyAttr> sortKey, Projection projection) {
        public Index(String name, KeyAttr partitionKey, Optional<KeyAttr> sortKey) {
            this(name, partitionKey, sortKey, Projection.ALL);
        }
    }

    /** Event log: one item per event, immutable. The stream drives the fan-out. */
    public static final TableLayout EVENTS = new TableLayout(
            "Events",
            "EVENTS_TABLE",
            "ds-events",
            new KeyAttr(Attrs.SESSION_ID, KeyType.S),
            Optional.of(new KeyAttr(Attrs.SEQ, KeyType.N)),
            Optional.of(Attrs.EXPIRES_AT),
            Optional.of(StreamView.NEW_IMAGE),
            List.of());

    /**
     * Per-session state rows: SESSION (head seq), RUN#id (fence), PRODUCER#id (idempotency),
     * ITEM#… and VIEW (compacted snapshot for bounded hydration).
     */
    public static final TableLayout SESSIONS = new TableLayout(
            "Sessions",
            "SESSIONS_TABLE",
            "ds-sessions",
            new KeyAttr(Attrs.SESSION_ID, KeyType.S),
            Optional.of(new KeyAttr(Attrs.SK, KeyType.S)),
            Optional.of(Attrs.EXPIRES_AT),
            Optional.empty(),
            List.of(
                    // sparse: only rows with a pending deadline (a live run's heartbeat, a stop awaiting
                    // its ack, a presence member's grace period) carry dueShard, so the sweeper
                    // Queries what is due without ever scanning finished rows
                    // keys only: a run's lastSeq/heartbeatAt change on every append and must not cost index writes
                    new Index(
                            Attrs.DUE_INDEX,
                            new KeyAttr(Attrs.DUE_SHARD, KeyType.S),
                            Optional.of(new KeyAttr(Attrs.DUE_AT, KeyType.N)),
                            Projection.KEYS_ONLY),
                    // sparse: only SESSION rows created through the HTTP API carry an owner, so listing a
                    // user's sessions (newest first) is one Query, never a Scan
                    new Index(
                            Attrs.OWNER_INDEX,
                            new KeyAttr(Attrs.OWNER, KeyType.S),
                            Optional.of(new KeyAttr(Attrs.CREATED_AT, KeyType.N)))));

    /** Connections (pk CONN#id) and subscriptions (pk SUB#sessionId, sk connection id). */
    public static final TableLayout CONNECTIONS = new TableLayout(
            "Connections",
            "CONNECTIONS_TABLE",
            "ds-connections",
            new KeyAttr(Attrs.PK, KeyType.S),
            Optional.of(new KeyAttr(Attrs.SK, KeyType.S)),
            Optional.of(Attrs.EXPIRES_AT),
            Optional.empty(),
            List.of());

    public static final List<TableLayout> ALL = List.of(EVENTS, SESSIONS, CONNECTIONS);
}
