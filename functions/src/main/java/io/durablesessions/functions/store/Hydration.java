package io.durablesessions.functions.store;

import io.durablesessions.events.SessionState;

/** A hydrated snapshot and what it cost to read: stored items plus log events folded on top. */
public record Hydration(SessionState state, int itemsRead, int eventsRead) {}
