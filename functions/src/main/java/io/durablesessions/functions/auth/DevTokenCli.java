package io.durablesessions.functions.auth;

import io.durablesessions.events.Fields;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code scripts/token}: mints a token for the local stack's development issuer, after checking
 * every argument (a typo gets a one-line error and exit code 2, never a token with a bogus role).
 * Options shape the validity window for tests of expiry handling.
 */
public final class DevTokenCli {
    static final String USAGE = """
            usage: scripts/token [options] SUBJECT agent|client|viewer [SESSION | PREFIX* | *] [CAPS]
              CAPS       comma-separated: read,append,control,agent (default: agent read,append,agent;
                         client read,append,control; viewer read); agent needs role agent, viewer reads only
              --ttl D    valid for D from now (default 12h); D is like 90s, 15m, 12h, 7d or PT30M
              --expired  expired 5 minutes ago (beyond the 60 s of clock skew verifiers accept)
              --not-before D   not valid until D from now (more than 60 s to be refused, e.g. --not-before 10m)""";

    /** What the arguments asked for. */
    record Request(String subject, String role, Grant grant, Instant notBefore, Instant expires) {}

    private DevTokenCli() {}

    public static void main(String[] args) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println(USAGE);
            return;
        }
        Request r;
        try {
            r = parse(args, Instant.now());
        } catch (IllegalArgumentException e) {
            System.err.println("scripts/token: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        System.out.println(DevTokens.mint(
                AuthConfig.localDevelopment(),
                r.subject(),
                r.role(),
                List.of(r.grant()),
                r.notBefore(),
                r.expires(),
                UUID.randomUUID().toString(),
                AuthConfig.localDevelopment().audience()));
    }

    static Request parse(String[] args, Instant now) {
        Duration ttl = Duration.ofHours(12);
        Duration notBefore = Duration.ZERO;
        boolean expired = false;
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--ttl" -> ttl = positive("--ttl", duration("--ttl", value(args, ++i, a)));
                case "--not-before" ->
                    notBefore = positive("--not-before", duration("--not-before", value(args, ++i, a)));
                case "--expired" -> expired = true;
                default -> {
                    if (a.startsWith("--")) throw new IllegalArgumentException("unknown option " + a);
                    positional.add(a);
                }
            }
        }
        if (positional.size() < 2 || positional.size() > 4) {
            throw new IllegalArgumentException(
                    "expected SUBJECT ROLE [SCOPE] [CAPS], got " + positional.size() + " argument(s)");
        }
        if (expired && notBefore.isPositive())
            throw new IllegalArgumentException("--expired and --not-before exclude each other");
        String subject = positional.get(0);
        if (!Fields.isValidId(subject)) {
            throw new IllegalArgumentException(
                    "SUBJECT '" + subject + "' must be 1-128 characters of A-Z a-z 0-9 . _ : -");
        }
        String role = positional.get(1);
        if (!List.of("agent", "client", "viewer").contains(role)) {
            throw new IllegalArgumentException("ROLE must be agent, client or viewer, not '" + role + "'");
        }
        String scope = positional.size() > 2 ? positional.get(2) : "*";
        String caps = positional.size() > 3
                ? positional.get(3)
                : switch (role) {
                    case "agent" -> "read,append,agent";
                    case "viewer" -> "read";
                    default -> "read,append,control";
                };
        Set<Capability> cs = new LinkedHashSet<>();
        for (String c : caps.split(",", -1)) {
            try {
                cs.add(Capability.fromWire(c.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "capability '" + c + "' is not one of read, append, control, agent, admin");
            }
        }
        if (cs.contains(Capability.AGENT) && !role.equals("agent")) {
            throw new IllegalArgumentException("capability agent needs role agent");
        }
        if (role.equals("viewer") && !cs.equals(Set.of(Capability.READ))) {
            throw new IllegalArgumentException("a viewer may only read");
        }
        Capability[] arr = cs.toArray(Capability[]::new);
        Grant grant;
        if (scope.equals("*")) {
            grant = Grant.all(arr);
        } else if (scope.endsWith("*")) {
            String prefix = scope.substring(0, scope.length() - 1);
            if (!Fields.isValidId(prefix)) {
                throw new IllegalArgumentException(
                        "session prefix '" + prefix + "' must be characters of A-Z a-z 0-9 . _ : -");
            }
            grant = Grant.prefix(prefix, arr);
        } else {
            if (!Fields.isValidId(scope)) {
                throw new IllegalArgumentException("SESSION '" + scope
                        + "' must be 1-128 characters of A-Z a-z 0-9 . _ : - " + "(end it with * for a prefix)");
            }
            grant = Grant.session(scope, arr);
        }
        Instant nbf = expired ? now.minus(Duration.ofMinutes(10)) : now.plus(notBefore);
        Instant exp = expired ? now.minus(Duration.ofMinutes(5)) : nbf.plus(ttl);
        return new Request(subject, role, grant, nbf, exp);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }

    /** 90s, 15m, 12h, 7d, or ISO-8601 (PT30M). */
    static Duration duration(String option, String text) {
        try {
            if (text.matches("\\d+[smhd]")) {
                long n = Long.parseLong(text.substring(0, text.length() - 1));
                return switch (text.charAt(text.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(text);
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(
                    option + " '" + text + "' is not a duration like 90s, 15m, 12h, 7d or PT30M");
        }
    }

    private static Duration positive(String option, Duration d) {
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(option + " must be positive");
        return d;
    }
}
