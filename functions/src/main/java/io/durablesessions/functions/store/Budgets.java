package io.durablesessions.functions.store;

import static io.durablesessions.functions.store.Attrs.n;
import static io.durablesessions.functions.store.Attrs.s;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * Fixed-window counters in the connections table: "at most {@code limit} per {@code window}" for
 * a key (a connection's messages, a subject's presence announcements or catch-up bytes). Every
 * take is one conditional write and no read; under concurrency it never admits more than the limit
 * and never refuses below it (a take that finds the window just renewed by another tries again).
 */
public final class Budgets {
    private final DynamoDbClient ddb;
    private final String table;
    private final Clock clock;

    public Budgets(DynamoDbClient ddb, TableNames tables, Clock clock) {
        this.ddb = ddb;
        this.table = tables.connections();
        this.clock = clock;
    }

    /** A counter: one row {@code pk}/{@code sk}. */
    public record Budget(String pk, String sk, Duration window, long limit) {}

    /** Takes {@code amount} from the current window if it fits; false when it does not. */
    public boolean take(Budget b, long amount) {
        return take(b, amount, false);
    }

    /**
     * Spends {@code amount} while the current window is not yet spent, even if this takes it past
     * the limit (once): for work whose size is only known as it is done (catch-up bytes, a
     * snapshot), bounded per window by the limit plus one such piece.
     */
    public boolean spend(Budget b, long amount) {
        return take(b, amount, true);
    }

    private boolean take(Budget b, long amount, boolean overdraft) {
        if (!overdraft && amount > b.limit()) return false;
        long windowMillis = b.window().toMillis();
        long window = clock.millis() / windowMillis;
        Map<String, AttributeValue> key = Map.of(Attrs.PK, s(b.pk()), Attrs.SK, s(b.sk()));
        for (int round = 0; round < 2; round++) {
            Update add = new Update(table, key);
            String used = add.name("used");
            add.add(used, n(amount));
            add.condition(add.name("win") + " = " + add.value(n(window)));
            add.condition(
                    overdraft
                            ? used + " < " + add.value(n(b.limit()))
                            : used + " <= " + add.value(n(b.limit() - amount)));
            try {
                ddb.updateItem(add.request());
                return true;
            } catch (ConditionalCheckFailedException fullOrOldWindow) {
                if (round == 1) return false; // the window is current (the renewal below lost) and full
            }
            Update renew = new Update(table, key);
            String win = renew.name("win");
            renew.set(win, n(window))
                    .set(renew.name("used"), n(amount))
                    .set(renew.name(Attrs.EXPIRES_AT), n((window + 2) * windowMillis / 1000));
            renew.condition("attribute_not_exists(" + win + ") OR " + win + " < " + renew.value(n(window)));
            try {
                ddb.updateItem(renew.request());
                return true;
            } catch (ConditionalCheckFailedException renewedMeanwhile) {
                // another take opened this window first: add to it (once more)
            }
        }
        return false;
    }

    /** A subject's catch-up and hydrate bytes per minute (read amplification bound). */
    public static Budget readBytes(String subject, long perMinute) {
        return new Budget(Keys.SUBJECT + subject, "READ", Duration.ofMinutes(1), perMinute);
    }

    /** A subject's presence announcements per minute (each one is an event in some session's log). */
    public static Budget presenceJoins(String subject, long perMinute) {
        return new Budget(Keys.SUBJECT + subject, "PRESENCE", Duration.ofMinutes(1), perMinute);
    }

    /** Milliseconds until the current window of {@code b} ends (a refused caller's {@code retryAfterMs}). */
    public long retryAfterMillis(Budget b) {
        long windowMillis = b.window().toMillis();
        return windowMillis - clock.millis() % windowMillis;
    }
}
