package io.durablesessions.cli;

import io.durablesessions.events.Fields;

/** Checks of the arguments that name sessions, before anything is sent. */
final class Sessions {
    private Sessions() {}

    /** The id as given, or a usage error: docs/protocol.md §9 (1–128 of A–Z a–z 0–9 . _ : -). */
    static String id(String s) {
        if (!Fields.isValidId(s)) {
            throw new CliException(
                    ExitCodes.USAGE,
                    "SESSION '" + s + "' is not a session id (1-128 characters of A-Z a-z 0-9 . _ : -)");
        }
        return s;
    }
}
