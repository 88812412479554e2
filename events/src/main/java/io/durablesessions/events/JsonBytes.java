package io.durablesessions.events;

/**
 * How many bytes text takes once it is a JSON string value, UTF-8 encoded: what the limits of
 * docs/protocol.md §9 count. The one function everything that cuts text to a budget uses: the
 * snapshot frames ({@link Frames#snapshots}) and the SDKs' text deltas.
 *
 * <p>Exact for what Jackson writes: {@code "} and {@code \} and the short escapes ({@code \n},
 * {@code \t}, …) take 2 bytes, other control characters 6 ({@code \u0001}), a surrogate pair 4.
 */
public final class JsonBytes {
    private JsonBytes() {}

    /** Bytes of one UTF-16 char (each half of a surrogate pair counts 2). */
    public static int of(char c) {
        if (c == '"' || c == '\\') return 2;
        if (c < 0x20) return c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r' ? 2 : 6;
        if (c < 0x80) return 1;
        if (c < 0x800 || Character.isSurrogate(c)) return 2;
        return 3;
    }

    /** Bytes of {@code s[from, to)}, without the quotes around it. */
    public static int of(CharSequence s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) n += of(s.charAt(i));
        return n;
    }

    public static int of(CharSequence s) {
        return of(s, 0, s.length());
    }

    /**
     * The end of the longest piece {@code s[at, end)} of at most {@code budget} bytes that does not end
     * between the two halves of a surrogate pair; {@code at} itself when not even the first code point fits.
     */
    public static int fit(CharSequence s, int at, int budget) {
        int n = 0, i = at;
        while (i < s.length()) {
            int b = of(s.charAt(i));
            if (n + b > budget) break;
            n += b;
            i++;
        }
        if (i > at
                && i < s.length()
                && Character.isHighSurrogate(s.charAt(i - 1))
                && Character.isLowSurrogate(s.charAt(i))) i--;
        return i;
    }

    /** The end of the code point at {@code at}: a piece that always makes progress. */
    public static int nextCodePoint(CharSequence s, int at) {
        return at + 1 < s.length()
                        && Character.isHighSurrogate(s.charAt(at))
                        && Character.isLowSurrogate(s.charAt(at + 1))
                ? at + 2
                : at + 1;
    }
}
