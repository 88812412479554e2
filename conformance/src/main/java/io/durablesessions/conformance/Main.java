package io.durablesessions.conformance;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** {@code scripts/conformance}: runs the kit against the URLs given and exits non-zero when a case fails. */
public final class Main {
    static final String USAGE = """
            usage: scripts/conformance --ws URL --http URL TOKENS [options]
              --ws URL            the WebSocket URL: wss://ID.execute-api.REGION.amazonaws.com/STAGE (stack output WebSocketUrl),
                                  locally ws://127.0.0.1:PORT/local
              --http URL          the HTTP API's base URL (paths start with /v1): https://ID.execute-api.REGION.amazonaws.com
                                  (stack output HttpApiUrl), locally http://127.0.0.1:PORT
            TOKENS, one of:
              --hs256-secret S    mint every token with the deployment's HS256 secret (JWT_HS256_SECRET), with
                --issuer I        its JWT_ISSUER and
                --audience A      its JWT_AUDIENCE (default durable-sessions); the only source that can mint
                                  expired, future-issued or malformed tokens
              --token-command C   a command printing one token; {subject} {role} {scope} {caps} are replaced, e.g.
                                  'scripts/token {subject} {role} {scope} {caps}'  ({scope} is PREFIX* or *)
              --tokens FILE       JSON {"agentA": "<jwt>", "user": "<jwt>", ...}: pre-issued tokens per principal
            options:
              --prefix P          every session of the run starts with P (default conformance-); the grants must cover it
              --only LIST         comma-separated case ids, id prefixes or areas (e.g. --only=resume,control.stop-race)
              --token-via V       query (default), protocol (Sec-WebSocket-Protocol), or either (the local stack)
              --liveness-timeout D   the deployment's LIVENESS_TIMEOUT_SECONDS (default 30s)
              --stop-ack-timeout D   the deployment's STOP_ACK_TIMEOUT_SECONDS (default 10s)
              --presence-grace D     the deployment's PRESENCE_GRACE_SECONDS (default 5s)
              --sweep-interval D     how often its sweeper runs (default 60s, EventBridge's minute; 1s locally)
              --presence-budget N    its PRESENCE_JOINS_PER_MINUTE (default 30)
              --rate-limit N         its RATE_LIMIT_PER_SECOND (default 500)
              --answer-timeout D     how long an answer may take (default 30s)
              --event-timeout D      how long a delivery may take (default 30s)
              --expiring D           how long an "expiring" token lives after it is minted (default 8s)
              --cases DIR         run the *.yaml case files of DIR instead of the built-in ones
              --list              list the cases (id, covers, title) and exit
              --verbose           also print what each passing case covers
            D is a duration like 500ms, 10s or 2m. Exit code 0: no case failed; 1: a case failed; 2: usage.
            Principals and the grants each token needs: conformance/README.md.""";

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Map<String, String> opts;
        try {
            opts = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("scripts/conformance: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        if (opts.containsKey("help")) {
            out.println(USAGE);
            return 0;
        }
        List<Case> cases;
        try {
            cases = opts.containsKey("cases")
                    ? CaseLoader.fromDirectory(Path.of(opts.get("cases")))
                    : CaseLoader.builtIn();
        } catch (RuntimeException e) {
            err.println("scripts/conformance: cannot load the cases: " + e.getMessage());
            return 2;
        }
        if (opts.containsKey("list")) {
            for (Case c : cases) out.printf("%-48s %-50s %s%n", c.id(), String.join(",", c.covers()), c.title());
            return 0;
        }
        if (!opts.containsKey("ws") || !opts.containsKey("http")) {
            err.println(USAGE);
            return 2;
        }
        Options o;
        TokenSource tokens;
        try {
            o = options(opts);
            tokens = tokens(opts, o.prefix(), o.expiringSeconds());
        } catch (IllegalArgumentException | IOException e) {
            err.println("scripts/conformance: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        List<Case> selected = cases.stream().filter(o::selects).toList();
        if (selected.isEmpty()) {
            err.println("scripts/conformance: --only " + String.join(",", o.only()) + " selects no case (see --list)");
            return 2;
        }
        Set<String> ids = new TreeSet<>();
        selected.forEach(c -> ids.addAll(c.covers()));
        Kit kit = new Kit(o, tokens);
        Report.printHeader(out, o, tokens, kit.runTag, selected.size(), ids.size());
        long t0 = System.nanoTime();
        List<Kit.Result> results = kit.run(selected, out);
        out.println();
        out.println(Report.summary(results, (System.nanoTime() - t0) / 1_000_000));
        return results.stream().anyMatch(r -> r.status() == Kit.Status.FAIL) ? 1 : 0;
    }

    static final Set<String> FLAGS = Set.of("list", "verbose", "help");
    static final Set<String> VALUED = Set.of(
            "ws",
            "http",
            "prefix",
            "hs256-secret",
            "issuer",
            "audience",
            "token-command",
            "tokens",
            "only",
            "token-via",
            "liveness-timeout",
            "stop-ack-timeout",
            "presence-grace",
            "sweep-interval",
            "presence-budget",
            "rate-limit",
            "answer-timeout",
            "event-timeout",
            "expiring",
            "cases");

    static Map<String, String> parse(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> list = new ArrayList<>(Arrays.asList(args));
        for (int i = 0; i < list.size(); i++) {
            String a = list.get(i);
            if (a.equals("-h")) a = "--help";
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            String name = a.substring(2);
            String value = null;
            if (name.contains("=")) {
                value = name.substring(name.indexOf('=') + 1);
                name = name.substring(0, name.indexOf('='));
            }
            if (FLAGS.contains(name)) {
                if (value != null) throw new IllegalArgumentException("--" + name + " takes no value");
                out.put(name, "true");
            } else if (VALUED.contains(name)) {
                if (value == null) {
                    if (i + 1 >= list.size()) throw new IllegalArgumentException("--" + name + " needs a value");
                    value = list.get(++i);
                }
                out.put(name, value);
            } else {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
        return out;
    }

    static Options options(Map<String, String> o) {
        URI ws = url(o.get("ws"), "--ws", Set.of("ws", "wss"));
        URI http = url(o.get("http"), "--http", Set.of("http", "https"));
        String httpText = http.toString();
        if (httpText.endsWith("/")) http = URI.create(httpText.substring(0, httpText.length() - 1));
        String prefix = o.getOrDefault("prefix", "conformance-");
        if (!prefix.matches("[A-Za-z0-9._:-]{1,60}")) {
            throw new IllegalArgumentException("--prefix must be 1-60 characters of A-Z a-z 0-9 . _ : -");
        }
        String via = o.getOrDefault("token-via", "query");
        if (!Set.of("query", "protocol", "either").contains(via))
            throw new IllegalArgumentException("--token-via is query, protocol or either");
        List<String> only = o.containsKey("only")
                ? Arrays.stream(o.get("only").split(","))
                        .map(String::trim)
                        .filter(s -> !s.isEmpty())
                        .toList()
                : List.of();
        int budget = o.containsKey("presence-budget") ? Integer.parseInt(o.get("presence-budget")) : 30;
        int rate = o.containsKey("rate-limit") ? Integer.parseInt(o.get("rate-limit")) : 500;
        if (rate < 1) throw new IllegalArgumentException("--rate-limit is a number of messages per second, at least 1");
        return new Options(
                ws,
                http,
                prefix,
                only,
                via,
                dur(o, "answer-timeout", "30s"),
                dur(o, "event-timeout", "30s"),
                dur(o, "liveness-timeout", "30s"),
                dur(o, "stop-ack-timeout", "10s"),
                dur(o, "presence-grace", "5s"),
                dur(o, "sweep-interval", "60s"),
                budget,
                rate,
                (int) dur(o, "expiring", "8s").toSeconds(),
                o.containsKey("cases") ? Path.of(o.get("cases")) : null,
                o.containsKey("verbose"));
    }

    private static URI url(String s, String option, Set<String> schemes) {
        try {
            URI u = new URI(s);
            if (u.getScheme() == null || !schemes.contains(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException(
                        option + " must be a " + String.join(" or ", new TreeSet<>(schemes)) + " URL, not '" + s + "'");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(option + " is not a URL: " + s);
        }
    }

    static Duration dur(Map<String, String> o, String name, String fallback) {
        String t = o.getOrDefault(name, fallback).trim();
        try {
            if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            if (t.endsWith("s"))
                return Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            if (t.endsWith("m"))
                return Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000));
            return Duration.ofMillis((long) (Double.parseDouble(t) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " '" + t + "' is not a duration like 500ms, 10s or 2m");
        }
    }

    static TokenSource tokens(Map<String, String> o, String prefix, int expiringSeconds) throws IOException {
        int sources = (o.containsKey("hs256-secret") ? 1 : 0)
                + (o.containsKey("token-command") ? 1 : 0)
                + (o.containsKey("tokens") ? 1 : 0);
        if (sources != 1)
            throw new IllegalArgumentException("give exactly one of --hs256-secret, --token-command, --tokens");
        if (o.containsKey("hs256-secret")) {
            if (!o.containsKey("issuer"))
                throw new IllegalArgumentException("--hs256-secret needs --issuer (the deployment's JWT_ISSUER)");
            return new Hs256Tokens(
                    o.get("hs256-secret"),
                    o.get("issuer"),
                    o.getOrDefault("audience", "durable-sessions"),
                    prefix,
                    expiringSeconds);
        }
        if (o.containsKey("token-command")) return new CommandTokens(o.get("token-command"), prefix);
        return new FileTokens(Path.of(o.get("tokens")));
    }
}
