package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class JsonBytesTest {
    /** Random text from every class of char: ASCII, escapes, controls, 2- and 3-byte chars, surrogate pairs. */
    static String randomText(Random r, int length) {
        String[] pool = {"a", "Z", " ", "\"", "\\", "\n", "\t", "\u0001", "\u001f", "é", "ß", "€", "中", "😀", "𝄞", "/"
        };
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) sb.append(pool[r.nextInt(pool.length)]);
        return sb.toString();
    }

    @Test
    void countsExactlyWhatJacksonWritesForAStringValue() {
        Random r = new Random(7);
        for (int i = 0; i < 500; i++) {
            String s = randomText(r, r.nextInt(200));
            int written = Json.quote(s).getBytes(StandardCharsets.UTF_8).length - 2; // without the quotes
            assertThat(JsonBytes.of(s)).as("%s", s).isEqualTo(written);
        }
    }

    @Test
    void fitTakesTheLongestPieceWithinTheBudgetAndNeverCutsASurrogatePair() {
        Random r = new Random(11);
        for (int i = 0; i < 500; i++) {
            String s = randomText(r, 1 + r.nextInt(300));
            int budget = 6 + r.nextInt(80);
            int at = 0;
            StringBuilder joined = new StringBuilder();
            while (at < s.length()) {
                int end = JsonBytes.fit(s, at, budget);
                assertThat(end).as("progress with a budget of %d", budget).isGreaterThan(at);
                assertThat(JsonBytes.of(s, at, end)).isLessThanOrEqualTo(budget);
                if (end < s.length()) {
                    assertThat(Character.isLowSurrogate(s.charAt(end)))
                            .as("cut inside a pair")
                            .isFalse();
                    assertThat(JsonBytes.of(s, at, JsonBytes.nextCodePoint(s, end)))
                            .as("longest")
                            .isGreaterThan(budget);
                }
                joined.append(s, at, end);
                at = end;
            }
            assertThat(joined.toString()).isEqualTo(s);
        }
    }

    @Test
    void nothingFitsABudgetSmallerThanTheFirstCodePoint() {
        assertThat(JsonBytes.fit("😀x", 0, 3)).isZero();
        assertThat(JsonBytes.nextCodePoint("😀x", 0)).isEqualTo(2);
        assertThat(JsonBytes.fit("\u0001", 0, 5)).isZero();
        assertThat(JsonBytes.fit("", 0, 5)).isZero();
    }
}
