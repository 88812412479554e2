package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.ErrorCode;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs cases against one target and reports each as passed, failed (with the step) or skipped. */
final class Kit {
    /** The outcome of one case. */
    record Result(Case c, Status status, String step, String message, long millis) {}

    enum Status {
        PASS,
        FAIL,
        SKIP
    }

    /** HTTP-only codes of the HTTP API's error table (docs/protocol.md, HTTP API → Errors), with their status. */
    static final Map<String, Integer> HTTP_ONLY_CODES = Map.of("SESSION_EXISTS", 409, "METHOD_NOT_ALLOWED", 405);

    final Options options;
    final TokenSource tokens;
    final String runTag;
    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15)).build();
    private final Map<String, String> tokenCache = new ConcurrentHashMap<>();
    private final AtomicInteger caseNo = new AtomicInteger();

    Kit(Options options, TokenSource tokens) {
        this.options = options;
        this.tokens = tokens;
        this.runTag = UUID.randomUUID().toString().substring(0, 8);
    }

    List<Result> run(List<Case> cases, PrintStream out) {
        List<Result> results = new ArrayList<>();
        for (Case c : cases) {
            if (!options.selects(c)) continue;
            Result r = runCase(c);
            results.add(r);
            if (out != null) Report.printResult(out, r, options.verbose());
        }
        return results;
    }

    Result runCase(Case c) {
        long t0 = System.nanoTime();
        for (String r : c.requires()) {
            String why = unmet(r);
            if (why != null) return new Result(c, Status.SKIP, null, why, 0);
        }
        CaseRun run = new CaseRun(this, c, caseNo.incrementAndGet());
        try {
            run.steps(c.steps(), run.vars);
            run.invariants();
            return new Result(c, Status.PASS, null, null, (System.nanoTime() - t0) / 1_000_000);
        } catch (Skip s) {
            return new Result(c, Status.SKIP, null, s.getMessage(), (System.nanoTime() - t0) / 1_000_000);
        } catch (StepFailure f) {
            return new Result(c, Status.FAIL, f.step, f.getMessage(), (System.nanoTime() - t0) / 1_000_000);
        } catch (CaseFailure | IllegalArgumentException | IllegalStateException f) {
            return new Result(c, Status.FAIL, null, f.getMessage(), (System.nanoTime() - t0) / 1_000_000);
        } finally {
            run.closeAll();
        }
    }

    /** Why a requirement cannot be met here, or null when it can. */
    String unmet(String requirement) {
        return switch (requirement) {
            case "special-tokens" ->
                tokens.mintsSpecial()
                        ? null
                        : "needs specially wrong tokens (expired, future iat, …): only --hs256-secret mints them";
            case "fresh-subjects" ->
                tokens.mintsSubjects()
                        ? null
                        : "needs tokens for fresh subjects: use --hs256-secret or --token-command";
            case "subprotocol" ->
                options.tokenVia().equals("either") || options.tokenVia().equals("protocol")
                        ? null
                        : "the deployment reads tokens from the query (--token-via query)";
            default -> "unknown requirement " + requirement;
        };
    }

    /** The subject the kit uses for a principal in case {@code no}; {@code fresh} names a subject of its own. */
    String subject(String principal, String fresh, int no) {
        if (fresh != null) {
            if (!tokens.mintsSubjects()) throw new Skip("needs a token for a fresh subject ('" + fresh + "')");
            return fresh + "." + runTag + "." + no;
        }
        if (tokens.mintsSubjects())
            return tokens.cheap() ? principal + "." + runTag + "." + no : principal + "." + runTag;
        String own = tokens.ownSubject(principal);
        if (own == null) throw new Skip("no token for principal " + principal);
        return own;
    }

    String token(String principal, String subject, TokenSource.Variant variant) {
        Principals.Spec spec = Principals.get(principal);
        return switch (variant) {
            case NONE -> null;
            case GARBAGE -> "not-a-jwt";
            case TAMPERED -> TokenSource.tampered(token(principal, subject, TokenSource.Variant.VALID));
            case VALID ->
                tokenCache.computeIfAbsent(principal + "|" + subject, k -> tokens.token(spec, subject, variant));
            default -> {
                if (!tokens.mintsSpecial()) throw new Skip("the token source cannot mint a " + variant + " token");
                yield tokens.token(spec, subject, variant);
            }
        };
    }

    /** Fails a case from inside a step, naming the step. */
    static final class StepFailure extends RuntimeException {
        final String step;

        StepFailure(String step, String message) {
            super(message, null, false, false);
            this.step = step;
        }
    }

    /** Checks that an error code is one of the protocol's (§5); null when it is. */
    static String unknownCode(String code) {
        return ErrorCode.fromWire(code) == null ? "error code '" + code + "' is not one of docs/protocol.md §5" : null;
    }

    /** The HTTP status the HTTP API must answer a code with; null for an unknown code. */
    static Integer statusOf(String code) {
        ErrorCode c = ErrorCode.fromWire(code);
        if (c != null) return c.httpStatus();
        return HTTP_ONLY_CODES.get(code);
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The top-level requestId of a frame that may not parse, as the service would find it. */
    static String requestIdOf(String text) {
        ObjectNode o = Jsons.parseObjectOrNull(text);
        if (o != null)
            return o.path("requestId").isTextual() ? o.get("requestId").asText() : null;
        Matcher m = Pattern.compile(
                        "^\\s*\\{\\s*(?:\"[^\"]*\"\\s*:\\s*\"[^\"]*\"\\s*,\\s*)*?\"requestId\"\\s*:\\s*\"([^\"]*)\"")
                .matcher(text.length() > 4096 ? text.substring(0, 4096) : text);
        return m.find() ? m.group(1) : null;
    }

    static byte[] base64(String s) {
        return Base64.getDecoder().decode(s);
    }

    /** Every connection of a run, so the run can close them whatever happens. */
    static final class Connections {
        final Map<String, Conn> byName = new ConcurrentHashMap<>();
        final List<Conn> all = new CopyOnWriteArrayList<>();

        Conn get(String name) {
            Conn c = byName.get(name);
            if (c == null) throw new CaseFailure("no connection named '" + name + "' (connect it first)");
            return c;
        }
    }

    static final Set<String> STOP_LIFECYCLE = Set.of("run.stop_acknowledged", "run.stopped", "run.failed");
}
