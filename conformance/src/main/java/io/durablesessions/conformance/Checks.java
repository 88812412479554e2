package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.Event;
import io.durablesessions.events.Limits;
import io.durablesessions.events.SessionState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * The named checks of the step language (conformance/README.md, "Checks"): properties of the log
 * and of what connections received that would be unwieldy as data. The log is always read through
 * the HTTP API ({@code GET /v1/sessions/{id}/events}) as the principal {@code user}, like any
 * client of the deployment would.
 */
final class Checks {
    private final CaseRun run;

    Checks(CaseRun run) {
        this.run = run;
    }

    void run(ObjectNode step, Vars scope) {
        String name = step.fieldNames().next();
        ObjectNode a = step.get(name) instanceof ObjectNode o ? o : Jsons.object();
        switch (name) {
            case "clientRule" -> clientRule(a, scope);
            case "hydrateThenTail" -> hydrateThenTail(a, scope);
            case "snapshotIsFold" -> snapshotIsFold(a, scope);
            case "snapshotParts" -> snapshotParts(a, scope);
            case "fence" -> fence(a, scope);
            case "logUnchanged" -> logUnchanged(a, scope);
            case "log" -> logCheck(a, scope);
            case "gapless" -> gapless(a, scope);
            case "perWriterOrder" -> perWriterOrder(a, scope);
            case "contiguousBatches" -> contiguousBatches(a, scope);
            case "answerCounts" -> answerCounts(a, scope);
            case "catchUp" -> catchUp(a, scope);
            case "notReceived" -> notReceived(a, scope);
            default -> throw new CaseFailure("unknown check " + name);
        }
    }

    // ------------------------------------------------------------------ the log

    /** Every event of a session, read page by page over the HTTP API; empty when the session does not exist. */
    List<ObjectNode> log(String session) {
        List<ObjectNode> out = new ArrayList<>();
        long after = 0;
        String token = run.tokenOf("user");
        for (int pages = 0; pages < 10_000; pages++) {
            CaseRun.HttpAnswer r = run.httpCall(
                    "GET",
                    "/v1/sessions/" + session + "/events?afterSeq=" + after + "&limit=1000",
                    token,
                    null,
                    Map.of(),
                    run.kit.options.answerTimeout());
            if (r.status() == 404 && out.isEmpty()) return out;
            if (r.status() != 200 || r.json() == null) {
                throw new CaseFailure(
                        "reading the log of " + session + " answered " + r.status() + " " + Jsons.brief(r.text(), 300));
            }
            for (JsonNode e : r.json().path("events")) out.add((ObjectNode) e);
            if (!r.json().path("more").asBoolean(false)) return out;
            long next = r.json().path("nextAfterSeq").asLong();
            if (next <= after)
                throw new CaseFailure("GET events did not advance: nextAfterSeq " + next + " after " + after);
            after = next;
        }
        throw new CaseFailure("the log of " + session + " did not end after 10,000 pages");
    }

    private static long head(List<ObjectNode> log) {
        return log.isEmpty() ? 0 : log.get(log.size() - 1).path("seq").asLong();
    }

    private static List<Event> events(List<ObjectNode> log, long upTo) {
        List<Event> out = new ArrayList<>();
        for (ObjectNode e : log) if (e.path("seq").asLong() <= upTo) out.add(Event.fromJson(Jsons.write(e)));
        return out;
    }

    private List<Conn> connections(JsonNode on, Vars scope) {
        List<Conn> out = new ArrayList<>();
        if (on.isArray()) on.forEach(n -> out.add(run.conns.get(scope.string(n.asText()))));
        else out.add(run.conns.get(scope.string(on.asText())));
        return out;
    }

    private Duration timeout(ObjectNode a, Vars scope) {
        return run.duration(a.get("timeout"), scope, run.kit.options.eventTimeout());
    }

    /** Polls {@code condition} until it holds or the deadline passes (the connections may be several). */
    private static boolean poll(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) return true;
            if (System.nanoTime() > deadline) return false;
            try {
                Thread.sleep(25); // polling interval under a deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    // ------------------------------------------------------------------ client rule

    private ReaderRule.Result rule(List<Conn> cs, String session, long from) {
        List<JsonNode> frames = new ArrayList<>();
        for (Conn cn : cs) frames.addAll(Conn.eventFrames(cn.frames(), session));
        return ReaderRule.apply(from, frames);
    }

    /**
     * [deliver.resume] [deliver.at-least-once]: the events the connections received (in the order
     * given, e.g. before and after a reconnect), after the client rule, are exactly the log: every
     * seq once, in order, byte-for-byte the stored event; and every frame is in seq order.
     */
    private void clientRule(ObjectNode a, Vars scope) {
        List<Conn> cs = connections(a.get("on"), scope);
        String session = run.session(a, scope);
        long from = a.has("from") ? scope.subst(a.get("from")).asLong() : 0;
        long atLeast = a.has("atLeast") ? scope.subst(a.get("atLeast")).asLong() : head(log(session));
        Duration timeout = timeout(a, scope);
        if (!poll(() -> rule(cs, session, from).last() >= atLeast, timeout)) {
            ReaderRule.Result r = rule(cs, session, from);
            throw new CaseFailure("after the client rule the readers hold seqs " + (from + 1) + ".." + r.last()
                    + ", expected at least " + atLeast + " within " + timeout.toMillis() + " ms; held above a gap: "
                    + r.buffered());
        }
        ReaderRule.Result r = rule(cs, session, from);
        if (r.orderProblem() != null) throw new CaseFailure(r.orderProblem());
        compareToLog(r.applied(), log(session), from, r.last(), "the readers applied");
    }

    private static void compareToLog(List<JsonNode> applied, List<ObjectNode> log, long from, long last, String who) {
        Map<Long, ObjectNode> bySeq = new HashMap<>();
        for (ObjectNode e : log) bySeq.put(e.path("seq").asLong(), e);
        for (JsonNode e : applied) {
            long seq = e.path("seq").asLong();
            ObjectNode stored = bySeq.get(seq);
            if (stored == null)
                throw new CaseFailure(who + " seq " + seq + " which is not in the log: " + Jsons.brief(e, 300));
            if (!stored.equals(e)) {
                throw new CaseFailure(who + " seq " + seq + " as " + Jsons.brief(e, 300) + " but the log holds "
                        + Jsons.brief(stored, 300));
            }
        }
        if (applied.size() != last - from)
            throw new CaseFailure(who + " " + applied.size() + " events for seqs " + (from + 1) + ".." + last);
    }

    /**
     * [snapshot.fold] [deliver.at-least-once]: a reader that hydrated (possibly mid-stream) and then
     * applied the live tail with the client rule ends with exactly the state of the whole log.
     */
    private void hydrateThenTail(ObjectNode a, Vars scope) {
        Conn cn = run.conns.get(scope.string(a.get("on").asText()));
        String session = run.session(a, scope);
        ObjectNode joined = joinedSnapshot(cn, scope.string(a.get("request").asText()));
        long h = joined.path("headSeq").asLong();
        long atLeast = a.has("atLeast") ? scope.subst(a.get("atLeast")).asLong() : head(log(session));
        Duration timeout = timeout(a, scope);
        if (!poll(() -> rule(List.of(cn), session, h).last() >= atLeast, timeout)) {
            ReaderRule.Result r = rule(List.of(cn), session, h);
            throw new CaseFailure(
                    cn.name + " hydrated at " + h + " and applied the tail up to " + r.last() + ", expected at least "
                            + atLeast + " within " + timeout.toMillis() + " ms; held: " + r.buffered());
        }
        ReaderRule.Result tail = rule(List.of(cn), session, h);
        List<ObjectNode> log = log(session);
        compareToLog(tail.applied(), log, h, tail.last(), cn.name + " applied after its snapshot");
        SessionState fromSnapshot = SessionState.fromNode(joined);
        Assembler assembler = Assembler.from(fromSnapshot);
        for (JsonNode e : tail.applied()) assembler.apply(Event.fromJson(Jsons.write(e)));
        String got = assembler.state().toJson();
        String want = Assembler.fold(events(log, tail.last())).toJson();
        if (!got.equals(want)) {
            throw new CaseFailure("snapshot at " + h + " plus the tail to " + tail.last() + " is "
                    + Jsons.brief(got, 600) + " but the fold of the log is " + Jsons.brief(want, 600));
        }
    }

    /** The snapshot frames answering a request, joined as §8.1 says (continued items appended to the previous one). */
    ObjectNode joinedSnapshot(Conn cn, String requestName) {
        List<ObjectNode> parts = snapshotFrames(cn, requestName);
        ObjectNode state = Jsons.object();
        ArrayNode items = state.putArray("items");
        for (ObjectNode f : parts) {
            JsonNode st = f.path("state");
            state.put("headSeq", f.path("headSeq").asLong());
            for (String k : List.of("runs", "agents", "presence")) if (st.has(k)) state.set(k, st.get(k));
            for (JsonNode item : st.path("items")) {
                if (item.path("continued").asBoolean(false)) {
                    if (items.isEmpty())
                        throw new CaseFailure("a continued item without a previous item in part " + f.path("part"));
                    ObjectNode prev = (ObjectNode) items.get(items.size() - 1);
                    if ("message".equals(item.path("kind").asText())) {
                        prev.put(
                                "text",
                                prev.path("text").asText() + item.path("text").asText());
                    } else {
                        prev.set("result", item.get("result"));
                    }
                } else {
                    items.add(item.deepCopy());
                }
            }
        }
        return state;
    }

    private List<ObjectNode> snapshotFrames(Conn cn, String requestName) {
        String rid = cn.requests.get(requestName);
        if (rid == null) throw new CaseFailure("no request named '" + requestName + "' on " + cn.name);
        List<ObjectNode> parts = new ArrayList<>();
        boolean fin = false;
        for (Conn.Frame f : cn.frames()) {
            if ("snapshot".equals(f.type()) && rid.equals(f.requestId())) {
                parts.add(f.json());
                fin = f.json().path("final").asBoolean(false);
            }
        }
        if (parts.isEmpty()) throw new CaseFailure(cn.name + " received no snapshot for request " + requestName);
        if (!fin) throw new CaseFailure(cn.name + ": the last snapshot part of " + requestName + " is not final");
        return parts;
    }

    /**
     * [snapshot.fold]: a snapshot (the parts a hydrate received, or {@code GET …/snapshot}) is
     * exactly the fold of the log up to its headSeq, as the Assembler in events/ folds it.
     */
    private void snapshotIsFold(ObjectNode a, Vars scope) {
        String session = run.session(a, scope);
        JsonNode state;
        long h;
        String what;
        if (a.has("http")) {
            String principal = scope.string(a.get("http").asText());
            CaseRun.HttpAnswer r = run.httpCall(
                    "GET",
                    "/v1/sessions/" + session + "/snapshot",
                    run.tokenOf(principal),
                    null,
                    Map.of(),
                    run.kit.options.answerTimeout());
            if (r.status() != 200 || r.json() == null)
                throw new CaseFailure("GET snapshot answered " + r.status() + " " + Jsons.brief(r.text(), 300));
            state = r.json().path("state");
            h = r.json().path("headSeq").asLong();
            if (state.path("headSeq").asLong() != h)
                throw new CaseFailure("snapshot headSeq " + h + " but state.headSeq " + state.path("headSeq"));
            what = "GET snapshot";
        } else {
            Conn cn = run.conns.get(scope.string(a.get("on").asText()));
            state = joinedSnapshot(cn, scope.string(a.get("request").asText()));
            h = state.path("headSeq").asLong();
            what = "the hydrate on " + cn.name;
        }
        List<ObjectNode> log = log(session);
        if (head(log) < h) throw new CaseFailure(what + " has headSeq " + h + " beyond the log's head " + head(log));
        // both sides as parsed JSON text, so a number is a number whatever Java type built it
        JsonNode want = Jsons.parse(Assembler.fold(events(log, h)).toJson());
        if (!want.equals(Jsons.parse(Jsons.write(state)))) {
            throw new CaseFailure(what + " at headSeq " + h + " is " + Jsons.brief(state, 700)
                    + " but the fold of the log is " + Jsons.brief(want, 700));
        }
    }

    /** [snapshot.parts]: parts 0, 1, … each within one WebSocket message, final on the last only, part 0 with runs. */
    private void snapshotParts(ObjectNode a, Vars scope) {
        Conn cn = run.conns.get(scope.string(a.get("on").asText()));
        String rid = cn.requests.get(scope.string(a.get("request").asText()));
        List<Conn.Frame> parts = new ArrayList<>();
        for (Conn.Frame f : cn.frames())
            if ("snapshot".equals(f.type()) && rid != null && rid.equals(f.requestId())) parts.add(f);
        int min = a.has("minParts") ? scope.subst(a.get("minParts")).asInt() : 1;
        if (parts.size() < min)
            throw new CaseFailure("expected at least " + min + " snapshot parts, got " + parts.size());
        for (int i = 0; i < parts.size(); i++) {
            ObjectNode f = parts.get(i).json();
            int bytes = parts.get(i).text().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > Limits.MAX_MESSAGE_BYTES)
                throw new CaseFailure("snapshot part " + i + " is " + bytes + " bytes, over one message ("
                        + Limits.MAX_MESSAGE_BYTES + ")");
            if (f.path("part").asInt(-1) != i)
                throw new CaseFailure("snapshot part " + i + " says part " + f.path("part"));
            if (f.path("final").asBoolean(false) != (i == parts.size() - 1))
                throw new CaseFailure("snapshot part " + i + " has final " + f.path("final"));
            if (i == 0
                    && !(f.path("state").has("runs")
                            && f.path("state").has("agents")
                            && f.path("state").has("presence"))) {
                throw new CaseFailure("snapshot part 0 lacks runs, agents or presence");
            }
            if (f.path("headSeq").asLong()
                    != parts.get(0).json().path("headSeq").asLong())
                throw new CaseFailure("snapshot parts disagree on headSeq");
        }
    }

    // ------------------------------------------------------------------ fences

    /**
     * [run.fence] [run.stop]: the run's first fencing event (stop_requested, completed or failed)
     * ends it: afterwards the log holds no event of the run but its stop lifecycle; a stop's
     * stoppedAtSeq is the run's last event before it; every reader and every hydrate says the
     * same; and every RUN_FENCED answer for the run carries that stoppedAtSeq.
     */
    private void fence(ObjectNode a, Vars scope) {
        String session = run.session(a, scope);
        String runId = scope.string(a.get("run").asText());
        List<ObjectNode> log = log(session);
        ObjectNode fence = null;
        long lastBefore = 0;
        for (ObjectNode e : log) {
            if (!runId.equals(e.path("runId").asText(null))) continue;
            String type = e.path("type").asText();
            if (fence == null
                    && Set.of("run.stop_requested", "run.completed", "run.failed")
                            .contains(type)) {
                fence = e;
            } else if (fence == null) {
                lastBefore = e.path("seq").asLong();
            } else if (!fence.path("type").asText().equals("run.stop_requested")
                    || !Kit.STOP_LIFECYCLE.contains(type)) {
                throw new CaseFailure("event " + Jsons.brief(e, 300) + " of run " + runId
                        + " came after its fence at seq " + fence.path("seq"));
            }
        }
        if (fence == null)
            throw new CaseFailure("run " + runId + " has no stop_requested, completed or failed event in the log");
        long stoppedAt;
        if (fence.path("type").asText().equals("run.stop_requested")) {
            stoppedAt = fence.path("data").path("stoppedAtSeq").asLong(-1);
            if (stoppedAt != lastBefore) {
                throw new CaseFailure("run.stop_requested at seq " + fence.path("seq") + " says stoppedAtSeq "
                        + fence.path("data").path("stoppedAtSeq") + " but the run's last event before it is seq "
                        + lastBefore);
            }
        } else {
            stoppedAt = fence.path("seq").asLong();
        }
        long fenceSeq = fence.path("seq").asLong();
        ObjectNode fenceEvent = fence;
        for (JsonNode r : a.path("readers")) {
            Conn cn = run.conns.get(scope.string(r.asText()));
            Duration t = run.kit.options.eventTimeout();
            boolean ok = cn.awaitCondition(
                    fs -> CaseRun.matchingEvents(fs, session, Jsons.object().put("seq", fenceSeq))
                                    .size()
                            == 1,
                    t);
            if (!ok) throw new CaseFailure(cn.name + " never received the fence (seq " + fenceSeq + ")");
            for (JsonNode arr : Conn.eventFrames(cn.frames(), session)) {
                for (JsonNode e : arr) {
                    if (e.path("seq").asLong() == fenceSeq && !e.equals(fenceEvent)) {
                        throw new CaseFailure(cn.name + " received seq " + fenceSeq + " as " + Jsons.brief(e, 300)
                                + ", the log holds " + Jsons.brief(fenceEvent, 300));
                    }
                }
            }
        }
        for (JsonNode h : a.path("hydrated")) {
            Conn cn = run.conns.get(scope.string(h.path("on").asText()));
            ObjectNode state = joinedSnapshot(cn, scope.string(h.path("request").asText()));
            if (state.path("headSeq").asLong() < fenceSeq) continue; // hydrated before the fence: nothing to say yet
            JsonNode view = null;
            for (JsonNode r : state.path("runs"))
                if (runId.equals(r.path("runId").asText())) view = r;
            if (view == null) throw new CaseFailure("the hydrate on " + cn.name + " lists no run " + runId);
            if (view.path("stoppedAtSeq").asLong(-1) != stoppedAt) {
                throw new CaseFailure("the hydrate on " + cn.name + " says run " + runId + " stoppedAtSeq "
                        + view.path("stoppedAtSeq") + ", the log " + stoppedAt);
            }
        }
        for (JsonNode r : a.path("refusals")) {
            Conn cn = run.conns.get(scope.string(r.asText()));
            for (Conn.Frame f : cn.frames()) {
                JsonNode j = f.json();
                if (j == null
                        || !"error".equals(f.type())
                        || !"RUN_FENCED".equals(j.path("code").asText())) continue;
                if (!runId.equals(j.path("details").path("runId").asText())) continue;
                // an error frame names no session: its request does
                ObjectNode request = f.requestId() == null ? null : cn.sentFrames.get(f.requestId());
                if (request == null || !session.equals(request.path("sessionId").asText())) continue;
                if (!j.path("details").has("stoppedAtSeq")
                        || j.path("details").path("stoppedAtSeq").asLong() != stoppedAt) {
                    throw new CaseFailure("a RUN_FENCED answer on " + cn.name + " says "
                            + Jsons.brief(j.path("details"), 200) + ", expected stoppedAtSeq " + stoppedAt);
                }
            }
        }
    }

    // ------------------------------------------------------------------ log properties

    /**
     * [append.refused-writes-nothing]: the log is what it was at the mark. Presence events the
     * service appends on its own (a member joining or leaving) are not writes of the case, and are
     * left out on both sides.
     */
    private void logUnchanged(ObjectNode a, Vars scope) {
        String mark = scope.string(a.get("since").asText());
        List<ObjectNode> before = run.marks.get(mark);
        if (before == null) throw new CaseFailure("no log mark '" + mark + "' (markLog it first)");
        List<ObjectNode> now = withoutPresence(log(run.session(a, scope)));
        List<ObjectNode> was = withoutPresence(before);
        if (!now.equals(was)) {
            int i = 0;
            while (i < Math.min(now.size(), was.size()) && now.get(i).equals(was.get(i))) i++;
            throw new CaseFailure("the log changed since mark '" + mark + "': " + was.size() + " events then, "
                    + now.size() + " now; first difference: "
                    + (i < now.size() ? Jsons.brief(now.get(i), 300) : "(removed) " + Jsons.brief(was.get(i), 300)));
        }
    }

    private static List<ObjectNode> withoutPresence(List<ObjectNode> log) {
        return log.stream()
                .filter(e -> !e.path("type").asText().startsWith("presence."))
                .toList();
    }

    /** Generic properties of the (filtered) log: count, exact types, exact partial matches, contains, none. */
    private void logCheck(ObjectNode a, Vars scope) {
        List<ObjectNode> log = log(run.session(a, scope));
        List<ObjectNode> selected = log;
        if (a.has("where")) {
            JsonNode where = scope.subst(a.get("where"));
            selected =
                    log.stream().filter(e -> Match.mismatch(where, e) == null).toList();
        }
        String shown = "selected events " + Jsons.brief(CaseRun.arrayOf(selected), 800);
        if (a.has("count")) {
            long n = scope.subst(a.get("count")).asLong();
            if (selected.size() != n)
                throw new CaseFailure("expected " + n + " events, got " + selected.size() + ": " + shown);
        }
        if (a.has("atMost") && selected.size() > scope.subst(a.get("atMost")).asLong()) {
            throw new CaseFailure("expected at most " + scope.subst(a.get("atMost")) + " events, got " + selected.size()
                    + ": " + shown);
        }
        if (a.has("atLeast") && selected.size() < scope.subst(a.get("atLeast")).asLong()) {
            throw new CaseFailure("expected at least " + scope.subst(a.get("atLeast")) + " events, got "
                    + selected.size() + ": " + shown);
        }
        if (a.has("types")) {
            List<String> want = new ArrayList<>();
            scope.subst(a.get("types")).forEach(t -> want.add(t.asText()));
            List<String> got =
                    selected.stream().map(e -> e.path("type").asText()).toList();
            if (!got.equals(want)) throw new CaseFailure("expected types " + want + ", got " + got);
        }
        if (a.has("match")) {
            String m = Match.mismatch(scope.subst(a.get("match")), CaseRun.arrayOf(selected));
            if (m != null) throw new CaseFailure(m + "; " + shown);
        }
        for (JsonNode want : scope.subst(a.path("contains"))) {
            if (selected.stream().noneMatch(e -> Match.mismatch(want, e) == null)) {
                throw new CaseFailure("no event matches " + Jsons.brief(want, 300) + "; " + shown);
            }
        }
        for (JsonNode bad : scope.subst(a.path("none"))) {
            for (ObjectNode e : selected) {
                if (Match.mismatch(bad, e) == null)
                    throw new CaseFailure("event " + Jsons.brief(e, 300) + " matches " + Jsons.brief(bad, 200));
            }
        }
    }

    /** [log.seq]: seqs are 1, 2, 3, … with no gap and no repeat, and every event has the §4.1 envelope. */
    private void gapless(ObjectNode a, Vars scope) {
        String session = run.session(a, scope);
        List<ObjectNode> log = log(session);
        if (log.isEmpty()) throw new CaseFailure("the log of " + session + " is empty");
        long expect = 1;
        for (ObjectNode e : log) {
            if (e.path("seq").asLong() != expect)
                throw new CaseFailure("expected seq " + expect + ", the log holds " + Jsons.brief(e, 200));
            for (String f : List.of("seq", "sessionId", "type", "agentId", "ts", "data")) {
                if (!e.has(f)) throw new CaseFailure("event " + expect + " lacks " + f + ": " + Jsons.brief(e, 200));
            }
            if (!session.equals(e.path("sessionId").asText()))
                throw new CaseFailure("event " + expect + " names session " + e.path("sessionId"));
            expect++;
        }
    }

    /** Multi-writer ordering: for each writer (agentId), the values at {@code path} increase in seq order. */
    private void perWriterOrder(ObjectNode a, Vars scope) {
        List<ObjectNode> log = log(run.session(a, scope));
        String path = scope.string(a.get("path").asText());
        JsonNode where = a.has("where") ? scope.subst(a.get("where")) : null;
        Map<String, Double> last = new HashMap<>();
        int seen = 0;
        for (ObjectNode e : log) {
            if (where != null && Match.mismatch(where, e) != null) continue;
            JsonNode v = Jsons.at(e, path);
            if (v == null || !v.isNumber()) continue;
            seen++;
            String writer = e.path("agentId").asText();
            Double prev = last.put(writer, v.asDouble());
            if (prev != null && prev >= v.asDouble()) {
                throw new CaseFailure("writer " + writer + "'s events are out of order: " + path + " " + v + " at seq "
                        + e.path("seq") + " after " + prev);
            }
        }
        if (seen == 0) throw new CaseFailure("no event has a number at " + path);
    }

    /** [append.atomic]: the events of one append (same value at {@code key}) are exactly {@code size} consecutive seqs. */
    private void contiguousBatches(ObjectNode a, Vars scope) {
        List<ObjectNode> log = log(run.session(a, scope));
        String key = scope.string(a.get("key").asText());
        int size = scope.subst(a.get("size")).asInt();
        Map<String, List<Long>> batches = new LinkedHashMap<>();
        for (ObjectNode e : log) {
            JsonNode v = Jsons.at(e, key);
            if (v != null)
                batches.computeIfAbsent(Jsons.write(v), k -> new ArrayList<>())
                        .add(e.path("seq").asLong());
        }
        if (batches.isEmpty()) throw new CaseFailure("no event has a value at " + key);
        for (var b : batches.entrySet()) {
            List<Long> seqs = b.getValue();
            if (seqs.size() != size)
                throw new CaseFailure("batch " + b.getKey() + " has " + seqs.size() + " events, expected " + size);
            for (int i = 1; i < seqs.size(); i++) {
                if (seqs.get(i) != seqs.get(i - 1) + 1)
                    throw new CaseFailure("batch " + b.getKey() + " is interleaved: seqs " + seqs);
            }
        }
    }

    // ------------------------------------------------------------------ answers and receipts

    /** How the answers to the requests named with a prefix came out: counts by type (or error code). */
    private void answerCounts(ObjectNode a, Vars scope) {
        Conn cn = run.conns.get(scope.string(a.get("on").asText()));
        String prefix = scope.string(a.get("requests").asText());
        Map<String, Integer> got = new TreeMap<>();
        for (var e : cn.requests.entrySet()) {
            if (!e.getKey().startsWith(prefix)) continue;
            String key = e.getValue();
            Conn.Frame f = run.awaitAnswer(
                    cn, key.startsWith("#") ? null : key, cn.sentAt.get(key), run.kit.options.answerTimeout());
            CaseRun.noteSubscription(cn, f);
            String label = "error".equals(f.type()) ? f.json().path("code").asText() : f.type();
            got.merge(label, 1, Integer::sum);
        }
        Map<String, Integer> want = new TreeMap<>();
        scope.subst(a.get("counts"))
                .properties()
                .forEach(e -> want.put(e.getKey(), e.getValue().asInt()));
        if (!got.equals(want)) throw new CaseFailure("answers to " + prefix + "*: expected " + want + ", got " + got);
    }

    /** [subscribe.catch-up]: before the answer to a subscribe arrived, the connection held every seq through {@code through}. */
    private void catchUp(ObjectNode a, Vars scope) {
        Conn cn = run.conns.get(scope.string(a.get("on").asText()));
        String session = run.session(a, scope);
        String key = cn.requests.get(scope.string(a.get("request").asText()));
        if (key == null)
            throw new CaseFailure("no request named " + a.get("request").asText());
        Conn.Frame answer = run.awaitAnswer(cn, key, cn.sentAt.get(key), run.kit.options.answerTimeout());
        long through = scope.subst(a.get("through")).asLong();
        long start = cn.sentFrames.get(key).path("afterSeq").asLong();
        List<Conn.Frame> before = cn.frames().subList(0, answer.index());
        ReaderRule.Result r = ReaderRule.apply(start, Conn.eventFrames(before, session));
        if (r.last() < through) {
            throw new CaseFailure("when " + Jsons.brief(answer.text(), 200) + " arrived, " + cn.name + " held seqs "
                    + (start + 1) + ".." + r.last() + ", expected through " + through);
        }
    }

    /** No event matching {@code event} reached the connection. */
    private void notReceived(ObjectNode a, Vars scope) {
        Conn cn = run.conns.get(scope.string(a.get("on").asText()));
        List<JsonNode> hits = CaseRun.matchingEvents(cn.frames(), run.session(a, scope), scope.subst(a.get("event")));
        if (!hits.isEmpty()) throw new CaseFailure(cn.name + " received " + Jsons.brief(hits.get(0), 300));
    }
}
