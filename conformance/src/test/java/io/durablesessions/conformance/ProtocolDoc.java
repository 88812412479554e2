package io.durablesessions.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docs/protocol.md as the traceability test reads it: its requirement ids, its blocks (paragraphs,
 * bullets, table rows) and its tables by section.
 */
final class ProtocolDoc {
    static final Pattern ID = Pattern.compile("\\*\\*\\[([A-Za-z0-9.-]+)]\\*\\*");

    /** A paragraph, a bullet (with its continuation lines) or a table row, and the line it starts on. */
    record Block(int line, String text) {}

    final List<String> lines;

    private ProtocolDoc(List<String> lines) {
        this.lines = lines;
    }

    static ProtocolDoc load() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docs/protocol.md"))) dir = dir.getParent();
        if (dir == null)
            throw new IllegalStateException("docs/protocol.md not found above " + System.getProperty("user.dir"));
        try {
            return new ProtocolDoc(Files.readAllLines(dir.resolve("docs/protocol.md")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every requirement id, in the order the document names them. */
    Set<String> ids() {
        Set<String> out = new LinkedHashSet<>();
        for (String l : lines) {
            Matcher m = ID.matcher(l);
            while (m.find()) out.add(m.group(1));
        }
        return out;
    }

    /** Paragraphs, bullets and table rows outside code fences. */
    List<Block> blocks() {
        List<Block> out = new ArrayList<>();
        StringBuilder cur = null;
        int start = 0;
        boolean fence = false;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.strip().startsWith("```")) {
                fence = !fence;
                cur = flush(out, cur, start);
                continue;
            }
            if (fence) continue;
            boolean blank = l.isBlank();
            boolean heading = l.startsWith("#");
            boolean row = l.strip().startsWith("|");
            boolean bullet = l.matches("\\s*(?:- |\\d+\\. ).*");
            if (blank || heading || row || bullet) cur = flush(out, cur, start);
            if (blank) continue;
            if (heading || row) {
                out.add(new Block(i + 1, l));
                continue;
            }
            if (cur == null) {
                cur = new StringBuilder();
                start = i + 1;
            } else {
                cur.append(' ');
            }
            cur.append(l.strip());
        }
        flush(out, cur, start);
        return out;
    }

    private static StringBuilder flush(List<Block> out, StringBuilder cur, int start) {
        if (cur != null) out.add(new Block(start, cur.toString()));
        return null;
    }

    /** The rows (cells, trimmed) of the first table after the heading that starts with {@code heading}. */
    List<List<String>> tableAfter(String heading, String headerStartsWith) {
        int i = 0;
        while (i < lines.size() && !lines.get(i).startsWith(heading)) i++;
        if (i == lines.size()) throw new IllegalStateException("protocol.md has no heading '" + heading + "'");
        for (; i < lines.size(); i++) {
            if (lines.get(i).strip().startsWith("|")
                    && cells(lines.get(i)).get(0).startsWith(headerStartsWith)) break;
        }
        if (i == lines.size())
            throw new IllegalStateException("no table starting '" + headerStartsWith + "' after '" + heading + "'");
        List<List<String>> rows = new ArrayList<>();
        for (i += 2; i < lines.size() && lines.get(i).strip().startsWith("|"); i++) rows.add(cells(lines.get(i)));
        return rows;
    }

    static List<String> cells(String row) {
        String r = row.strip();
        if (r.startsWith("|")) r = r.substring(1);
        if (r.endsWith("|")) r = r.substring(0, r.length() - 1);
        List<String> out = new ArrayList<>();
        for (String c : r.split("\\|", -1)) out.add(c.strip());
        return out;
    }

    /** The text between the heading that starts with {@code heading} and the next heading of the same level. */
    String section(String heading) {
        StringBuilder sb = new StringBuilder();
        boolean in = false;
        String level = heading.substring(0, heading.indexOf(' ') + 1);
        for (String l : lines) {
            if (l.startsWith(heading)) {
                in = true;
                continue;
            }
            if (in && l.startsWith(level)) break;
            if (in) sb.append(l).append('\n');
        }
        return sb.toString();
    }
}
