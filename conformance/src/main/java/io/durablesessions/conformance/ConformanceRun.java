package io.durablesessions.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The kit as a library, for tools that run it and judge the outcome themselves ({@code ds doctor}
 * in {@code cli/}): the options of {@code scripts/conformance}, the cases they select, one result
 * per case. The runner, its cases and its token sources stay what {@code scripts/conformance} runs.
 */
public final class ConformanceRun {
    /** How a case came out. */
    public enum Status {
        PASS,
        FAIL,
        SKIP
    }

    /**
     * One case's outcome.
     *
     * @param step    the failing step ({@link Status#FAIL} only, may be null)
     * @param message what failed, or why the case was skipped; null when it passed
     * @param report  the case's lines in the report of {@code scripts/conformance}, each ending with a line break
     */
    public record CaseResult(
            String id,
            String area,
            String title,
            List<String> covers,
            Status status,
            String step,
            String message,
            long millis,
            String report) {}

    private final Options options;
    private final TokenSource tokens;
    private final List<Case> cases;
    private final Kit kit;

    private ConformanceRun(Options options, TokenSource tokens, List<Case> cases) {
        this.options = options;
        this.tokens = tokens;
        this.cases = cases;
        this.kit = new Kit(options, tokens);
    }

    /**
     * A run with the options of {@code scripts/conformance} ({@code --ws}, {@code --http}, one token
     * source, {@code --only}, the deployment's timeouts, …; {@code scripts/conformance --help}).
     *
     * @throws IllegalArgumentException for a usage error, with a message for people
     * @throws IOException              when a token file cannot be read
     */
    public static ConformanceRun fromArguments(List<String> args) throws IOException {
        Map<String, String> opts = Main.parse(args.toArray(String[]::new));
        if (opts.containsKey("help") || opts.containsKey("list"))
            throw new IllegalArgumentException("--help and --list are not runs");
        if (!opts.containsKey("ws") || !opts.containsKey("http"))
            throw new IllegalArgumentException("--ws and --http are required");
        Options o = Main.options(opts);
        TokenSource tokens = Main.tokens(opts, o.prefix(), o.expiringSeconds());
        List<Case> all;
        try {
            all = opts.containsKey("cases")
                    ? CaseLoader.fromDirectory(Path.of(opts.get("cases")))
                    : CaseLoader.builtIn();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot load the cases: " + e.getMessage());
        }
        List<Case> selected = all.stream().filter(o::selects).toList();
        if (selected.isEmpty())
            throw new IllegalArgumentException("--only " + String.join(",", o.only()) + " selects no case");
        return new ConformanceRun(o, tokens, selected);
    }

    public URI webSocketUrl() {
        return options.ws();
    }

    /** The HTTP API's base URL, without a trailing slash. */
    public URI httpUrl() {
        return options.http();
    }

    /** How long a delivery may take ({@code --event-timeout}). */
    public Duration eventTimeout() {
        return options.eventTimeout();
    }

    /** How long an answer may take ({@code --answer-timeout}). */
    public Duration answerTimeout() {
        return options.answerTimeout();
    }

    /** The deployment's stop acknowledgement timeout ({@code --stop-ack-timeout}). */
    public Duration stopAckTimeout() {
        return options.stopAckTimeout();
    }

    /** Where connections carry their token: {@code query}, {@code protocol} or {@code either}. */
    public String tokenVia() {
        return options.tokenVia();
    }

    /** The ids of the selected cases, in run order. */
    public List<String> caseIds() {
        return cases.stream().map(Case::id).toList();
    }

    /** The report's header, as {@code scripts/conformance} prints it (lines ending with a line break). */
    public String header() {
        Set<String> ids = new TreeSet<>();
        cases.forEach(c -> ids.addAll(c.covers()));
        return text(out -> Report.printHeader(out, options, tokens, kit.runTag, cases.size(), ids.size()));
    }

    /** Runs the selected cases one after the other, handing each result on as soon as its case ended. */
    public List<CaseResult> run(Consumer<CaseResult> each) {
        List<CaseResult> results = new ArrayList<>();
        for (Case c : cases) {
            CaseResult r = result(kit.runCase(c));
            results.add(r);
            each.accept(r);
        }
        return results;
    }

    /** The summary line of {@code scripts/conformance}. */
    public static String summary(List<CaseResult> results, long millis) {
        long pass = results.stream().filter(r -> r.status() == Status.PASS).count();
        long fail = results.stream().filter(r -> r.status() == Status.FAIL).count();
        long skip = results.stream().filter(r -> r.status() == Status.SKIP).count();
        Set<String> proven = new TreeSet<>();
        for (CaseResult r : results) if (r.status() == Status.PASS) proven.addAll(r.covers());
        return Report.summary(results.size(), pass, fail, skip, proven.size(), millis);
    }

    /**
     * A valid token of one of the kit's principals ({@code agentA}, {@code user}, …; conformance/README.md)
     * for this run, from the run's token source; null when the source has none for it.
     */
    public String token(String principal) {
        try {
            return kit.token(principal, kit.subject(principal, null, 0), TokenSource.Variant.VALID);
        } catch (Skip | CaseFailure e) {
            return null;
        }
    }

    /** A session id of this run, inside the prefix the principals' grants cover: {@code <prefix><run>.<name>}. */
    public String session(String name) {
        return options.prefix() + kit.runTag + "." + name;
    }

    private CaseResult result(Kit.Result r) {
        Status s = switch (r.status()) {
            case PASS -> Status.PASS;
            case FAIL -> Status.FAIL;
            case SKIP -> Status.SKIP;
        };
        return new CaseResult(
                r.c().id(),
                r.c().area(),
                r.c().title(),
                r.c().covers(),
                s,
                r.step(),
                r.message(),
                r.millis(),
                text(out -> Report.printResult(out, r, options.verbose())));
    }

    private static String text(Consumer<PrintStream> print) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        print.accept(out);
        out.flush();
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
