package io.durablesessions.cli;

/**
 * The exit codes of {@code ds}, for scripts. {@code ds --help} lists them (the root command's
 * {@code exitCodeList}), and so does README.md ("Looking into a session: the ds CLI").
 */
public final class ExitCodes {
    /** Done; doctor's verdict is PASS. */
    public static final int OK = 0;
    /**
     * Failed: doctor's verdict is FAIL, the service answered an error not named below, a read or write
     * broke off, a delete was not confirmed.
     */
    public static final int FAILED = 1;
    /** Usage: an unknown option, a missing or malformed argument, a tail {@code --after} beyond the session's head. */
    public static final int USAGE = 2;
    /** The service refused the token: 401/403 (expired, revoked, wrong issuer, or no grant for the session). */
    public static final int AUTH = 3;
    /** Not found: no such session (never written, or erased), or no such run. */
    public static final int NOT_FOUND = 4;
    /** Unreachable: nothing answered at the URL (connection refused, unknown host, timeout, TLS failure). */
    public static final int UNREACHABLE = 5;

    private ExitCodes() {}
}
