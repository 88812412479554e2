package io.durablesessions.functions.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.ClientMessage;
import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.events.ClientMessage.Heartbeat;
import io.durablesessions.events.ClientMessages;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.events.Refusal;
import io.durablesessions.events.RunState;
import io.durablesessions.events.TraceParent;
import io.durablesessions.functions.auth.Authorization;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.auth.RevocationStore;
import io.durablesessions.functions.control.Controller;
import io.durablesessions.functions.fanout.DirectDelivery;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.publish.Publisher;
import io.durablesessions.functions.retention.SessionEraser;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.runtime.Tracing;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.EventPage;
import io.durablesessions.functions.store.Hydration;
import io.durablesessions.functions.store.RunRow;
import io.durablesessions.functions.store.SessionCatalog;
import io.durablesessions.functions.store.SessionCatalog.RunControl;
import io.durablesessions.functions.store.SessionCatalog.SessionInfo;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.functions.store.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The features behind the HTTP API. Appends and control go through the same {@link Publisher}
 * and {@link Controller} as the WebSocket routes, with the message parsed by the same
 * {@link ClientMessages} and checked by the same {@link Authorization}; a refusal is the same
 * {@link Refusal} a WebSocket client gets, rendered by {@link ApiProblem}.
 */
public final class SessionApi {
    static final int MAX_TITLE = 256;
    static final int MAX_METADATA_BYTES = 16 * 1024;
    static final long MAX_RETENTION_DAYS = 3650;
    static final int MAX_EVENTS_PAGE = 1000;
    static final int DEFAULT_EVENTS_PAGE = 100;
    static final int MAX_SESSIONS_PAGE = 100;
    static final int DEFAULT_SESSIONS_PAGE = 20;
    /** Runs reported in one append's {@code control} (an append naming more is unusual). */
    static final int MAX_RUNS_REPORTED = 8;

    private static final Set<String> CREATE_FIELDS = Set.of("sessionId", "owner", "title", "metadata", "retentionDays");
    private static final Set<String> REVOKE_FIELDS = Set.of("jti", "subject", "keepForSeconds");
    /** A revocation outlives every token it can match when tokens live at most this long. */
    static final long DEFAULT_REVOCATION_SECONDS = 7 * 86_400;

    static final long MAX_REVOCATION_SECONDS = 366 * 86_400;

    private final Services services;
    private final SessionCatalog catalog;
    private final SessionEraser eraser;
    private final Publisher publisher;
    private final Controller controller;
    private final Presence presence;
    private final DirectDelivery direct;
    private final ListCursor cursors;

    public SessionApi(Services services) {
        this.services = services;
        this.catalog = new SessionCatalog(services.dynamo(), services.tables(), services.clock());
        this.eraser = new SessionEraser(services);
        this.publisher = new Publisher(services);
        this.controller = new Controller(services);
        this.presence = new Presence(services);
        this.direct = new DirectDelivery(services);
        this.cursors = new ListCursor(catalog.listCursorKey());
    }

    // ------------------------------------------------------------------ sessions

    public HttpReply create(Principal who, String body) {
        ObjectNode in = object(body);
        for (var it = in.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!CREATE_FIELDS.contains(f)) throw ProtocolException.invalid(f, "is not a field of a session");
        }
        String sessionId = Fields.optionalId(in, "sessionId");
        if (sessionId == null) sessionId = generatedId(who);
        String owner = Fields.optionalId(in, "owner");
        if (owner == null) owner = who.subject();
        if (!owner.equals(who.subject()) && !who.can(Capability.ADMIN, sessionId)) {
            // owner decides whose list a session appears in: only an admin may file it under someone else
            throw ApiProblem.of(ErrorCode.FORBIDDEN, "creating a session for another owner needs the 'admin' grant");
        }
        String title = Fields.optionalText(in, "title", MAX_TITLE);
        ObjectNode metadata = Fields.object(in, "metadata", false);
        String metadataJson = metadata == null ? null : Json.write(metadata);
        if (metadataJson != null && metadataJson.getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_BYTES) {
            throw ProtocolException.invalid("metadata", "must be at most " + MAX_METADATA_BYTES + " bytes of JSON");
        }
        Long expiresAt = null;
        if (in.hasNonNull("retentionDays")) {
            long days = Fields.safeInteger(in, "retentionDays");
            if (days < 1 || days > MAX_RETENTION_DAYS) {
                throw ProtocolException.invalid("retentionDays", "must be between 1 and " + MAX_RETENTION_DAYS);
            }
            expiresAt = services.clock().millis() / 1000 + days * 86_400;
        }
        // creating is writing: the same grant as an append of user input
        Authorization.require(who, Capability.APPEND, sessionId);
        if (!catalog.create(sessionId, owner, title, metadataJson, expiresAt)) {
            throw new ApiProblem(409, ApiProblem.SESSION_EXISTS, "session '" + sessionId + "' already exists", null);
        }
        for (AppendResult joined : presence.sessionCreated(sessionId)) direct.deliver(sessionId, joined);
        SessionInfo info = catalog.describe(sessionId);
        return new HttpReply(
                201,
                Json.write(describe(info)),
                Map.of("Content-Type", "application/json", "Location", "/v1/sessions/" + sessionId));
    }

    public HttpReply get(Principal who, String sessionId) {
        requireRead(who, sessionId);
        SessionInfo info = existing(sessionId);
        ObjectNode out = describe(info);
        ArrayNode runs = out.putArray("runs");
        for (RunRow r : services.sessions().runs(sessionId)) runs.add(run(r));
        out.putObject("presence").put("count", catalog.presenceCount(sessionId));
        return HttpReply.json(200, Json.write(out));
    }

    public HttpReply list(Principal who, Map<String, String> query) {
        String owner = query.get("owner") == null ? who.subject() : Fields.requireId("owner", query.get("owner"));
        if (!owner.equals(who.subject()) && !who.canAnywhere(Capability.ADMIN)) {
            throw ApiProblem.of(ErrorCode.FORBIDDEN, "listing another owner's sessions needs the 'admin' grant");
        }
        int limit = (int) intParam(query, "limit", DEFAULT_SESSIONS_PAGE, 1, MAX_SESSIONS_PAGE);
        SessionCatalog.Cursor cursor = cursors.open(query.get("cursor"), who.subject(), owner);
        SessionCatalog.OwnerPage page = catalog.listByOwner(owner, limit, cursor);
        ObjectNode out = Json.object().put("owner", owner);
        ArrayNode sessions = out.putArray("sessions");
        // a page only shows what the caller may read; the sealed cursor walks the owner's whole list
        // without naming the sessions it skips
        for (SessionInfo s : page.sessions()) if (who.can(Capability.READ, s.sessionId())) sessions.add(describe(s));
        if (page.next() != null) out.put("nextCursor", cursors.seal(page.next(), who.subject(), owner));
        else out.putNull("nextCursor");
        return HttpReply.json(200, Json.write(out));
    }

    /**
     * {@code POST /v1/admin/revocations}: stops a token ({@code jti}) or every token a subject was
     * issued until now ({@code subject}) on every live connection and request. Operators only.
     */
    public HttpReply revoke(Principal who, String body) {
        if (!who.isOperator()) {
            throw ApiProblem.of(ErrorCode.FORBIDDEN, "revoking tokens needs the 'admin' capability on all sessions");
        }
        ObjectNode in = object(body);
        for (var it = in.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!REVOKE_FIELDS.contains(f)) throw ProtocolException.invalid(f, "is not a field of a revocation");
        }
        String jti = Fields.optionalText(in, "jti", 256);
        String subject = Fields.optionalId(in, "subject");
        if ((jti == null) == (subject == null))
            throw ProtocolException.invalid("jti", "give exactly one of jti and subject");
        if (jti != null && jti.isBlank()) throw ProtocolException.invalid("jti", "must not be blank");
        long keep =
                in.hasNonNull("keepForSeconds") ? Fields.safeInteger(in, "keepForSeconds") : DEFAULT_REVOCATION_SECONDS;
        if (keep < 60 || keep > MAX_REVOCATION_SECONDS) {
            throw ProtocolException.invalid("keepForSeconds", "must be between 60 and " + MAX_REVOCATION_SECONDS);
        }
        RevocationStore.Revoked r = jti != null
                ? services.revocations().revokeToken(jti, Duration.ofSeconds(keep))
                : services.revocations().revokeSubject(subject, Duration.ofSeconds(keep));
        ObjectNode out = Json.object();
        if (jti != null) out.put("jti", jti);
        else out.put("subject", subject);
        out.put("revokedAt", r.revokedAt()).put("expiresAt", r.expiresAt());
        return new HttpReply(201, Json.write(out), Map.of("Content-Type", "application/json"));
    }

    /** A generated session id inside the caller's prefix, so a prefix-granted caller can create without naming one. */
    private static String generatedId(Principal who) {
        for (Grant g : who.grants()) {
            if (!g.caps().contains(Capability.APPEND)) continue;
            if (g.all()) return "s-" + UUID.randomUUID();
            if (g.prefix() != null && g.prefix().length() + 38 <= Limits.MAX_ID_LENGTH)
                return g.prefix() + "s-" + UUID.randomUUID();
        }
        throw ProtocolException.invalid(
                "sessionId", "is required: no prefix grant of yours lets the service choose one");
    }

    public HttpReply delete(Principal who, String sessionId) {
        // erasing is the strongest write: it needs both the append and the control grant
        Authorization.require(who, Capability.APPEND, sessionId);
        Authorization.require(who, Capability.CONTROL, sessionId);
        existing(sessionId);
        SessionEraser.Result result = eraser.erase(sessionId);
        SessionCatalog.Erased erased = result.erased();
        ObjectNode out = Json.object().put("sessionId", sessionId).put("deleted", true);
        out.putObject("removed")
                .put("events", erased.events())
                .put("sessionRows", erased.sessionRows())
                .put("subscriptionRows", erased.subscriptionRows());
        out.put("notified", result.notified());
        return HttpReply.json(200, Json.write(out));
    }

    // ------------------------------------------------------------------ events

    /**
     * @param headerTraceparent the request's {@code traceparent} header, when it is a valid one: the
     *                          events carry it unless the body names its own {@code traceparent}
     */
    public HttpReply append(Principal who, String sessionId, String body, TraceParent headerTraceparent) {
        Append a = (Append) asMessage("append", body, sessionId, null);
        if (a.traceparent() == null && headerTraceparent != null) a = a.withTraceparent(headerTraceparent);
        Authorization.check(a, who);
        AppendResult result = publisher.append(a, caller(who));
        Tracing.outcome(sessionId, result);
        Set<String> runIds = new LinkedHashSet<>();
        if (a.runId() != null) runIds.add(a.runId());
        for (EventInput e : a.events())
            if (e.runId() != null && runIds.size() < MAX_RUNS_REPORTED) runIds.add(e.runId());
        ArrayNode runs = Json.MAPPER.createArrayNode();
        ArrayNode control = Json.MAPPER.createArrayNode();
        for (String runId : runIds) pending(sessionId, runId, runs, control);
        Refusal refusal = Refusal.of(result);
        if (refusal != null) throw withControl(ApiProblem.of(refusal), runs, control);
        ObjectNode out = Json.object().put("sessionId", sessionId);
        if (result instanceof AppendResult.Appended ap) {
            out.put("firstSeq", ap.firstSeq()).put("lastSeq", ap.lastSeq()).put("duplicate", false);
        } else {
            AppendResult.Duplicate d = (AppendResult.Duplicate) result;
            // a retry of an append whose producer row no longer names its seqs has none to report
            if (d.firstSeq() != null) out.put("firstSeq", d.firstSeq()).put("lastSeq", d.lastSeq());
            else out.putNull("firstSeq").putNull("lastSeq");
            out.put("duplicate", true);
        }
        out.set("runs", runs);
        out.set("control", control);
        return HttpReply.json(200, Json.write(out));
    }

    /** A fenced agent learns why, and what it must obey, from the refusal itself. */
    private static ApiProblem withControl(ApiProblem p, ArrayNode runs, ArrayNode control) {
        return p.status() == 409 ? p.with("runs", runs).with("control", control) : p;
    }

    public HttpReply events(Principal who, String sessionId, Map<String, String> query) {
        requireRead(who, sessionId);
        long after = intParam(query, "afterSeq", 0, 0, Limits.MAX_SAFE_INTEGER);
        int limit = (int) intParam(query, "limit", DEFAULT_EVENTS_PAGE, 1, MAX_EVENTS_PAGE);
        existing(sessionId);
        EventPage page = services.sessions().readAfter(sessionId, after, limit);
        ObjectNode out = Json.object().put("sessionId", sessionId);
        ArrayNode events = out.putArray("events");
        for (StoredEvent e : page.events()) events.add(Json.parseObject(e.json()));
        out.put("nextAfterSeq", page.lastSeq(after)).put("more", page.more());
        return HttpReply.json(200, Json.write(out));
    }

    public HttpReply snapshot(Principal who, String sessionId) {
        requireRead(who, sessionId);
        existing(sessionId);
        Hydration h = services.sessions().hydrate(sessionId);
        ObjectNode out = Json.object()
                .put("sessionId", sessionId)
                .put("headSeq", h.state().headSeq());
        out.set("state", h.state().toNode());
        String body = Json.write(out);
        int size = body.getBytes(StandardCharsets.UTF_8).length;
        if (size > Limits.MAX_HTTP_SNAPSHOT_BYTES) {
            // one HTTP answer cannot carry it; the WebSocket hydrate sends it in parts of one message each
            throw new ProtocolException(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    "the snapshot is " + size + " bytes, over the "
                            + Limits.MAX_HTTP_SNAPSHOT_BYTES
                            + " an HTTP answer carries: hydrate over the WebSocket, or page "
                            + "through GET .../events",
                    Json.object().put("size", size).put("limit", Limits.MAX_HTTP_SNAPSHOT_BYTES));
        }
        return HttpReply.json(200, body);
    }

    // ------------------------------------------------------------------ runs

    public HttpReply control(Principal who, String sessionId, String runId, String body) {
        Control c = (Control) asMessage("control", body, sessionId, runId);
        Authorization.check(c, who);
        AppendResult result = controller.control(c, caller(who));
        if (!(result instanceof AppendResult.Appended recorded)) throw ApiProblem.of(result);
        ObjectNode out = Json.object()
                .put("sessionId", sessionId)
                .put("runId", runId)
                .put("command", c.command().wire())
                .put("seq", recorded.firstSeq());
        return HttpReply.json(200, Json.write(out));
    }

    public HttpReply acknowledge(Principal who, String sessionId, String runId, String body) {
        ObjectNode in = object(body);
        for (var it = in.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("controlSeq")) throw ProtocolException.invalid(f, "is not a field of an acknowledgement");
        }
        long controlSeq = Fields.safeInteger(in, "controlSeq");
        Authorization.require(who, Capability.AGENT, sessionId); // an agent's act on its run
        RunControl rc = catalog.runControl(sessionId, runId);
        if (rc == null) throw ApiProblem.of(new AppendResult.RunNotFound(runId));
        if (!who.subject().equals(rc.run().agentId())) { // the same refusal as the store's heartbeat
            throw ApiProblem.of(new AppendResult.NotOwner("runId", runId));
        }
        // never past the control the run has actually received: a future stop must not be pre-acknowledged
        long known = rc.pendingSeqs().isEmpty()
                ? rc.controlAckSeq()
                : rc.pendingSeqs().get(rc.pendingSeqs().size() - 1);
        long acked = Math.min(controlSeq, known);
        if (acked > rc.controlAckSeq()) catalog.acknowledgeControl(sessionId, runId, acked);
        ObjectNode out = Json.object()
                .put("sessionId", sessionId)
                .put("runId", runId)
                .put("controlAckSeq", Math.max(acked, rc.controlAckSeq()));
        RunRow run = rc.run();
        // every control seq of a run after its stoppedAtSeq is its stop: acknowledging it ends the run
        if (run.state() == RunState.STOP_REQUESTED && run.stoppedAtSeq() != null && acked > run.stoppedAtSeq()) {
            // posted from the store's hook, like every append: before the compaction its run.stopped triggers
            AppendResult r = services.sessions()
                    .append(
                            new AppendRequest(
                                    sessionId,
                                    who.subject(),
                                    null,
                                    List.of(EventInput.of(EventType.RUN_STOP_ACKNOWLEDGED, runId, Json.object()))),
                            appended -> direct.deliver(sessionId, appended));
            if (r instanceof AppendResult.Appended ap) {
                out.put("stopAcknowledgedSeq", ap.firstSeq());
                // the run.stopped recorded with it is the agent's own doing: nothing left to tell it
                catalog.acknowledgeControl(sessionId, runId, ap.lastSeq());
                out.put("controlAckSeq", ap.lastSeq());
            } else if (!(r instanceof AppendResult.RunFenced || r instanceof AppendResult.InvalidTransition)) {
                throw ApiProblem.of(r);
            }
        }
        RunRow now = services.sessions().run(sessionId, runId);
        out.put("state", now.state().wire());
        return HttpReply.json(200, Json.write(out));
    }

    public HttpReply heartbeat(Principal who, String sessionId, String runId) {
        Authorization.require(who, Capability.AGENT, sessionId);
        AppendResult result = controller.heartbeat(new Heartbeat(null, sessionId, runId), caller(who));
        ArrayNode runs = Json.MAPPER.createArrayNode();
        ArrayNode control = Json.MAPPER.createArrayNode();
        pending(sessionId, runId, runs, control);
        if (!(result instanceof AppendResult.Noted)) throw withControl(ApiProblem.of(result), runs, control);
        ObjectNode out = Json.object().put("sessionId", sessionId);
        out.set("runs", runs);
        out.set("control", control);
        return HttpReply.json(200, Json.write(out));
    }

    // ------------------------------------------------------------------ helpers

    /** The run's state and its control events the agent has not acknowledged (one GetItem + one BatchGet). */
    private void pending(String sessionId, String runId, ArrayNode runs, ArrayNode control) {
        RunControl rc = catalog.runControl(sessionId, runId);
        if (rc == null) return;
        ObjectNode r =
                Json.object().put("runId", runId).put("state", rc.run().state().wire());
        if (rc.run().stoppedAtSeq() != null) r.put("stoppedAtSeq", rc.run().stoppedAtSeq());
        else r.putNull("stoppedAtSeq");
        r.put("controlAckSeq", rc.controlAckSeq());
        runs.add(r);
        for (StoredEvent e : catalog.events(sessionId, rc.pendingSeqs())) control.add(Json.parseObject(e.json()));
    }

    /** The body as the WebSocket message of that action, parsed and validated by the same code. */
    private static ClientMessage asMessage(String action, String body, String sessionId, String runId) {
        ObjectNode in = object(body);
        for (String reserved : List.of("action", "sessionId", "requestId")) {
            if (in.has(reserved)) throw ProtocolException.invalid(reserved, "is given by the URL, not the body");
        }
        if (runId != null && in.has("runId"))
            throw ProtocolException.invalid("runId", "is given by the URL, not the body");
        ObjectNode msg = Json.object().put("action", action).put("sessionId", sessionId);
        if (runId != null) msg.put("runId", runId);
        msg.setAll(in);
        return ClientMessages.parse(Json.write(msg));
    }

    private static ObjectNode object(String body) {
        if (body == null || body.isBlank())
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "the body must be a JSON object");
        if (body.length() > Limits.MAX_MESSAGE_BYTES
                || body.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_MESSAGE_BYTES) {
            throw new ProtocolException(
                    ErrorCode.MESSAGE_TOO_LARGE, "the body exceeds " + Limits.MAX_MESSAGE_BYTES + " bytes");
        }
        return Json.parseObject(body);
    }

    private static void requireRead(Principal who, String sessionId) {
        Authorization.require(who, Capability.READ, sessionId);
    }

    private SessionInfo existing(String sessionId) {
        SessionInfo info = catalog.describe(sessionId);
        if (info == null)
            throw ApiProblem.of(ErrorCode.SESSION_NOT_FOUND, "session '" + sessionId + "' does not exist");
        return info;
    }

    private Connection caller(Principal who) {
        return new Connection(
                "http", who, null, "http", "http", services.clock().millis());
    }

    private static ObjectNode describe(SessionInfo s) {
        ObjectNode n = Json.object()
                .put("sessionId", s.sessionId())
                .put("owner", s.owner())
                .put("title", s.title());
        if (s.metadataJson() != null) n.set("metadata", Json.parseObject(s.metadataJson()));
        else n.putNull("metadata");
        if (s.createdAt() != null) n.put("createdAt", s.createdAt());
        else n.putNull("createdAt");
        if (s.expiresAt() != null) n.put("expiresAt", s.expiresAt());
        else n.putNull("expiresAt");
        n.put("headSeq", s.head());
        return n;
    }

    private static ObjectNode run(RunRow r) {
        ObjectNode n = Json.object()
                .put("runId", r.runId())
                .put("agentId", r.agentId())
                .put("parentRunId", r.parentRunId())
                .put("state", r.state() == null ? null : r.state().wire())
                .put("startedSeq", r.startedSeq())
                .put("lastSeq", r.lastSeq());
        if (r.stoppedAtSeq() != null) n.put("stoppedAtSeq", r.stoppedAtSeq());
        else n.putNull("stoppedAtSeq");
        return n;
    }

    static long intParam(Map<String, String> query, String name, long fallback, long min, long max) {
        String v = query.get(name);
        if (v == null) return fallback;
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ProtocolException.invalid(name, "must be an integer");
        }
        if (n < min || n > max) throw ProtocolException.invalid(name, "must be between " + min + " and " + max);
        return n;
    }
}
