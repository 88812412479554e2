package io.durablesessions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Json;
import java.io.PrintWriter;
import java.time.Instant;

/**
 * A session for people: what {@code GET /v1/sessions/{id}} says of it (owner, title, times), then
 * the assembled state of docs/protocol.md §8 — runs, agents, presence, and the conversation with
 * each message's full text, tool calls and custom items in log order.
 */
final class SnapshotText {
    private SnapshotText() {}

    /** @param session the session's description, or null (a hydrate has none) */
    static void print(PrintWriter out, JsonNode session, JsonNode state) {
        if (session != null) {
            out.println("session   " + session.path("sessionId").asText());
            if (session.hasNonNull("title"))
                out.println("title     " + session.path("title").asText());
            if (session.hasNonNull("owner"))
                out.println("owner     " + session.path("owner").asText());
            if (session.path("createdAt").canConvertToLong()) {
                out.println("created   "
                        + Instant.ofEpochMilli(session.path("createdAt").asLong()));
            }
            if (session.path("expiresAt").canConvertToLong()) {
                out.println("expires   "
                        + Instant.ofEpochSecond(session.path("expiresAt").asLong()));
            }
            if (session.path("metadata").isObject() && !session.path("metadata").isEmpty()) {
                out.println("metadata  " + EventLines.json(session.path("metadata")));
            }
            out.println("presence  " + session.path("presence").path("count").asInt() + " connected");
        }
        out.println("head seq  " + state.path("headSeq").asLong());

        JsonNode runs = state.path("runs");
        if (!runs.isEmpty()) {
            out.println();
            out.println("runs");
            for (JsonNode r : runs) {
                String stopped = r.hasNonNull("stoppedAtSeq")
                        ? ", stopped at seq " + r.path("stoppedAtSeq").asLong()
                        : "";
                String parent = r.hasNonNull("parentRunId")
                        ? ", under " + r.path("parentRunId").asText()
                        : "";
                out.printf(
                        "  %-20s %-14s by %s, seq %d-%d%s%s%n",
                        r.path("runId").asText(),
                        r.path("state").asText(),
                        r.path("agentId").asText(),
                        r.path("startedSeq").asLong(),
                        r.path("lastSeq").asLong(),
                        stopped,
                        parent);
            }
        }
        JsonNode agents = state.path("agents");
        if (!agents.isEmpty()) {
            out.println();
            out.println("agents");
            for (JsonNode a : agents) {
                out.printf(
                        "  %-20s %s%s%n",
                        a.path("agentId").asText(),
                        a.path("present").asBoolean() ? "present" : "left",
                        a.hasNonNull("label")
                                ? "  " + Json.quote(a.path("label").asText())
                                : "");
            }
        }
        JsonNode presence = state.path("presence");
        if (!presence.isEmpty()) {
            out.println();
            out.println("presence");
            for (JsonNode p : presence) {
                out.printf(
                        "  %-32s %-7s%s%s%n",
                        p.path("memberId").asText(),
                        p.path("role").asText(),
                        p.hasNonNull("label") ? " " + Json.quote(p.path("label").asText()) : "",
                        p.hasNonNull("surface") ? " on " + p.path("surface").asText() : "");
            }
        }
        JsonNode items = state.path("items");
        out.println();
        out.println("conversation (" + items.size() + " item" + (items.size() == 1 ? "" : "s") + ")");
        for (JsonNode i : items) {
            switch (i.path("kind").asText()) {
                case "message" -> {
                    String run = i.hasNonNull("runId") ? " " + i.path("runId").asText() : "";
                    out.printf(
                            "  [%s %s%s, %s, seq %d-%d]%n",
                            i.path("role").asText(),
                            i.path("agentId").asText(),
                            run,
                            i.path("status").asText(),
                            i.path("firstSeq").asLong(),
                            i.path("lastSeq").asLong());
                    if (i.hasNonNull("reasoning")
                            && !i.path("reasoning").asText().isEmpty()) {
                        indent(out, "(reasoning) " + i.path("reasoning").asText());
                    }
                    indent(out, i.path("text").asText(""));
                }
                case "tool_call" -> {
                    out.printf(
                            "  [tool %s %s, %s, by %s, seq %d-%d]%n",
                            i.path("toolCallId").asText(),
                            i.path("name").asText(),
                            i.path("status").asText(),
                            i.path("agentId").asText(),
                            i.path("firstSeq").asLong(),
                            i.path("lastSeq").asLong());
                    if (i.has("arguments") && !i.path("arguments").isNull())
                        indent(out, "arguments " + EventLines.json(i.get("arguments")));
                    if (i.hasNonNull("inputText"))
                        indent(
                                out,
                                "input so far "
                                        + EventLines.quote(i.path("inputText").asText()));
                    if (i.has("result") && !i.path("result").isNull()) {
                        indent(
                                out,
                                (i.path("isError").asBoolean() ? "error " : "result ")
                                        + EventLines.json(i.get("result")));
                    }
                }
                case "custom" ->
                    out.printf(
                            "  [custom %s by %s, seq %d]%s%n",
                            i.path("name").asText(),
                            i.path("agentId").asText(),
                            i.path("firstSeq").asLong(),
                            i.has("payload") ? " " + EventLines.json(i.get("payload")) : "");
                default -> out.println("  " + EventLines.json(i));
            }
        }
    }

    private static void indent(PrintWriter out, String text) {
        for (String line : text.split("\n", -1)) out.println("    " + line);
    }
}
