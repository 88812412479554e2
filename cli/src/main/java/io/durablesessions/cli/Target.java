package io.durablesessions.cli;

import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a command goes and with which token: the global options, else the environment
 * ({@code DS_WS_URL}, {@code DS_HTTP_URL}, {@code DS_TOKEN}), else the local stack on
 * {@code DS_LOCAL_PORT} or 8787. A token is given ({@code --token}, {@code DS_TOKEN}) or minted:
 * with {@code --hs256-secret}/{@code --issuer}, or — only when both URLs are on loopback — with the
 * local stack's development secret. A minted token carries just the rights its command needs.
 */
public final class Target {
    /** The local stack's port unless {@code DS_LOCAL_PORT} says otherwise (local/…/LocalStackMain). */
    static final int LOCAL_PORT = 8787;

    static final String DEFAULT_SUBJECT = "ds-cli";
    static final Duration MINTED_TTL = Duration.ofHours(1);

    /** What a command does with the session, hence the grant a minted token gets (on every session). */
    public enum Access {
        /** tail, get, events, export, replay: a viewer */
        READ("viewer", Capability.READ),
        /** delete: a client with append and control */
        WRITE("client", Capability.READ, Capability.APPEND, Capability.CONTROL),
        /** revoke: an operator */
        ADMIN("client", Capability.READ, Capability.APPEND, Capability.CONTROL, Capability.ADMIN);

        final String role;
        final Capability[] caps;

        Access(String role, Capability... caps) {
            this.role = role;
            this.caps = caps;
        }
    }

    private final URI ws;
    private final URI http;
    private final String token;
    private final AuthConfig minter;
    private final String subject;
    private final Map<Access, String> minted = new EnumMap<>(Access.class);

    private Target(URI ws, URI http, String token, AuthConfig minter, String subject) {
        this.ws = ws;
        this.http = http;
        this.token = token;
        this.minter = minter;
        this.subject = subject;
    }

    /**
     * Resolves the global options (null: not given) against the environment.
     *
     * @throws CliException (usage) for a malformed URL or incomplete token options
     */
    static Target resolve(
            String ws,
            String http,
            String token,
            String secret,
            String issuer,
            String audience,
            String subject,
            Map<String, String> env) {
        String port = env.getOrDefault("DS_LOCAL_PORT", Integer.toString(LOCAL_PORT));
        URI wsUrl =
                url(first(ws, env.get("DS_WS_URL"), "ws://127.0.0.1:" + port + "/local"), "--ws", Set.of("ws", "wss"));
        URI httpUrl =
                url(first(http, env.get("DS_HTTP_URL"), "http://127.0.0.1:" + port), "--http", Set.of("http", "https"));
        String s = httpUrl.toString();
        if (s.endsWith("/")) httpUrl = URI.create(s.substring(0, s.length() - 1));
        String sub = subject == null ? DEFAULT_SUBJECT : subject;
        if (!sub.matches("[A-Za-z0-9._:-]{1,128}")) {
            throw new CliException(ExitCodes.USAGE, "--token-subject must be 1-128 characters of A-Z a-z 0-9 . _ : -");
        }
        if (token != null && secret != null)
            throw new CliException(ExitCodes.USAGE, "give --token or --hs256-secret, not both");
        if (token != null) return new Target(wsUrl, httpUrl, token.strip(), null, sub);
        if (secret != null) {
            if (issuer == null)
                throw new CliException(ExitCodes.USAGE, "--hs256-secret needs --issuer (the deployment's JWT_ISSUER)");
            return new Target(wsUrl, httpUrl, null, minter(secret, issuer, audience), sub);
        }
        String envToken = env.get("DS_TOKEN");
        if (envToken != null && !envToken.isBlank()) return new Target(wsUrl, httpUrl, envToken.strip(), null, sub);
        if (isLoopback(wsUrl) && isLoopback(httpUrl))
            return new Target(wsUrl, httpUrl, null, AuthConfig.localDevelopment(), sub);
        return new Target(wsUrl, httpUrl, null, null, sub);
    }

    private static AuthConfig minter(String secret, String issuer, String audience) {
        try {
            return new AuthConfig(
                    issuer,
                    audience == null ? AuthConfig.DEFAULT_AUDIENCE : audience,
                    secret.getBytes(StandardCharsets.UTF_8),
                    null,
                    null);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, "--hs256-secret: " + e.getMessage());
        }
    }

    public URI webSocketUrl() {
        return ws;
    }

    /** The HTTP API's base URL, without a trailing slash. */
    public URI httpUrl() {
        return http;
    }

    /** True when the token is minted with the local stack's development secret (no token given, loopback URLs). */
    public boolean usesLocalDevelopmentSecret() {
        return token == null
                && minter != null
                && minter.issuer().equals(AuthConfig.LOCAL_ISSUER)
                && Arrays.equals(minter.hs256Secret(), AuthConfig.LOCAL_DEV_SECRET.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The token for a command that needs {@code access}: the one given, or one minted for it (cached).
     *
     * @throws CliException (usage) when there is none to give
     */
    public synchronized String token(Access access) {
        if (token != null) return token;
        if (minter == null) {
            throw new CliException(
                    ExitCodes.USAGE,
                    "no token for " + http.getHost() + ": give --token (or set DS_TOKEN), "
                            + "or --hs256-secret with --issuer for a development stage");
        }
        return minted.computeIfAbsent(
                access, a -> DevTokens.mint(minter, subject, a.role, List.of(Grant.all(a.caps)), MINTED_TTL));
    }

    /**
     * The token for one more connection: the one given, or a freshly minted one, so that a tail
     * running for longer than a minted token lives still reconnects.
     */
    public String connectToken(Access access) {
        if (token != null || minter == null) return token(access);
        return DevTokens.mint(minter, subject, access.role, List.of(Grant.all(access.caps)), MINTED_TTL);
    }

    private static String first(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return v.strip();
        throw new IllegalStateException("no value");
    }

    static URI url(String s, String option, Set<String> schemes) {
        try {
            URI u = new URI(s);
            if (u.getScheme() == null || !schemes.contains(u.getScheme()) || u.getHost() == null) {
                throw new CliException(
                        ExitCodes.USAGE,
                        option + " must be a "
                                + String.join(" or ", schemes.stream().sorted().toList()) + " URL, not '" + s + "'");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new CliException(ExitCodes.USAGE, option + " is not a URL: " + s);
        }
    }

    /** 127.0.0.0/8, ::1 or localhost: the local stack, whose development secret is public anyway. */
    public static boolean isLoopback(URI u) {
        String host = u.getHost();
        if (host.equals("localhost")) return true;
        if (!host.matches("[0-9.]+|\\[[0-9a-fA-F:]+]")) return false; // a name: no lookup, never assumed local
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
