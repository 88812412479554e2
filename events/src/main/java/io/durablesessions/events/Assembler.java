package io.durablesessions.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.function.Consumer;

/**
 * Folds events into a {@link SessionState}. Each entity (message, tool call, custom item, run,
 * agent) remembers the last seq applied to it and ignores any event at or below it, so applying
 * an overlapping range twice changes nothing: hydration may combine a stored checkpoint with a
 * log read that overlaps it.
 */
public final class Assembler {
    /** The writer id of what the service writes on its own (liveness, timeouts): no token may carry it. */
    public static final String SERVICE = "service";

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
            // if/else rather than a pattern switch: this module compiles with --release 17
            if (item instanceof Message m) {
                MessageB b = new MessageB(m.messageId(), m.agentId(), m.runId(), m.firstSeq());
                b.role = m.role();
                b.text.append(m.text());
                if (m.reasoning() != null) b.reasoning = new StringBuilder(m.reasoning());
                if (m.parts() != null) {
                    b.parts = new ArrayList<>();
                    m.parts().forEach(p -> b.parts.add((ObjectNode) p.deepCopy()));
                }
                b.status = m.status();
                b.lastSeq = m.lastSeq();
                a.messages.put(m.messageId(), b);
            } else if (item instanceof ToolCall t) {
                ToolB b = new ToolB(t.toolCallId(), t.agentId(), t.runId(), t.firstSeq());
                b.name = t.name();
                b.arguments = t.arguments();
                b.result = t.result();
                b.isError = t.isError();
                b.status = t.status();
                b.lastSeq = t.lastSeq();
                b.messageId = t.messageId();
                if (t.inputText() != null) b.inputText = new StringBuilder(t.inputText());
                b.dynamic = t.dynamic();
                a.tools.put(t.toolCallId(), b);
            } else if (item instanceof Custom c) {
                a.customs.put(c.firstSeq(), c);
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
            // role is fixed by the event that created the message (the store refuses a second start)
            case MESSAGE_START ->
                message(e).ifFresh(e, m -> {
                    if (m.firstSeq == e.seq()) m.role = e.dataText("role");
                });
            case TEXT_DELTA -> message(e).ifFresh(e, m -> m.appendText(e.dataText("text")));
            case MESSAGE_END ->
                message(e).ifFresh(e, m -> m.status = e.dataText("reason") == null ? "complete" : e.dataText("reason"));
            case REASONING_DELTA -> message(e).ifFresh(e, m -> m.appendReasoning(e.dataText("text")));
            case MESSAGE_PART -> message(e).ifFresh(e, m -> m.addPart(e.data().get("part")));
            case TOOL_INPUT_START -> {
                tool(e).ifFresh(e, t -> {
                    if (t.lastSeq == 0) t.status = "streaming";
                    if (t.name == null || t.name.isEmpty()) t.name = e.dataText("name");
                    if (e.data().path("dynamic").asBoolean(false)) t.dynamic = true;
                    if (t.inputText == null && "streaming".equals(t.status)) t.inputText = new StringBuilder();
                    if (t.messageId == null) t.messageId = e.dataText("messageId");
                });
                attachTool(e);
            }
            case TOOL_INPUT_DELTA -> {
                tool(e).ifFresh(e, t -> {
                    if (t.lastSeq == 0) t.status = "streaming";
                    if ("streaming".equals(t.status)) {
                        if (t.inputText == null) t.inputText = new StringBuilder();
                        t.inputText.append(e.dataText("text"));
                    }
                    if (t.messageId == null) t.messageId = e.dataText("messageId");
                });
                attachTool(e);
            }
            case TOOL_CALL -> {
                tool(e).ifFresh(e, t -> {
                    t.name = e.dataText("name");
                    t.arguments = orNull(e.data().get("arguments"));
                    // the input is complete: what streamed is now the arguments
                    if ("streaming".equals(t.status)) t.status = "pending";
                    t.inputText = null;
                    if (e.data().path("dynamic").asBoolean(false)) t.dynamic = true;
                    if (t.messageId == null) t.messageId = e.dataText("messageId");
                });
                attachTool(e);
            }
            case TOOL_RESULT -> {
                tool(e).ifFresh(e, t -> {
                    t.result = orNull(e.data().get("result"));
                    t.isError = e.data().path("isError").asBoolean(false);
                    t.status = "done";
                    t.inputText = null;
                    if (t.messageId == null) t.messageId = e.dataText("messageId");
                });
                attachTool(e);
            }
            case CUSTOM ->
                customs.putIfAbsent(
                        e.seq(),
                        new Custom(
                                e.dataText("name"), orNull(e.data().get("payload")), e.agentId(), e.runId(), e.seq()));
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
                    members.put(
                            id,
                            new MemberB(new SessionState.PresenceView(
                                    id,
                                    e.dataText("principal"),
                                    e.dataText("role"),
                                    e.dataText("label"),
                                    e.dataText("surface"),
                                    e.seq())));
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
            default -> {}
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
            if (!agents.containsKey(e.agentId())) {
                AgentB listed = new AgentB(e.agentId(), e.seq());
                listed.lastSeq = e.seq(); // the run start that listed it (docs/protocol.md §8)
                agents.put(e.agentId(), listed);
            }
            return;
        }
        if (e.seq() <= r.lastSeq) return;
        // only the run's agent writes into it; the service's own events (stop, steer, …) name who asked,
        // and the service itself fails a run that lost its heartbeat
        if (!e.type().serviceOnly() && !r.agentId.equals(e.agentId()) && !SERVICE.equals(e.agentId())) return;
        r.lastSeq = e.seq();
        if (e.type().isRunTransition()) {
            RunState next = RunStateMachine.next(r.state, e.type()).orElse(r.state);
            if (r.state == RunState.RUNNING && next.fenced()) {
                // as the store records it: a stop names the run's last seq (a service-only field), an end
                // is its own last seq; a writer's data never sets it
                r.stoppedAtSeq = e.type().serviceOnly() && e.data().hasNonNull("stoppedAtSeq")
                        ? e.data().get("stoppedAtSeq").asLong()
                        : e.seq();
            }
            r.state = next;
        }
    }

    public SessionState state() {
        List<Item> items = new ArrayList<>(messages.size() + tools.size() + customs.size());
        for (MessageB m : messages.values()) {
            ArrayNode parts = null;
            if (m.parts != null) {
                parts = Json.MAPPER.createArrayNode();
                for (ObjectNode p : m.parts) parts.add(p.deepCopy());
            }
            items.add(new Message(
                    m.messageId,
                    m.role,
                    m.agentId,
                    m.runId,
                    m.text.toString(),
                    displayStatus(m),
                    m.firstSeq,
                    m.lastSeq,
                    m.reasoning == null ? null : m.reasoning.toString(),
                    parts));
        }
        for (ToolB t : tools.values()) {
            items.add(new ToolCall(
                    t.toolCallId,
                    t.name,
                    t.arguments,
                    t.result,
                    t.isError,
                    t.status,
                    t.agentId,
                    t.runId,
                    t.firstSeq,
                    t.lastSeq,
                    t.messageId,
                    t.inputText == null ? null : t.inputText.toString(),
                    t.dynamic));
        }
        items.addAll(customs.values());
        items.sort(Comparator.comparingLong(Item::firstSeq));
        List<RunView> rs = runs.values().stream()
                .sorted(Comparator.comparingLong((RunB r) -> r.startedSeq))
                .map(r -> new RunView(
                        r.runId, r.agentId, r.parentRunId, r.state, r.startedSeq, r.lastSeq, r.stoppedAtSeq))
                .toList();
        List<AgentView> as = agents.values().stream()
                .sorted(Comparator.comparingLong((AgentB a) -> a.firstSeq))
                .map(a -> new AgentView(a.agentId, a.label, a.present, a.firstSeq, a.lastSeq))
                .toList();
        List<SessionState.PresenceView> ps = members.values().stream()
                .filter(m -> m.present)
                .map(m -> m.view)
                .sorted(Comparator.comparingLong(SessionState.PresenceView::joinedSeq))
                .toList();
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

    /**
     * The message an event names, created by its first event. An event of another writer (or of
     * another run) for it is ignored: the store refuses those (NOT_OWNER), and the fold agrees.
     */
    private Entity<MessageB> message(Event e) {
        MessageB m = messages.computeIfAbsent(e.dataText("messageId"), id -> {
            MessageB b = new MessageB(id, e.agentId(), e.runId(), e.seq());
            b.role = "assistant";
            return b;
        });
        return owns(m.agentId, m.runId, e) ? m : Entity.ignored();
    }

    private Entity<ToolB> tool(Event e) {
        ToolB t = tools.computeIfAbsent(e.dataText("toolCallId"), id -> new ToolB(id, e.agentId(), e.runId(), e.seq()));
        return owns(t.agentId, t.runId, e) ? t : Entity.ignored();
    }

    private static boolean owns(String agentId, String runId, Event e) {
        return agentId.equals(e.agentId()) && (runId == null ? e.runId() == null : runId.equals(e.runId()));
    }

    /** A tool event that names its message puts the tool call among that message's parts (once). */
    private void attachTool(Event e) {
        if (e.dataText("messageId") == null) return;
        String toolCallId = e.dataText("toolCallId");
        message(e).ifFresh(e, m -> m.attachTool(toolCallId));
    }

    private static JsonNode orNull(JsonNode n) {
        return n == null ? NullNode.getInstance() : n;
    }

    /** Common "apply once" rule of every entity. */
    private abstract static class Entity<T extends Entity<T>> {
        long lastSeq;

        @SuppressWarnings({"unchecked", "rawtypes"})
        static <T extends Entity<T>> Entity<T> ignored() {
            return (Entity) Ignored.INSTANCE;
        }

        @SuppressWarnings("unchecked")
        void ifFresh(Event e, Consumer<T> change) {
            if (e.seq() <= lastSeq) return;
            change.accept((T) this);
            lastSeq = e.seq();
        }
    }

    /** Stands in for an entity the event may not touch: applies nothing. */
    private static final class Ignored extends Entity<Ignored> {
        static final Ignored INSTANCE = new Ignored();

        @Override
        void ifFresh(Event e, Consumer<Ignored> change) {}
    }

    private static final class MessageB extends Entity<MessageB> {
        final String messageId, agentId, runId;
        final long firstSeq;
        final StringBuilder text = new StringBuilder();
        /** Null until the message has more than text: see {@link SessionState.Message}. */
        StringBuilder reasoning;

        List<ObjectNode> parts;
        String role;
        String status = "streaming";

        MessageB(String messageId, String agentId, String runId, long firstSeq) {
            this.messageId = messageId;
            this.agentId = agentId;
            this.runId = runId;
            this.firstSeq = firstSeq;
        }

        void appendText(String s) {
            text.append(s);
            if (parts != null) extend(MessageParts.TEXT, s.length());
        }

        void appendReasoning(String s) {
            ensureParts();
            if (reasoning == null) reasoning = new StringBuilder();
            reasoning.append(s);
            extend(MessageParts.REASONING, s.length());
        }

        /** A data part with an id replaces the earlier one of the same type and id, in place. */
        void addPart(JsonNode node) {
            if (!(node instanceof ObjectNode part)) return; // validated on append: never happens
            ensureParts();
            String type = part.path("type").asText();
            if (MessageParts.isDataPart(type) && part.hasNonNull("id")) {
                for (int i = 0; i < parts.size(); i++) {
                    ObjectNode p = parts.get(i);
                    if (type.equals(p.path("type").asText()) && part.get("id").equals(p.get("id"))) {
                        parts.set(i, part.deepCopy());
                        return;
                    }
                }
            }
            parts.add(part.deepCopy());
        }

        void attachTool(String toolCallId) {
            ensureParts();
            for (ObjectNode p : parts) {
                if (MessageParts.TOOL.equals(p.path("type").asText())
                        && toolCallId.equals(p.path("toolCallId").asText())) {
                    return;
                }
            }
            parts.add(Json.object().put("type", MessageParts.TOOL).put("toolCallId", toolCallId));
        }

        /** Text or reasoning continues the last entry of its kind, or starts a new one after anything else. */
        private void extend(String type, int length) {
            ObjectNode last = parts.isEmpty() ? null : parts.get(parts.size() - 1);
            if (last != null && type.equals(last.path("type").asText())) {
                last.put("length", last.path("length").asInt() + length);
            } else {
                parts.add(Json.object().put("type", type).put("length", length));
            }
        }

        private void ensureParts() {
            if (parts != null) return;
            parts = new ArrayList<>();
            if (!text.isEmpty())
                parts.add(Json.object().put("type", MessageParts.TEXT).put("length", text.length()));
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
        String messageId;
        StringBuilder inputText;
        boolean dynamic;

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
