package io.durablesessions.functions.store;

/** An event as stored: its seq and the exact JSON text every reader receives. */
public record StoredEvent(long seq, String json) {}
