package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * {@code fixtures/error-codes.json}: every wire code with its HTTP status and what a client does about
 * it, as {@link ErrorCode} says. The TypeScript client's table is checked against the same file
 * ({@code clients/web/test/unit/error-codes.test.js}), so the two clients retry the same codes.
 * Regenerate with {@code ./mvnw -pl events test -Dtest=ErrorCodesFixtureTest -Dfixtures.write=true}.
 */
class ErrorCodesFixtureTest {
    static final Path FILE = Path.of("..", "fixtures", "error-codes.json");

    static String render() {
        StringBuilder sb = new StringBuilder("{\n");
        ErrorCode[] codes = ErrorCode.values();
        for (int i = 0; i < codes.length; i++) {
            ErrorCode c = codes[i];
            sb.append("  ")
                    .append(Json.quote(c.name()))
                    .append(": {\"httpStatus\": ")
                    .append(c.httpStatus())
                    .append(", \"recovery\": ")
                    .append(Json.quote(c.recovery().name().toLowerCase(Locale.ROOT)))
                    .append(i + 1 < codes.length ? "},\n" : "}\n");
        }
        return sb.append("}\n").toString();
    }

    @Test
    void theCommittedTableIsWhatErrorCodeSays() throws IOException {
        String expected = render();
        if (System.getProperty("fixtures.write") != null) Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        assertThat(Files.readString(FILE, StandardCharsets.UTF_8))
                .as("fixtures/error-codes.json is stale; regenerate with "
                        + "./mvnw -pl events test -Dtest=ErrorCodesFixtureTest -Dfixtures.write=true")
                .isEqualTo(expected);
    }
}
