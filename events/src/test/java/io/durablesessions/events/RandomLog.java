package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates valid session logs (the kind the store admits) from a seed: tests' raw material, and
 * the logs of the shared fixtures ({@link FixturesTest}). Covers every event type: runs that end
 * every way, messages with text, reasoning, parts and streamed tool input, interrupted (fenced)
 * messages, old-style tool calls, presence, agents and custom events.
 */
final class RandomLog {
    private RandomLog() {}

    static List<Event> generate(long seed, int length) {
        Random rnd = new Random(seed);
        List<Event> log = new ArrayList<>();
        Map<String, RunState> runs = new HashMap<>();
        Map<String, String> runAgent = new HashMap<>();
        List<String> openMessages = new ArrayList<>();
        Map<String, String> messageRun = new HashMap<>();
        Map<String, String> owner = new HashMap<>(); // the first writer of a message or tool call
        List<Event> pending = new ArrayList<>(); // a service event that follows the one generated
        List<String> openTools = new ArrayList<>();
        Map<String, String> streamingTools = new LinkedHashMap<>(); // toolCallId -> messageId
        List<String> members = new ArrayList<>();
        String[] agents = {"agent-a", "agent-b", "user-1"};
        int ids = 0;
        while (log.size() < length) {
            long seq = log.size() + 1;
            String agent = agents[rnd.nextInt(agents.length)];
            int pick = rnd.nextInt(17);
            List<String> running = runs.entrySet().stream()
                    .filter(e -> e.getValue() == RunState.RUNNING)
                    .map(Map.Entry::getKey)
                    .sorted()
                    .toList();
            String run = running.isEmpty() || rnd.nextInt(4) == 0 ? null : running.get(rnd.nextInt(running.size()));
            if (run != null) agent = runAgent.get(run);
            ObjectNode data = Json.object();
            EventType type;
            if (pick == 0 || (pick == 1 && runs.size() < 2)) {
                run = "run-" + (++ids);
                type = EventType.RUN_STARTED;
                if (!running.isEmpty() && rnd.nextBoolean()) data.put("parentRunId", running.get(0));
                runs.put(run, RunState.RUNNING);
                runAgent.put(run, agent);
            } else if (pick == 1 && run != null) {
                type = switch (rnd.nextInt(3)) {
                    case 0 -> EventType.RUN_COMPLETED;
                    case 1 -> EventType.RUN_FAILED;
                    default -> EventType.RUN_STOP_REQUESTED;
                };
                if (type == EventType.RUN_STOP_REQUESTED)
                    data.put("command", "cancel").put("by", "user-1").put("stoppedAtSeq", seq - 1);
                if (type == EventType.RUN_FAILED) data.put("reason", "boom");
                runs.put(run, RunStateMachine.next(RunState.RUNNING, type).orElseThrow());
            } else if (pick == 2 && runs.containsValue(RunState.STOP_REQUESTED)) {
                run = runs.entrySet().stream()
                        .filter(e -> e.getValue() == RunState.STOP_REQUESTED)
                        .map(Map.Entry::getKey)
                        .sorted()
                        .findFirst()
                        .orElseThrow();
                agent = runAgent.get(run);
                type = rnd.nextBoolean() ? EventType.RUN_STOP_ACKNOWLEDGED : EventType.RUN_STOPPED;
                if (type == EventType.RUN_STOP_ACKNOWLEDGED) {
                    // the service records run.stopped in the same append as the acknowledgement
                    pending.add(new Event(
                            seq + 1,
                            "s-1",
                            EventType.RUN_STOPPED,
                            "service",
                            run,
                            1_001 + seq,
                            Json.object().put("stoppedAtSeq", seq - 1).put("reason", "acknowledged")));
                } else {
                    agent = "service";
                    data.put("stoppedAtSeq", seq - 1).put("reason", "stop not acknowledged");
                }
                runs.put(run, RunState.STOPPED);
            } else if (pick <= 4) {
                String m = "m-" + (++ids);
                type = EventType.MESSAGE_START;
                data.put("messageId", m).put("role", run == null ? "user" : "assistant");
                openMessages.add(m);
                messageRun.put(m, run);
                owner.put(m, agent);
            } else if (pick <= 7 && !openMessages.isEmpty()) {
                String m = openMessages.get(rnd.nextInt(openMessages.size()));
                run = messageRun.get(m);
                if (run != null && runs.get(run) != RunState.RUNNING) {
                    openMessages.remove(m);
                    continue;
                }
                agent = owner.get(m);
                if (rnd.nextInt(5) == 0) {
                    type = EventType.MESSAGE_END;
                    data.put("messageId", m);
                    if (rnd.nextInt(4) == 0) data.put("reason", rnd.nextBoolean() ? "error" : "interrupted");
                    openMessages.remove(m);
                } else {
                    type = EventType.TEXT_DELTA;
                    data.put("messageId", m).put("text", "t" + rnd.nextInt(1000) + (rnd.nextBoolean() ? " 😀" : " "));
                }
            } else if (pick == 8) {
                String t = "tool-" + (++ids);
                type = EventType.TOOL_CALL;
                data.put("toolCallId", t)
                        .put("name", "search")
                        .putObject("arguments")
                        .put("q", rnd.nextInt());
                openTools.add(t);
                owner.put(t, agent);
                messageRun.put(t, run);
            } else if (pick == 9 && !openTools.isEmpty()) {
                String t = openTools.remove(0);
                run = messageRun.get(t);
                if (run != null && runs.get(run) != RunState.RUNNING) continue;
                agent = owner.get(t);
                type = EventType.TOOL_RESULT;
                data.put("toolCallId", t).put("result", "ok");
                if (rnd.nextInt(4) == 0) data.put("isError", true);
            } else if (pick == 10) {
                type = rnd.nextBoolean() ? EventType.AGENT_JOINED : EventType.AGENT_LEFT;
                if (type == EventType.AGENT_JOINED) data.put("label", "label-" + rnd.nextInt(3));
                run = null;
            } else if (pick == 11) {
                type = EventType.CUSTOM;
                data.put("name", "note").putArray("payload").add(rnd.nextInt(10));
            } else if (pick == 12 && !openMessages.isEmpty()) {
                String m = openMessages.get(rnd.nextInt(openMessages.size()));
                run = messageRun.get(m);
                if (run != null && runs.get(run) != RunState.RUNNING) {
                    openMessages.remove(m);
                    continue;
                }
                agent = owner.get(m);
                data.put("messageId", m);
                if (rnd.nextBoolean()) {
                    type = EventType.REASONING_DELTA;
                    data.put("text", "r" + rnd.nextInt(100) + (rnd.nextBoolean() ? "é " : " "));
                } else {
                    type = EventType.MESSAGE_PART;
                    ObjectNode part = data.putObject("part");
                    switch (rnd.nextInt(5)) {
                        case 0 -> part.put("type", "step-start");
                        case 1 ->
                            part.put("type", "source-url")
                                    .put("sourceId", "src-" + rnd.nextInt(5))
                                    .put("url", "https://example.com/" + rnd.nextInt(100))
                                    .put("title", "Example");
                        case 2 ->
                            part.put("type", "file")
                                    .put("mediaType", "image/png")
                                    .put("url", "data:image/png;base64,iVBORw0KGgo=");
                        case 3 ->
                            part.put("type", "source-document")
                                    .put("sourceId", "doc-1")
                                    .put("mediaType", "application/pdf")
                                    .put("title", "A paper")
                                    .put("filename", "p.pdf");
                        default -> {
                            // the same id again replaces the earlier data part in place
                            part.put("type", "data-weather").put("id", "w-" + rnd.nextInt(2));
                            part.putObject("data")
                                    .put("temperature", rnd.nextInt(40))
                                    .put("unit", "C");
                        }
                    }
                }
            } else if (pick == 13 && !openMessages.isEmpty()) {
                String m = openMessages.get(rnd.nextInt(openMessages.size()));
                run = messageRun.get(m);
                if (run != null && runs.get(run) != RunState.RUNNING) {
                    openMessages.remove(m);
                    continue;
                }
                agent = owner.get(m);
                String t = "call-" + (++ids);
                type = EventType.TOOL_INPUT_START;
                data.put("toolCallId", t).put("messageId", m).put("name", rnd.nextBoolean() ? "weather" : "lookup");
                if (rnd.nextInt(4) == 0) data.put("dynamic", true);
                streamingTools.put(t, m);
                owner.put(t, agent);
                messageRun.put(t, run);
            } else if (pick == 14 && !streamingTools.isEmpty()) {
                String t = streamingTools.keySet().iterator().next();
                String m = streamingTools.get(t);
                run = messageRun.get(m);
                if (!openMessages.contains(m) || run != null && runs.get(run) != RunState.RUNNING) {
                    streamingTools.remove(t);
                    continue;
                }
                agent = owner.get(t);
                data.put("toolCallId", t).put("messageId", m);
                if (rnd.nextInt(3) == 0) {
                    type = EventType.TOOL_CALL;
                    data.put("name", "weather").putObject("arguments").put("city", "Paris");
                    streamingTools.remove(t);
                    openTools.add(t);
                } else {
                    type = EventType.TOOL_INPUT_DELTA;
                    data.put("text", rnd.nextBoolean() ? "{\"city\":" : "\"Par");
                }
            } else if (pick == 15 && !openMessages.isEmpty()) {
                // the service fences a reply in progress; its run goes on
                String m = openMessages.get(rnd.nextInt(openMessages.size()));
                run = messageRun.get(m);
                if (run == null || runs.get(run) != RunState.RUNNING) continue;
                agent = "service";
                type = EventType.RUN_INTERRUPTED;
                data.put("messageId", m);
                openMessages.remove(m);
            } else if (pick == 16) {
                run = null;
                agent = "service";
                if (!members.isEmpty() && rnd.nextBoolean()) {
                    type = EventType.PRESENCE_LEFT;
                    data.put("memberId", members.remove(rnd.nextInt(members.size())));
                } else {
                    String member = "user-1:tab-" + rnd.nextInt(4);
                    type = EventType.PRESENCE_JOINED;
                    data.put("memberId", member)
                            .put("principal", "user-1")
                            .put("role", "client")
                            .put("label", "Tab " + member.charAt(member.length() - 1))
                            .put("surface", "web");
                    if (!members.contains(member)) members.add(member);
                }
            } else {
                continue;
            }
            // round-trip through text so the data looks exactly like stored data
            log.add(Event.fromJson(new Event(seq, "s-1", type, agent, run, 1_000 + seq, data).toJson()));
            for (Event e : pending) log.add(Event.fromJson(e.toJson()));
            pending.clear();
        }
        return log;
    }
}
