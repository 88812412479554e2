package io.durablesessions.cli.doctor;

import io.durablesessions.cli.Api;
import io.durablesessions.cli.CliException;
import io.durablesessions.cli.Ds;
import io.durablesessions.cli.DurationConverter;
import io.durablesessions.cli.ExitCodes;
import io.durablesessions.cli.Handshake;
import io.durablesessions.cli.Target;
import io.durablesessions.conformance.ConformanceRun;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ds doctor}: is this deployment sound? A reachability check of both doors, the SDK probe
 * ({@link Probe}: resume exactly once after a cut, a stop acknowledged and fenced), then the
 * conformance kit through its library API ({@link ConformanceRun}), and a verdict per area.
 */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Checks a deployment: SDK probe + conformance kit, a verdict.",
            "",
            "Prints PASS or FAIL per area and overall (exit code 0 or 1): "
                    + "first that both URLs answer and take the tokens, then a probe with the Java SDK (an agent streams while "
                    + "a reader is cut off and resumes, checked exactly once and in order against the log; a client stops a run "
                    + "and sees it requested, acknowledged and stopped), then the conformance kit (conformance/README.md).",
            "",
            "Tokens as scripts/conformance takes them: --hs256-secret with --issuer, --token-command or --tokens. "
                    + "With none of them and loopback URLs, the local stack's development secret (and --token-via "
                    + "either, --sweep-interval 1s: the local stack's).",
            "A whole run against a deployed stage takes minutes (liveness cases wait for the service's own timers: "
                    + "give its timeouts below); --quick runs the probe and " + DoctorCommand.QUICK_COUNT
                    + " cases in well under a minute."
        })
public final class DoctorCommand implements Callable<Integer> {
    /** --quick: one or two cases of the most telling areas, none that waits for the service's own timers. */
    static final List<String> QUICK = List.of(
            "transport.garbage-or-tampered-token",
            "transport.unknown-action",
            "authorization.outsider",
            "producers.retry-on-a-new-connection",
            "resume.abrupt-kills-mid-stream",
            "hydrate.mid-stream-then-tail",
            "control.stop-acknowledged",
            "http.events-paging");

    static final String QUICK_COUNT = "8";

    @ParentCommand
    Ds ds;

    @Option(
            names = "--token-command",
            paramLabel = "CMD",
            description = "A command printing one token; {subject} {role} {scope} {caps} are replaced "
                    + "(e.g. 'scripts/token {subject} {role} {scope} {caps}').")
    String tokenCommand;

    @Option(
            names = "--tokens",
            paramLabel = "FILE",
            description = "JSON {\"agentA\": \"<jwt>\", \"user\": \"<jwt>\", …}: pre-issued tokens per principal "
                    + "(conformance/README.md lists them and their grants).")
    String tokensFile;

    @Option(names = "--quick", description = "The probe and " + QUICK_COUNT + " cases only.")
    boolean quick;

    @Option(
            names = "--only",
            paramLabel = "LIST",
            description = "The probe and these cases: ids, id prefixes or areas, "
                    + "comma-separated (scripts/conformance --list).")
    String only;

    @Option(
            names = "--prefix",
            paramLabel = "P",
            description = "Every session of the run starts with P (default conformance-); "
                    + "the tokens' grants must cover it.")
    String prefix;

    @Option(
            names = "--token-via",
            paramLabel = "V",
            description = "query (default), protocol, or either (the local stack).")
    String tokenVia;

    @Option(
            names = "--liveness-timeout",
            paramLabel = "D",
            converter = DurationConverter.class,
            description = "The deployment's LIVENESS_TIMEOUT_SECONDS (default 30s).")
    Duration livenessTimeout;

    @Option(
            names = "--stop-ack-timeout",
            paramLabel = "D",
            converter = DurationConverter.class,
            description = "Its STOP_ACK_TIMEOUT_SECONDS (default 10s).")
    Duration stopAckTimeout;

    @Option(
            names = "--presence-grace",
            paramLabel = "D",
            converter = DurationConverter.class,
            description = "Its PRESENCE_GRACE_SECONDS (default 5s).")
    Duration presenceGrace;

    @Option(
            names = "--sweep-interval",
            paramLabel = "D",
            converter = DurationConverter.class,
            description = "How often its sweeper runs (default 60s; 1s for loopback URLs).")
    Duration sweepInterval;

    @Option(names = "--presence-budget", paramLabel = "N", description = "Its PRESENCE_JOINS_PER_MINUTE (default 30).")
    Integer presenceBudget;

    @Option(names = "--rate-limit", paramLabel = "N", description = "Its RATE_LIMIT_PER_SECOND (default 500).")
    Integer rateLimit;

    @Option(
            names = "--answer-timeout",
            paramLabel = "D",
            converter = DurationConverter.class,
            description = "How long an answer may take (default 30s).")
    Duration answerTimeout;

    @Option(
            names = "--event-timeout",
            paramLabel = "D",
            converter = DurationConverter.class,
            description = "How long a delivery may take (default 30s).")
    Duration eventTimeout;

    @Option(names = "--verbose", description = "Also print what each passing case covers.")
    boolean verbose;

    @Override
    public Integer call() {
        Target target = ds.target();
        ConformanceRun run;
        try {
            run = ConformanceRun.fromArguments(kitArguments(target));
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, e.getMessage());
        } catch (IOException e) {
            throw new CliException(ExitCodes.USAGE, "cannot read the tokens: " + e.getMessage());
        }
        PrintWriter out = ds.out();
        long t0 = System.nanoTime();
        out.println("ds doctor: " + (quick ? "quick check" : "check") + " of " + target.webSocketUrl() + " and "
                + target.httpUrl());
        out.print(run.header());
        out.flush();

        Verdict verdict = new Verdict();
        String someToken = firstToken(run, "user", "user2", "agentA", "agentB", "viewer", "operator", "outsider");
        Check reach = reachability(run, someToken);
        verdict.add("reachability", reach.status(), reach.detail());
        line(out, reach.status(), "reachability", reach.millis(), reach.detail());
        if (reach.status() != Probe.Status.PASS) {
            out.println();
            out.println("nothing more to check while the deployment cannot be reached");
            verdict.print(out, (System.nanoTime() - t0) / 1_000_000);
            return ExitCodes.FAILED;
        }

        for (Probe.Result r : probe(run)) {
            verdict.add("probe", r.status(), null);
            line(out, r.status(), r.id(), r.millis(), r.title());
            if (r.status() != Probe.Status.PASS || verbose) out.println("      " + r.detail());
            out.flush();
        }

        long k0 = System.nanoTime();
        List<ConformanceRun.CaseResult> results = run.run(r -> {
            verdict.add(r.area(), Probe.Status.valueOf(r.status().name()), null);
            out.print(r.report());
            out.flush();
        });
        out.println();
        out.println(ConformanceRun.summary(results, (System.nanoTime() - k0) / 1_000_000));
        return verdict.print(out, (System.nanoTime() - t0) / 1_000_000) ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** The options of scripts/conformance for this run. */
    List<String> kitArguments(Target target) {
        boolean local = Target.isLoopback(target.webSocketUrl()) && Target.isLoopback(target.httpUrl());
        List<String> a = new ArrayList<>(List.of(
                "--ws",
                target.webSocketUrl().toString(),
                "--http",
                target.httpUrl().toString()));
        Ds.TokenOptions t = ds.tokenOptions();
        int sources = (t.hs256Secret() != null ? 1 : 0) + (tokenCommand != null ? 1 : 0) + (tokensFile != null ? 1 : 0);
        if (sources > 1)
            throw new CliException(ExitCodes.USAGE, "give one of --hs256-secret, --token-command, --tokens");
        if (t.hs256Secret() != null) {
            a.addAll(List.of("--hs256-secret", t.hs256Secret()));
            if (t.issuer() != null) a.addAll(List.of("--issuer", t.issuer()));
            if (t.audience() != null) a.addAll(List.of("--audience", t.audience()));
        } else if (tokenCommand != null) {
            a.addAll(List.of("--token-command", tokenCommand));
        } else if (tokensFile != null) {
            a.addAll(List.of("--tokens", tokensFile));
        } else if (local) {
            a.addAll(List.of("--hs256-secret", AuthConfig.LOCAL_DEV_SECRET, "--issuer", AuthConfig.LOCAL_ISSUER));
        } else {
            throw new CliException(
                    ExitCodes.USAGE,
                    "doctor needs tokens for several principals: --hs256-secret with --issuer, "
                            + "--token-command or --tokens (conformance/README.md); --token alone is not enough");
        }
        if (prefix != null) a.addAll(List.of("--prefix", prefix));
        if (only != null) a.addAll(List.of("--only", only));
        else if (quick) a.addAll(List.of("--only", String.join(",", QUICK)));
        if (tokenVia != null) a.addAll(List.of("--token-via", tokenVia));
        else if (local) a.addAll(List.of("--token-via", "either"));
        duration(a, "--liveness-timeout", livenessTimeout);
        duration(a, "--stop-ack-timeout", stopAckTimeout);
        duration(a, "--presence-grace", presenceGrace);
        duration(a, "--sweep-interval", sweepInterval != null ? sweepInterval : local ? Duration.ofSeconds(1) : null);
        duration(a, "--answer-timeout", answerTimeout);
        duration(a, "--event-timeout", eventTimeout);
        if (presenceBudget != null) a.addAll(List.of("--presence-budget", presenceBudget.toString()));
        if (rateLimit != null) a.addAll(List.of("--rate-limit", rateLimit.toString()));
        if (verbose) a.add("--verbose");
        return a;
    }

    private static void duration(List<String> a, String option, Duration d) {
        if (d != null) a.addAll(List.of(option, DurationConverter.format(d)));
    }

    private static String firstToken(ConformanceRun run, String... principals) {
        for (String p : principals) {
            String t = run.token(p);
            if (t != null) return t;
        }
        return null;
    }

    record Check(Probe.Status status, String detail, long millis) {}

    /** Both doors answer and take a token: the HTTP API answers a read of a session that does not exist, the WebSocket a handshake. */
    private Check reachability(ConformanceRun run, String token) {
        long t0 = System.nanoTime();
        if (token == null) return new Check(Probe.Status.FAIL, "the token source gave no token for any principal", 0);
        Api api = new Api(
                HttpClient.newBuilder().connectTimeout(run.answerTimeout()).build(), run.httpUrl(), () -> token);
        Optional<HttpResponse<String>> answer = api.probe("GET", "/v1/sessions/" + run.session("doctor-reach"));
        long httpMs = (System.nanoTime() - t0) / 1_000_000;
        if (answer.isEmpty()) {
            return new Check(Probe.Status.FAIL, "nothing answered at " + run.httpUrl(), httpMs);
        }
        int status = answer.get().statusCode();
        String code = problemCode(answer.get().body());
        if (status != 404 && status != 200) {
            return new Check(
                    Probe.Status.FAIL,
                    "the HTTP API answered " + status + (code == null ? "" : " " + code)
                            + (status == 401 || status == 403 ? " (the token was refused)" : "")
                            + " where 404 SESSION_NOT_FOUND was due",
                    httpMs);
        }
        Handshake.Outcome ws =
                Handshake.check(run.webSocketUrl(), token, "protocol".equals(run.tokenVia()), run.answerTimeout());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (!ws.ok()) return new Check(Probe.Status.FAIL, ws.message(), ms);
        return new Check(
                Probe.Status.PASS,
                "HTTP API answered " + status + " in " + httpMs + " ms; WebSocket handshake in " + ws.millis() + " ms",
                ms);
    }

    private List<Probe.Result> probe(ConformanceRun run) {
        String agent = run.token("agentA");
        String user = run.token("user");
        if (agent == null || user == null) {
            String why = "needs tokens of the principals agentA and user";
            return List.of(
                    new Probe.Result(Probe.RESUME, Probe.RESUME_TITLE, Probe.Status.SKIP, why, 0),
                    new Probe.Result(Probe.STOP, Probe.STOP_TITLE, Probe.Status.SKIP, why, 0));
        }
        if ("protocol".equals(run.tokenVia())) {
            String why =
                    "the Java SDK sends its token in the query; this deployment reads it from the subprotocol only";
            return List.of(
                    new Probe.Result(Probe.RESUME, Probe.RESUME_TITLE, Probe.Status.SKIP, why, 0),
                    new Probe.Result(Probe.STOP, Probe.STOP_TITLE, Probe.Status.SKIP, why, 0));
        }
        Api userApi = new Api(
                HttpClient.newBuilder().connectTimeout(run.answerTimeout()).build(), run.httpUrl(), () -> user);
        try (Probe p = new Probe(
                run.webSocketUrl(),
                userApi,
                agent,
                user,
                run.session("doctor-probe"),
                run.eventTimeout(),
                run.stopAckTimeout())) {
            return p.run();
        }
    }

    private static String problemCode(String body) {
        try {
            var o = Json.parseStored(body == null ? "" : body);
            return o.hasNonNull("code")
                    ? o.path("code").asText()
                    : o.hasNonNull("message") ? o.path("message").asText() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void line(PrintWriter out, Probe.Status status, String id, long millis, String title) {
        out.println(String.format("%-4s  %-48s %6.1f s  %s", status, id, millis / 1000.0, title));
    }

    /** PASS/FAIL/SKIP per area, in the order the areas came. */
    static final class Verdict {
        private final Map<String, int[]> areas = new LinkedHashMap<>();
        private final Map<String, String> notes = new LinkedHashMap<>();

        void add(String area, Probe.Status status, String note) {
            areas.computeIfAbsent(area, a -> new int[3])[status.ordinal()]++;
            if (note != null) notes.put(area, note);
        }

        static Probe.Status of(int[] n) {
            if (n[Probe.Status.FAIL.ordinal()] > 0) return Probe.Status.FAIL;
            if (n[Probe.Status.PASS.ordinal()] > 0) return Probe.Status.PASS;
            return Probe.Status.SKIP;
        }

        /** Prints the verdict; true when it is PASS: no area failed and something beyond reachability passed. */
        boolean print(PrintWriter out, long millis) {
            out.println();
            out.println("verdict");
            boolean failed = false;
            boolean proven = false;
            for (var e : areas.entrySet()) {
                int[] n = e.getValue();
                Probe.Status s = of(n);
                failed |= s == Probe.Status.FAIL;
                proven |= s == Probe.Status.PASS && !e.getKey().equals("reachability");
                String counts = notes.containsKey(e.getKey())
                        ? notes.get(e.getKey())
                        : n[0] + " passed" + (n[1] > 0 ? ", " + n[1] + " failed" : "")
                                + (n[2] > 0 ? ", " + n[2] + " skipped" : "");
                out.printf("  %-14s %-4s  %s%n", e.getKey(), s, counts);
            }
            boolean pass = !failed && proven;
            out.printf(
                    "  %-14s %-4s  in %.1f s%s%n",
                    "overall",
                    pass ? "PASS" : "FAIL",
                    millis / 1000.0,
                    !failed && !proven ? " (nothing could be checked: every case was skipped)" : "");
            out.flush();
            return pass;
        }
    }
}
