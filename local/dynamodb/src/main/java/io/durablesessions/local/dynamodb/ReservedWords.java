package io.durablesessions.local.dynamodb;

import java.util.Locale;
import java.util.Set;

/**
 * A subset of DynamoDB's reserved words: the ones most likely to be used as attribute names by
 * accident. DynamoDB rejects them unescaped in expressions, so tests that pass here would fail on
 * AWS. Deliberately incomplete (only words known to be reserved; a false positive would be worse).
 */
final class ReservedWords {
    private ReservedWords() {}

    private static final Set<String> WORDS = Set.of(
            "ACTION",
            "ALL",
            "AND",
            "AS",
            "ATTRIBUTE",
            "BETWEEN",
            "BY",
            "CAPACITY",
            "COMMENT",
            "CONDITION",
            "CONNECTION",
            "COUNT",
            "COUNTER",
            "CREATE",
            "DATA",
            "DATE",
            "DAY",
            "DELETE",
            "DESC",
            "DOMAIN",
            "DURATION",
            "END",
            "ERROR",
            "EXISTS",
            "FILE",
            "FILTER",
            "FIRST",
            "FROM",
            "GROUP",
            "HASH",
            "HOUR",
            "IN",
            "INDEX",
            "KEY",
            "KEYS",
            "LAST",
            "LIMIT",
            "LIST",
            "MAP",
            "MINUTE",
            "MONTH",
            "NAME",
            "NOT",
            "NUMBER",
            "OR",
            "ORDER",
            "OWNER",
            "PARTITION",
            "PATH",
            "POSITION",
            "RANGE",
            "REGION",
            "RESULT",
            "ROLE",
            "SECOND",
            "SESSION",
            "SET",
            "SIZE",
            "SOURCE",
            "STATE",
            "STATUS",
            "STRING",
            "TABLE",
            "TIME",
            "TIMESTAMP",
            "TTL",
            "TYPE",
            "USER",
            "VALUE",
            "VALUES",
            "YEAR");

    static boolean is(String word) {
        return WORDS.contains(word.toUpperCase(Locale.ROOT));
    }
}
