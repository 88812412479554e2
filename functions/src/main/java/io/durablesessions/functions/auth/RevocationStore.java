package io.durablesessions.functions.auth;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.BatchReads;
import io.durablesessions.functions.store.Keys;
import io.durablesessions.functions.store.TableNames;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Revocations, checked on every message of a live connection and at every fan-out: a token by
 * its id ({@code jti}), or every token of a subject issued before the revocation. Rows live in
 * the connections table ({@code REVOKED#JTI#…}, {@code REVOKED#SUB#…}) and expire when no token
 * they could match is still valid.
 *
 * <p>A container remembers what it read for {@code cacheFor} (5 s by default,
 * {@code REVOCATION_CACHE_SECONDS}), so a streaming agent's messages cost no read each: a
 * revocation takes effect on every live connection within that bound, at once in the container
 * that wrote it. The memory is bounded ({@value #MAX_CACHED} keys; when full it starts over).
 */
public final class RevocationStore {
    static final int MAX_CACHED = 10_000;

    private final DynamoDbClient ddb;
    private final String table;
    private final Clock clock;
    private final long cacheMillis;
    /** Per key: when it was revoked and until when the row is kept (null: not revoked), and when that was read. */
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Revoked revoked, long readAtMillis) {}

    public RevocationStore(DynamoDbClient ddb, TableNames tables, Clock clock, Duration cacheFor) {
        this.ddb = ddb;
        this.table = tables.connections();
        this.clock = clock;
        this.cacheMillis = cacheFor.toMillis();
    }

    /** A revocation as written: when (epoch s) and until when it is kept (then expires with TTL). */
    public record Revoked(long revokedAt, long expiresAt) {}

    public Revoked revokeToken(String tokenId, Duration keepFor) {
        return put(Keys.REVOKED_JTI + tokenId, keepFor);
    }

    /** Every token of the subject issued up to now stops working; newer tokens work. */
    public Revoked revokeSubject(String subject, Duration keepFor) {
        return put(Keys.REVOKED_SUBJECT + subject, keepFor);
    }

    private Revoked put(String pk, Duration keepFor) {
        long now = clock.millis() / 1000;
        Revoked r = new Revoked(now, now + keepFor.toSeconds());
        ddb.putItem(p -> p.tableName(table)
                .item(Map.of(
                        Attrs.PK,
                        s(pk),
                        Attrs.SK,
                        s(Keys.REVOKED),
                        "revokedAt",
                        n(r.revokedAt()),
                        Attrs.EXPIRES_AT,
                        n(r.expiresAt()))));
        remember(pk, r); // this container knows at once
        return r;
    }

    public boolean isRevoked(Principal p) {
        return !revokedAmong(List.of(p)).isEmpty();
    }

    /** The principals (by identity) that are revoked; at most one BatchGetItem for all of them. */
    public Set<Principal> revokedAmong(List<Principal> principals) {
        Set<String> keys = new HashSet<>();
        for (Principal p : principals) {
            if (p.tokenId() != null) keys.add(Keys.REVOKED_JTI + p.tokenId());
            keys.add(Keys.REVOKED_SUBJECT + p.subject());
        }
        long now = clock.millis();
        Map<String, Revoked> revoked = new HashMap<>();
        List<Map<String, AttributeValue>> wanted = new ArrayList<>();
        for (String k : keys) {
            Cached c = cache.get(k);
            if (c != null && now - c.readAtMillis() < cacheMillis) {
                if (c.revoked() != null) revoked.put(k, c.revoked());
            } else {
                wanted.add(Map.of(Attrs.PK, s(k), Attrs.SK, s(Keys.REVOKED)));
            }
        }
        if (!wanted.isEmpty()) {
            Set<String> found = new HashSet<>();
            for (var row : BatchReads.get(ddb, table, wanted, true)) {
                String k = Attrs.str(row, Attrs.PK);
                Revoked r =
                        new Revoked(Attrs.num(row, "revokedAt", 0), Attrs.num(row, Attrs.EXPIRES_AT, Long.MAX_VALUE));
                found.add(k);
                revoked.put(k, r);
                remember(k, r);
            }
            for (var w : wanted) {
                String k = w.get(Attrs.PK).s();
                if (!found.contains(k)) remember(k, null);
            }
        }
        long nowSeconds = now / 1000;
        Set<Principal> out = new HashSet<>();
        for (Principal p : principals) {
            Revoked byToken = p.tokenId() == null ? null : revoked.get(Keys.REVOKED_JTI + p.tokenId());
            if (byToken != null && byToken.expiresAt() >= nowSeconds) out.add(p);
            Revoked bySubject = revoked.get(Keys.REVOKED_SUBJECT + p.subject());
            if (bySubject != null
                    && bySubject.expiresAt() >= nowSeconds
                    && p.issuedAtSeconds() <= bySubject.revokedAt()) {
                out.add(p);
            }
        }
        return out;
    }

    private void remember(String key, Revoked r) {
        if (cacheMillis <= 0) return;
        if (cache.size() >= MAX_CACHED) cache.clear();
        cache.put(key, new Cached(r, clock.millis()));
    }
}
