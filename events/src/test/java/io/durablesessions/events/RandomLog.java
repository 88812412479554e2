package io.durablesessions.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Generates valid session logs (the kind the store admits) from a seed: tests' raw material. */
final class RandomLog {
    private RandomLog() {}

    static List<Event> generate(long seed, int length) {
        Random rnd = new Random(seed);
        List<Event> log = new ArrayList<>();
        Map<String, RunState> runs = new HashMap<>();
        Map<String, String> runAgent = new HashMap<>();
        List<String> openMessages = new ArrayList<>();
        Map<String, String> messageRun = new HashMap<>();
        List<String> openTools = new ArrayList<>();
        String[] agents = {"agent-a", "agent-b", "user-1"};
        int ids = 0;
        while (log.size() < length) {
            long seq = log.size() + 1;
            String agent = agents[rnd.nextInt(agents.length)];
            int pick = rnd.nextInt(12);
            List<String> running = runs.entrySet().stream().filter(e -> e.getValue() == RunState.RUNNING)
                    .map(Map.Entry::getKey).sorted().toList();
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
                if (type == EventType.RUN_STOP_REQUESTED) data.put("command", "cancel").put("by", "user-1").put("stoppedAtSeq", seq - 1);
                if (type == EventType.RUN_FAILED) data.put("reason", "boom");
                runs.put(run, RunStateMachine.next(RunState.RUNNING, type).orElseThrow());
            } else if (pick == 2 && runs.containsValue(RunState.STOP_REQUESTED)) {
                run = runs.entrySet().stream().filter(e -> e.getValue() == RunState.STOP_REQUESTED)
                        .map(Map.Entry::getKey).sorted().findFirst().orElseThrow();
                agent = runAgent.get(run);
                type = rnd.nextBoolean() ? EventType.RUN_STOP_ACKNOWLEDGED : EventType.RUN_STOPPED;
                runs.put(run, RunState.STOPPED);
            } else if (pick <= 4) {
                String m = "m-" + (++ids);
                type = EventType.MESSAGE_START;
                data.put("messageId", m).put("role", run == null ? "user" : "assistant");
                openMessages.add(m);
                messageRun.put(m, run);
            } else if (pick <= 7 && !openMessages.isEmpty()) {
                String m = openMessages.get(rnd.nextInt(openMessages.size()));
                run = messageRun.get(m);
                if (run != null && runs.get(run) != RunState.RUNNING) { openMessages.remove(m); continue; }
                if (run != null) agent = runAgent.get(run);
                if (rnd.nextInt(5) == 0) {
                    type = EventType.MESSAGE_END;
                    data.put("messageId", m);
                    openMessages.remove(m);
                } else {
                    type = EventType.TEXT_DELTA;
                    data.put("messageId", m).put("text", "t" + rnd.nextInt(1000) + (rnd.nextBoolean() ? " 😀" : " "));
                }
            } else if (pick == 8) {
                String t = "tool-" + (++ids);
                type = EventType.TOOL_CALL;
                data.put("toolCallId", t).put("name", "search").putObject("arguments").put("q", rnd.nextInt());
                openTools.add(t);
            } else if (pick == 9 && !openTools.isEmpty()) {
                type = EventType.TOOL_RESULT;
                data.put("toolCallId", openTools.remove(0)).put("result", "ok");
            } else if (pick == 10) {
                type = rnd.nextBoolean() ? EventType.AGENT_JOINED : EventType.AGENT_LEFT;
                if (type == EventType.AGENT_JOINED) data.put("label", "label-" + rnd.nextInt(3));
                run = null;
            } else {
                type = EventType.CUSTOM;
                data.put("name", "note").putArray("payload").add(rnd.nextInt(10));
            }
            // round-trip through text so the data looks exactly like stored data
            log.add(Event.fromJson(new Event(seq, "s-1", type, agent, run, 1_000 + seq, data).toJson()));
        }
        return log;
    }
}
