package io.durablesessions.events;

import java.util.Locale;

/** States of a run (docs/protocol.md §6). Every state but {@code RUNNING} is fenced. */
public enum RunState {
    RUNNING,
    STOP_REQUESTED,
    STOPPED,
    COMPLETED,
    FAILED;

    public boolean fenced() {
        return this != RUNNING;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static RunState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
