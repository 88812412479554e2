package io.durablesessions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * One line per event for people: seq, time, type, writer, run, and what the event says, e.g.
 * {@code #12  12:00:01.234  text.delta         agent-1  run-1  m-1 "Hello"}. Works on the event as
 * stored (a JSON object), so a type this build does not know still prints, with its data.
 */
public final class EventLines {
    /** Longer texts and JSON values are cut to this many characters, with an ellipsis. */
    static final int MAX_TEXT = 240;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final ZoneId zone;

    public EventLines(ZoneId zone) {
        this.zone = zone;
    }

    public String line(ObjectNode e) {
        String type = e.path("type").asText("?");
        String run = e.hasNonNull("runId") ? e.path("runId").asText() : "-";
        String time = e.path("ts").canConvertToLong()
                ? TIME.format(Instant.ofEpochMilli(e.path("ts").asLong()).atZone(zone))
                : "--:--:--.---";
        String what = describe(type, e.path("data") instanceof ObjectNode d ? d : Json.object());
        return String.format(
                        "#%-6d %s  %-21s %-14s %-10s %s",
                        e.path("seq").asLong(), time, type, e.path("agentId").asText("?"), run, what)
                .stripTrailing();
    }

    /** What the event's data says, in a few words. */
    static String describe(String type, ObjectNode d) {
        return switch (type) {
            case "message.start" -> s(d, "messageId") + " " + s(d, "role");
            case "text.delta", "reasoning.delta" ->
                s(d, "messageId") + " " + quote(d.path("text").asText(""));
            case "message.end" -> s(d, "messageId") + (d.has("reason") ? " " + s(d, "reason") : "");
            case "tool.input.start" -> s(d, "toolCallId") + " " + s(d, "name") + " in " + s(d, "messageId");
            case "tool.input.delta" ->
                s(d, "toolCallId") + " " + quote(d.path("text").asText(""));
            case "tool.call" ->
                s(d, "toolCallId") + " " + s(d, "name") + (d.has("arguments") ? " " + json(d.get("arguments")) : "");
            case "tool.result" ->
                s(d, "toolCallId")
                        + (d.path("isError").asBoolean(false) ? " error" : "")
                        + (d.has("result") ? " " + json(d.get("result")) : "");
            case "message.part" ->
                s(d, "messageId") + " " + d.path("part").path("type").asText("?") + " " + json(d.path("part"));
            case "run.started" -> d.hasNonNull("parentRunId") ? "parent " + s(d, "parentRunId") : "";
            case "run.completed", "run.stop_acknowledged", "agent.left" -> "";
            case "run.failed" -> d.has("reason") ? quote(d.path("reason").asText()) : "";
            case "run.stop_requested" ->
                "by " + s(d, "by") + ", stopped at seq " + s(d, "stoppedAtSeq")
                        + (d.has("reason") ? " " + quote(d.path("reason").asText()) : "");
            case "run.stopped" -> "at seq " + s(d, "stoppedAtSeq") + " (" + s(d, "reason") + ")";
            case "run.interrupted" -> "by " + s(d, "by") + (d.has("messageId") ? ", " + s(d, "messageId") : "");
            case "run.steered" ->
                "by " + s(d, "by") + " " + quote(d.path("text").asText(""));
            case "agent.joined" -> d.has("label") ? quote(d.path("label").asText()) : "";
            case "presence.joined" ->
                s(d, "memberId") + " " + s(d, "role")
                        + (d.hasNonNull("label") ? " " + quote(d.path("label").asText()) : "")
                        + (d.hasNonNull("surface") ? " on " + s(d, "surface") : "");
            case "presence.left" -> s(d, "memberId");
            case "custom" -> s(d, "name") + (d.has("payload") ? " " + json(d.get("payload")) : "");
            default -> json(d);
        };
    }

    private static String s(ObjectNode d, String field) {
        JsonNode v = d.get(field);
        return v == null || v.isNull() ? "?" : v.asText();
    }

    /** A text as a JSON string (newlines and quotes escaped), cut to {@link #MAX_TEXT}. */
    static String quote(String text) {
        return cut(Json.quote(text));
    }

    static String json(JsonNode v) {
        return cut(Json.write(v));
    }

    private static String cut(String s) {
        return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "…";
    }
}
