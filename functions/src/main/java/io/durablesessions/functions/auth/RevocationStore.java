package io.durablesessions.functions.auth;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.BatchReads;
import io.durablesessions.functions.store.TableNames;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Revocations, checked on every message of a live connection and at every fan-out: a token by
 * its id ({@code jti}), or every token of a subject issued before the revocation. Rows live in
 * the connections table ({@code REVOKED#JTI#…}, {@code REVOKED#SUB#…}) and expire when no token
 * they could match is still valid.
 */
public final class RevocationStore {
    private static final String SK = "REVOKED";

    private final DynamoDbClient ddb;
    private final String table;
    private final Clock clock;

    public RevocationStore(DynamoDbClient ddb, TableNames tables, Clock clock) {
        this.ddb = ddb;
        this.table = tables.connections();
        this.clock = clock;
    }

    public void revokeToken(String tokenId, Duration keepFor) {
        put("REVOKED#JTI#" + tokenId, keepFor);
    }

    /** Every token of the subject issued up to now stops working; newer tokens work. */
    public void revokeSubject(String subject, Duration keepFor) {
        put("REVOKED#SUB#" + subject, keepFor);
    }

    private void put(String pk, Duration keepFor) {
        long now = clock.millis();
        ddb.putItem(p -> p.tableName(table).item(Map.of(Attrs.PK, s(pk), Attrs.SK, s(SK),
                "revokedAt", n(now / 1000), Attrs.EXPIRES_AT, n(now / 1000 + keepFor.toSeconds()))));
    }

    public boolean isRevoked(Principal p) {
        return !revokedAmong(List.of(p)).isEmpty();
    }

    /** The principals (by identity) that are revoked; one BatchGetItem for all of them. */
    public Set<Principal> revokedAmong(List<Principal> principals) {
        Set<String> keys = new HashSet<>();
        for (Principal p : principals) {
            if (p.tokenId() != null) keys.add("REVOKED#JTI#" + p.tokenId());
            keys.add("REVOKED#SUB#" + p.subject());
        }
        Map<String, Long> revokedAt = new java.util.HashMap<>();
        List<Map<String, AttributeValue>> wanted = new ArrayList<>();
        for (String k : keys) wanted.add(Map.of(Attrs.PK, s(k), Attrs.SK, s(SK)));
        long nowSeconds = clock.millis() / 1000;
        for (var row : BatchReads.get(ddb, table, wanted, true)) {
            if (Attrs.num(row, Attrs.EXPIRES_AT, Long.MAX_VALUE) >= nowSeconds) {
                revokedAt.put(Attrs.str(row, Attrs.PK), Attrs.num(row, "revokedAt", 0));
            }
        }
        Set<Principal> out = new HashSet<>();
        for (Principal p : principals) {
            if (p.tokenId() != null && revokedAt.containsKey("REVOKED#JTI#" + p.tokenId())) out.add(p);
            Long subjectAt = revokedAt.get("REVOKED#SUB#" + p.subject());
            if (subjectAt != null && p.issuedAtSeconds() <= subjectAt) out.add(p);
        }
        return out;
    }
}
