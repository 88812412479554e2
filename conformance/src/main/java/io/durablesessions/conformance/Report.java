package io.durablesessions.conformance;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The readable report: one line per case, the failing step with expected and received, a summary. */
final class Report {
    private Report() {}

    static void printHeader(PrintStream out, Options o, TokenSource tokens, String runTag, int cases, int ids) {
        out.println("durable-sessions conformance kit: " + cases + " cases covering " + ids
                + " protocol ids (docs/protocol.md)");
        out.println("  WebSocket  " + o.ws());
        out.println("  HTTP       " + o.http());
        out.println("  sessions   " + o.prefix() + runTag + ".<case>");
        out.println("  tokens     " + tokens.describe() + ", via " + o.tokenVia());
        out.println("  timeouts   liveness " + secs(o.livenessTimeout()) + ", stop ack " + secs(o.stopAckTimeout())
                + ", presence grace " + secs(o.presenceGrace()) + ", sweep " + secs(o.sweepInterval())
                + ", presence budget " + o.presenceBudget() + "/min, rate " + o.messagesPerSecond() + "/s");
        out.println();
    }

    private static String secs(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    static void printResult(PrintStream out, Kit.Result r, boolean verbose) {
        String line =
                String.format("%-4s  %-48s %6.1f s  %s", r.status(), r.c().id(), r.millis() / 1000.0, r.c().title());
        out.println(line);
        if (r.status() == Kit.Status.FAIL) {
            out.println("      covers " + r.c().covers() + " (" + r.c().file() + ")");
            if (r.step() != null) out.println("      at " + r.step());
            for (String l : wrap(r.message(), 150)) out.println("      " + l);
        } else if (r.status() == Kit.Status.SKIP) {
            out.println("      skipped: " + r.message());
        } else if (verbose) {
            out.println("      covers " + r.c().covers());
        }
        out.flush();
    }

    static String summary(List<Kit.Result> results, long millis) {
        long pass = results.stream().filter(r -> r.status() == Kit.Status.PASS).count();
        long fail = results.stream().filter(r -> r.status() == Kit.Status.FAIL).count();
        long skip = results.stream().filter(r -> r.status() == Kit.Status.SKIP).count();
        Set<String> proven = new TreeSet<>();
        for (Kit.Result r : results) if (r.status() == Kit.Status.PASS) proven.addAll(r.c().covers());
        return summary(results.size(), pass, fail, skip, proven.size(), millis);
    }

    static String summary(int cases, long pass, long fail, long skip, int proven, long millis) {
        return cases + " cases: " + pass + " passed, " + fail + " failed, " + skip + " skipped in "
                + String.format("%.1f", millis / 1000.0) + " s; " + proven + " protocol ids proven by passing cases";
    }

    static List<String> wrap(String s, int width) {
        List<String> out = new ArrayList<>();
        if (s == null) return out;
        for (String para : s.split("\n")) {
            String rest = para;
            while (rest.length() > width) {
                out.add(rest.substring(0, width));
                rest = rest.substring(width);
            }
            out.add(rest);
        }
        return out;
    }
}
