package io.durablesessions.functions.auth;

import java.util.Locale;

/** What a grant allows on a session (docs/security.md). */
public enum Capability {
    /** subscribe, hydrate, read history */
    READ,
    /** append user input (messages, custom events) */
    APPEND,
    /** cancel, interrupt, steer runs */
    CONTROL,
    /** write as an agent: runs, tool calls, agent events, heartbeats */
    AGENT,
    /**
     * act for others: create sessions owned by someone else and list another owner's sessions
     * (on the sessions it covers); with an {@code all} grant, revoke tokens
     */
    ADMIN;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Capability fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
