package io.durablesessions.cli;

/** Ends a command with a one-line message on stderr and one of {@link ExitCodes}. */
public final class CliException extends RuntimeException {
    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
