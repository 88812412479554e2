package io.durablesessions.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations on the command line: {@code 500ms}, {@code 2s}, {@code 1.5s}, {@code 10m}, {@code 2h},
 * {@code 7d}, ISO-8601 ({@code PT30S}), or a bare number of seconds ({@code 0}, {@code 2.5}).
 */
public final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
        Duration d = parse(text);
        if (d == null)
            throw new TypeConversionException("'" + text + "' is not a duration like 500ms, 10s, 2m, 12h or 7d");
        if (d.isNegative()) throw new TypeConversionException("'" + text + "' is negative");
        return d;
    }

    /** The duration, or null when the text is not one. */
    public static Duration parse(String text) {
        String t = text.strip();
        try {
            if (t.matches("\\d+(\\.\\d+)?"))
                return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000)); // seconds, as the kit reads them
            if (t.matches("\\d+(\\.\\d+)?ms"))
                return Duration.ofNanos((long) (Double.parseDouble(t.substring(0, t.length() - 2)) * 1e6));
            if (t.matches("\\d+(\\.\\d+)?[smhd]")) {
                double n = Double.parseDouble(t.substring(0, t.length() - 1));
                long unitMillis = switch (t.charAt(t.length() - 1)) {
                    case 's' -> 1000L;
                    case 'm' -> 60_000L;
                    case 'h' -> 3_600_000L;
                    default -> 86_400_000L;
                };
                return Duration.ofMillis(Math.round(n * unitMillis));
            }
            return Duration.parse(t);
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            return null;
        }
    }

    /** The way the kit and the help write a duration: 500ms, 3s, 2m. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 60_000 == 0 && ms > 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
