package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.durablesessions.events.SessionState.AgentView;
import io.durablesessions.events.SessionState.Custom;
import io.durablesessions.events.SessionState.Item;
import io.durablesessions.events.SessionState.Message;
import io.durablesessions.events.SessionState.RunView;
import io.durablesessions.events.SessionState.ToolCall;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Folds events into a {@link SessionState}. Each entity (message, tool call, custom item, run,
 * agent) remembers the last seq applied to it and ignores any event at or below it, so applying
 * an overlapping range twice changes nothing: hydration may combine a stored checkpoint with a
 * log read that overlaps it.
 */
public final class Assembler {
    private long headSeq;
    private final Map<String, MessageB> messages = new HashMap<>();
    private final Map<String, ToolB> tools = new HashMap<>();
    private final Map<Long, Custom> customs = new HashMap<>();
    private final Map<String, RunB> runs = new HashMap<>();
    private final Map<String, AgentB> agents = new HashMap<>();
    private final Map<String, MemberB> members = new HashMap<>();

    public static Assembler empty() {
        return new Assembler();
    }

    public static Assembler from(SessionState state) {
        Assembler a = new Assembler();
        a.headSeq = state.headSeq();
        for (Item item : state.items()) {
            switch (item) {
                case Message m -> {
                    MessageB b = new MessageB(m.messageId(), m.agentId(), m.runId(), m.firstSeq());
                    b.role = m.role();
                    b.text.append(m.text());
                    b.status = m.status();
                    b.lastSeq = m.lastSeq();
                    a.messages.put(m.messageId(), b);
                }
                case ToolCall t -> {
                    ToolB b = new ToolB(t.toolCallId(), t.agentId(), t.runId(), t.firstSeq());
                    b.name = t.name();
                    b.arguments = t.arguments();
                    b.result = t.result();
                    b.isError = t.isError();
                    b.status = t.status();
                    b.lastSeq = t.lastSeq();
                    a.tools.put(t.toolCallId(), b);
                }
                case Custom c -> a.customs.put(c.firstSeq(), c);
            }
        }
        for (RunView r : state.runs()) {
            RunB b = new RunB(r.runId(), r.agentId(), r.parentRunId(), r.startedSeq());
            b.state = r.state();
            b.lastSeq = r.lastSeq();
            b.stoppedAtSeq = r.stoppedAtSeq();
            a.runs.put(r.runId(), b);
        }
        for (SessionState.PresenceView p : state.presence()) {
            MemberB m = new MemberB(p);
            m.lastSeq = p.joinedSeq();
            a.members.put(p.memberId(), m);
        }
        for (AgentView v : state.agents()) {
            AgentB b = new AgentB(v.agentId(), v.firstSeq());
            b.label = v.label();
            b.present = v.present();
            b.lastSeq = v.lastSeq();
            a.agents.put(v.agentId(), b);
        }
        return a;
    }

    public static SessionState fold(Iterable<Event> events) {
        Assembler a = new Assembler();
        for (Event e : events) a.apply(e);
        return a.state();
    }

    public long headSeq() {
        return headSeq;
    }

    public Assembler apply(Event e) {
        headSeq = Math.max(headSeq, e.seq());
        switch (e.type()) {
            case MESSAGE_START -> message(e).ifFresh(e, m -> m.role = e.dataText("role"));
            case TEXT_DELTA -> message(e).ifFresh(e, m -> m.text.append(e.dataText("text")));
            case MESSAGE_END -> message(e).ifFresh(e, m -> m.status = e.dataText("reason") == null
                    ? "complete" : e.dataText("reason"));
            case TOOL_CALL -> tool(e).ifFresh(e, t -> {
                t.name = e.dataText("name");
                t.arguments = orNull(e.data().get("arguments"));
            });
            case TOOL_RESULT -> tool(e).ifFresh(e, t -> {
                t.result = orNull(e.data().get("result"));
                t.isError = e.data().path("isError").asBoolean(false);
                t.status = "done";
            });
            case CUSTOM -> customs.putIfAbsent(e.seq(), new Custom(e.dataText("name"),
                    orNull(e.data().get("payload")), e.agentId(), e.runId(), e.seq()));
            case RUN_INTERRUPTED -> {
                MessageB m = e.dataText("messageId") == null ? null : messages.get(e.dataText("messageId"));
                if (m != null && e.seq() > m.lastSeq && "streaming".equals(m.status)) {
                    m.status = "interrupted";
                    m.lastSeq = e.seq();
                }
            }
            case PRESENCE_JOINED -> {
                String id = e.dataText("memberId");
                MemberB m = members.get(id);
                if (m == null || e.seq() > m.lastSeq) {
                    members.put(id, new MemberB(new SessionState.PresenceView(id, e.dataText("principal"),
                            e.dataText("role"), e.dataText("label"), e.dataText("surface"), e.seq())));
                    members.get(id).lastSeq = e.seq();
                }
            }
            case PRESENCE_LEFT -> {
                MemberB m = members.get(e.dataText("memberId"));
                if (m != null && e.seq() > m.lastSeq) {
                    m.present = false;
                    m.lastSeq = e.seq();
                }
            }
            case AGENT_JOINED, AGENT_LEFT -> {
                AgentB a = agents.computeIfAbsent(e.agentId(), id -> new AgentB(id, e.seq()));
                if (e.seq() > a.lastSeq) {
                    a.present = e.type() == EventType.AGENT_JOINED;
                    if (a.present && e.dataText("label") != null) a.label = e.dataText("label");
                    a.lastSeq = e.seq();
                }
            }
            default -> { }
        }
        if (e.runId() != null) applyToRun(e);
        return this;
    }

    private void applyToRun(Event e) {
        RunB r = runs.get(e.runId());
        if (r == null) {
            if (e.type() != EventType.RUN_STARTED) return; // the store never lets such an event in
            r = new RunB(e.runId(), e.agentId(), e.dataText("parentRunId"), e.seq());
            r.state = RunState.RUNNING;
            r.lastSeq = e.seq();
            runs.put(r.runId, r);
            agents.computeIfAbsent(e.agentId(), id -> new AgentB(id, e.seq()));
            return;
        }
        if (e.seq() <= r.lastSeq) return;
        r.lastSeq = e.seq();
        if (e.type().isRunTransition()) {
            RunState next = RunStateMachine.next(r.state, e.type()).orElse(r.state);
            if (r.state == RunState.RUNNING && next.fenced()) {
                // as the store records it: a stop names the run's last seq, an end is its own last seq
                r.stoppedAtSeq = e.data().hasNonNull("stoppedAtSeq") ? e.data().get("stoppedAtSeq").asLong() : e.seq();
            }
            r.state = next;
        }
    }

    public SessionState state() {
        List<Item> items = new ArrayList<>(messages.size() + tools.size() + customs.size());
        for (MessageB m : messages.values()) {
            items.add(new Message(m.messageId, m.role, m.agentId, m.runId, m.text.toString(), displayStatus(m),
                    m.firstSeq, m.lastSeq));
        }
        for (ToolB t : tools.values()) {
            items.add(new ToolCall(t.toolCallId, t.name, t.arguments, t.result, t.isError, t.status, t.agentId,
                    t.runId, t.firstSeq, t.lastSeq));
        }
        items.addAll(customs.values());
        items.sort(Comparator.comparingLong(Item::firstSeq));
        List<RunView> rs = runs.values().stream().sorted(Comparator.comparingLong((RunB r) -> r.startedSeq))
                .map(r -> new RunView(r.runId, r.agentId, r.parentRunId, r.state, r.startedSeq, r.lastSeq,
                        r.stoppedAtSeq)).toList();
        List<AgentView> as = agents.values().stream().sorted(Comparator.comparingLong((AgentB a) -> a.firstSeq))
                .map(a -> new AgentView(a.agentId, a.label, a.present, a.firstSeq, a.lastSeq)).toList();
        List<SessionState.PresenceView> ps = members.values().stream().filter(m -> m.present).map(m -> m.view)
                .sorted(Comparator.comparingLong(SessionState.PresenceView::joinedSeq)).toList();
        return new SessionState(headSeq, items, rs, as, ps);
    }

    /** A reply whose run was fenced without a message.end must not look "streaming" forever. */
    private String displayStatus(MessageB m) {
        if (!"streaming".equals(m.status) || m.runId == null) return m.status;
        RunB r = runs.get(m.runId);
        if (r == null || !r.state.fenced()) return m.status;
        return switch (r.state) {
            case FAILED -> "error";
            case COMPLETED -> "complete";
            default -> "interrupted";
        };
    }

    private MessageB message(Event e) {
        return messages.computeIfAbsent(e.dataText("messageId"), id -> {
            MessageB m = new MessageB(id, e.agentId(), e.runId(), e.seq());
            m.role = "assistant";
            return m;
        });
    }

    private ToolB tool(Event e) {
        return tools.computeIfAbsent(e.dataText("toolCallId"), id -> new ToolB(id, e.agentId(), e.runId(), e.seq()));
    }

    private static JsonNode orNull(JsonNode n) {
        return n == null ? NullNode.getInstance() : n;
    }

    /** Common "apply once" rule of every entity. */
    private abstract static class Entity<T extends Entity<T>> {
        long lastSeq;

        @SuppressWarnings("unchecked")
        void ifFresh(Event e, java.util.function.Consumer<T> change) {
            if (e.seq() <= lastSeq) return;
            change.accept((T) this);
            lastSeq = e.seq();
        }
    }

    private static final class MessageB extends Entity<MessageB> {
        final String messageId, agentId, runId;
        final long firstSeq;
        final StringBuilder text = new StringBuilder();
        String role;
        String status = "streaming";

        MessageB(String messageId, String agentId, String runId, long firstSeq) {
            this.messageId = messageId;
            this.agentId = agentId;
            this.runId = runId;
            this.firstSeq = firstSeq;
        }
    }

    private static final class ToolB extends Entity<ToolB> {
        final String toolCallId, agentId, runId;
        final long firstSeq;
        String name = "";
        JsonNode arguments = NullNode.getInstance();
        JsonNode result = NullNode.getInstance();
        boolean isError;
        String status = "pending";

        ToolB(String toolCallId, String agentId, String runId, long firstSeq) {
            this.toolCallId = toolCallId;
            this.agentId = agentId;
            this.runId = runId;
            this.firstSeq = firstSeq;
        }
    }

    private static final class RunB {
        final String runId, agentId, parentRunId;
        final long startedSeq;
        RunState state;
        long lastSeq;
        Long stoppedAtSeq;

        RunB(String runId, String agentId, String parentRunId, long startedSeq) {
            this.runId = runId;
            this.agentId = agentId;
            this.parentRunId = parentRunId;
            this.startedSeq = startedSeq;
        }
    }

    private static final class MemberB {
        final SessionState.PresenceView view;
        boolean present = true;
        long lastSeq;

        MemberB(SessionState.PresenceView view) {
            this.view = view;
        }
    }

    private static final class AgentB {
        final String agentId;
        final long firstSeq;
        String label;
        boolean present = true;
        long lastSeq;

        AgentB(String agentId, long firstSeq) {
            this.agentId = agentId;
            this.firstSeq = firstSeq;
        }
    }
}
