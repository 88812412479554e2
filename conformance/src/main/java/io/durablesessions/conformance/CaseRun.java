package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/** One case being run: its variables, connections and log marks, and the interpreter of its steps. */
final class CaseRun {
    private static final AtomicInteger REQUESTS = new AtomicInteger();

    final Kit kit;
    final Case c;
    final int no;
    final Vars vars = new Vars(null);
    final Kit.Connections conns = new Kit.Connections();
    final Map<String, List<ObjectNode>> marks = new ConcurrentHashMap<>();
    private final Map<String, String> specialTokens = new ConcurrentHashMap<>();
    /** Set when a parallel branch failed: the others stop at their next step. */
    private final AtomicBoolean cancelled = new AtomicBoolean();

    final Checks checks;

    CaseRun(Kit kit, Case c, int no) {
        this.kit = kit;
        this.c = c;
        this.no = no;
        this.checks = new Checks(this);
        Options o = kit.options;
        String session = o.prefix() + kit.runTag + "." + c.id();
        vars.put("session", session);
        vars.put("session2", session + ".2");
        vars.put("session3", session + ".3");
        vars.put("prefix", o.prefix());
        vars.put("run", kit.runTag);
        vars.put("case", c.id());
        vars.put("answerTimeout", seconds(o.answerTimeout()));
        vars.put("eventTimeout", seconds(o.eventTimeout()));
        vars.put("livenessTimeout", seconds(o.livenessTimeout()));
        vars.put("stopAckTimeout", seconds(o.stopAckTimeout()));
        vars.put("presenceGrace", seconds(o.presenceGrace()));
        // how long to wait for the service to act on its own: its timeout, one sweep, one delivery
        vars.put(
                "livenessWait",
                seconds(o.livenessTimeout().plus(o.sweepInterval()).plus(o.eventTimeout())));
        vars.put(
                "stopAckWait",
                seconds(o.stopAckTimeout().plus(o.sweepInterval()).plus(o.eventTimeout())));
        vars.put("graceWait", seconds(o.presenceGrace().plus(o.sweepInterval()).plus(o.eventTimeout())));
        vars.put(
                "tokenExpiryWait",
                seconds(Duration.ofSeconds(o.expiringSeconds()).plus(o.eventTimeout())));
        // a heartbeat often enough that a run never comes near its liveness timeout
        vars.put("heartbeatEvery", seconds(o.livenessTimeout().dividedBy(5)));
        vars.put("presenceBudget", o.presenceBudget());
        vars.put("presenceOverBudget", o.presenceBudget() + 5);
        vars.put("rateLimit", o.messagesPerSecond());
        vars.put("rateLimitNinetyPercent", DoubleNode.valueOf(o.messagesPerSecond() * 0.9));
        for (String p : Principals.ALL.keySet()) {
            try {
                vars.put(p, kit.subject(p, null, no));
            } catch (Skip noToken) {
                // a token file without this principal: cases that use it are skipped when they connect
            }
        }
    }

    private static DoubleNode seconds(Duration d) {
        return DoubleNode.valueOf(d.toMillis() / 1000.0);
    }

    void closeAll() {
        for (Conn cn : conns.all) {
            try {
                cn.abort();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
    }

    // ------------------------------------------------------------------ steps

    void steps(List<Case.Step> steps, Vars scope) {
        for (Case.Step s : steps) {
            if (cancelled.get()) throw new Kit.StepFailure(s.describe(), "stopped: another parallel branch failed");
            try {
                step(s, scope);
            } catch (Kit.StepFailure | Skip e) {
                throw e;
            } catch (CaseFailure | IllegalArgumentException | IllegalStateException | ClassCastException e) {
                throw new Kit.StepFailure(s.describe(), e.getMessage());
            }
        }
    }

    private void step(Case.Step s, Vars scope) {
        switch (s.kind()) {
            case "connect" -> connect(s.obj(), scope);
            case "send" -> send(s.obj(), scope);
            case "answer" -> answer(s.obj(), scope);
            case "await" -> await(s.obj(), scope);
            case "abort" -> conns.get(scope.string(s.args().asText())).abort();
            case "close" -> conns.get(scope.string(s.args().asText())).close();
            case "http" -> http(s.obj(), scope);
            case "loop" -> loop(s, scope);
            case "parallel" -> parallel(s, scope);
            case "eventually" -> eventually(s, scope);
            case "check" -> checks.run(s.obj(), scope);
            case "set" -> {
                for (Map.Entry<String, JsonNode> e : s.obj().properties()) {
                    scope.capture(e.getKey(), scope.subst(e.getValue()));
                }
            }
            case "markLog" -> marks.put(scope.string(s.obj().get("as").asText()), checks.log(session(s.obj(), scope)));
            case "lastSeq" -> {
                Conn cn = conns.get(scope.string(s.obj().get("on").asText()));
                String session = session(s.obj(), scope);
                long last = ReaderRule.apply(
                                cn.starts.getOrDefault(session, 0L), Conn.eventFrames(cn.frames(), session))
                        .last();
                scope.capture(s.obj().get("as").asText(), LongNode.valueOf(last));
            }
            case "rawFrame" -> rawFrame(s.obj(), scope);
            case "paced" -> paced(s.obj(), scope);
            default -> throw new CaseFailure("unknown step " + s.kind());
        }
    }

    String session(ObjectNode args, Vars scope) {
        return args.has("session")
                ? scope.string(args.get("session").asText())
                : scope.get("session").asText();
    }

    Duration duration(JsonNode n, Vars scope, Duration fallback) {
        if (n == null || n.isNull()) return fallback;
        JsonNode v = scope.subst(n);
        if (v.isNumber()) return Duration.ofMillis((long) (v.asDouble() * 1000));
        String t = v.asText().trim();
        if (t.endsWith("ms"))
            return Duration.ofMillis(
                    Long.parseLong(t.substring(0, t.length() - 2).trim()));
        if (t.endsWith("s"))
            return Duration.ofMillis((long)
                    (Double.parseDouble(t.substring(0, t.length() - 1).trim()) * 1000));
        if (t.endsWith("m"))
            return Duration.ofMillis((long)
                    (Double.parseDouble(t.substring(0, t.length() - 1).trim()) * 60_000));
        return Duration.ofMillis((long) (Double.parseDouble(t) * 1000));
    }

    private String principalSubject(ObjectNode a, Vars scope) {
        String principal = scope.string(a.path("principal").asText(a.path("as").asText(null)));
        String fresh = a.has("subject") ? scope.string(a.get("subject").asText()) : null;
        String subject = kit.subject(principal, fresh, no);
        if (fresh != null) scope.capture(fresh, TextNode.valueOf(subject));
        return subject;
    }

    // ------------------------------------------------------------------ connect

    private void connect(ObjectNode a, Vars scope) {
        TokenSource.Variant variant =
                TokenSource.Variant.of(scope.string(a.path("token").asText("valid")));
        String principal = a.has("principal") ? scope.string(a.get("principal").asText()) : null;
        String name = scope.string(a.path("as").asText(principal == null ? "anonymous" : principal));
        String token = null;
        if (variant != TokenSource.Variant.NONE) {
            if (principal == null) throw new CaseFailure("a token needs a principal");
            String subject = kit.subject(
                    principal, a.has("subject") ? scope.string(a.get("subject").asText()) : null, no);
            if (a.has("subject")) scope.capture(scope.string(a.get("subject").asText()), TextNode.valueOf(subject));
            token = token(principal, subject, variant);
        }
        String via =
                scope.string(a.path("via").asText(kit.options.tokenVia().equals("protocol") ? "protocol" : "query"));
        StringBuilder query = new StringBuilder();
        if (token != null && via.equals("query")) query.append("token=").append(Kit.encode(token));
        if (a.has("query")) {
            JsonNode q = scope.subst(a.get("query"));
            for (Map.Entry<String, JsonNode> e : q.properties()) {
                if (!query.isEmpty()) query.append('&');
                query.append(Kit.encode(e.getKey()))
                        .append('=')
                        .append(Kit.encode(e.getValue().asText()));
            }
        }
        List<String> protocols =
                token != null && via.equals("protocol") ? List.of("durable-sessions", "token." + token) : List.of();
        URI uri = URI.create(kit.options.ws() + (query.isEmpty() ? "" : "?" + query));
        int expect = a.has("expect") ? scope.subst(a.get("expect")).asInt() : 101;
        try {
            Conn cn = Conn.open(kit.http, name, uri, protocols, kit.options.answerTimeout());
            conns.all.add(cn);
            conns.byName.put(name, cn);
            if (expect != 101) {
                throw new CaseFailure("handshake of " + name + " succeeded (101), expected HTTP " + expect);
            }
        } catch (Conn.HandshakeRefused r) {
            if (r.status != expect) {
                throw new CaseFailure("handshake of " + name + " refused with HTTP " + r.status + ", expected "
                        + (expect == 101 ? "success (101)" : "HTTP " + expect));
            }
        }
    }

    // ------------------------------------------------------------------ send / answer / await

    private void send(ObjectNode a, Vars scope) {
        Conn cn = conns.get(scope.string(a.get("on").asText()));
        String rid;
        int from = cn.frameCount();
        boolean sent;
        if (a.has("frame")) {
            JsonNode f = scope.subst(a.get("frame"));
            if (!(f instanceof ObjectNode frame)) throw new CaseFailure("a frame is a JSON object");
            if (!frame.has("requestId")) frame.put("requestId", "k" + REQUESTS.incrementAndGet());
            if (frame.get("requestId").isNull()) frame.remove("requestId"); // requestId: null sends none
            rid = frame.path("requestId").isTextual() ? frame.get("requestId").asText() : null;
            remember(a, scope, cn, rid, rid != null ? frame : null, from);
            sent = cn.sendText(Jsons.write(frame));
        } else if (a.has("raw")) {
            String text = scope.string(a.get("raw").asText());
            rid = Kit.requestIdOf(text);
            remember(a, scope, cn, rid, null, from);
            sent = cn.sendText(text);
        } else {
            rid = null;
            remember(a, scope, cn, null, null, from);
            sent = cn.sendBinary(Kit.base64(scope.string(a.get("binary").asText())));
        }
        boolean wait = !a.has("wait") || a.get("wait").asBoolean();
        // orClosed: the service may have closed the connection instead of answering (e.g. a revoked
        // subject's socket, closed by whichever delivery came first); closed, the step passes
        boolean orClosed = a.path("orClosed").asBoolean(false);
        if (!sent && wait && orClosed) return;
        if (!sent && wait)
            throw new CaseFailure("could not send on " + cn.name + " (closed with " + cn.closeCode() + ")");
        if (!wait) return;
        Conn.Frame answer;
        try {
            answer = awaitAnswer(cn, rid, from, duration(a.get("timeout"), scope, kit.options.answerTimeout()));
        } catch (CaseFailure noAnswer) {
            if (orClosed && cn.closeCode() != null) return;
            throw noAnswer;
        }
        expectAnswer(a, scope, cn, answer);
    }

    private void remember(ObjectNode a, Vars scope, Conn cn, String rid, ObjectNode frame, int from) {
        register(
                cn,
                a.has("name") ? scope.string(a.get("name").asText()) : null,
                rid != null ? rid : "#" + from,
                frame,
                from);
    }

    /**
     * A request about to go out on {@code cn}: its frame (which answers are checked against; null when it
     * has no requestId), the frame count its answer is looked for from, and its name for {@code answer} steps.
     */
    private static void register(Conn cn, String name, String key, ObjectNode frame, int from) {
        if (frame != null) cn.sentFrames.put(key, frame);
        cn.sentAt.put(key, from);
        if (name != null) cn.requests.put(name, key);
    }

    private void answer(ObjectNode a, Vars scope) {
        Conn cn = conns.get(scope.string(a.get("on").asText()));
        String name = scope.string(a.get("request").asText());
        String key = cn.requests.get(name);
        if (key == null) throw new CaseFailure("no request named '" + name + "' was sent on " + cn.name);
        Conn.Frame answer = awaitAnswer(
                cn,
                key.startsWith("#") ? null : key,
                cn.sentAt.get(key),
                duration(a.get("timeout"), scope, kit.options.answerTimeout()));
        expectAnswer(a, scope, cn, answer);
    }

    /**
     * The answer to a request: the first frame (other than a snapshot part) repeating its requestId;
     * for a request without one, the first error frame without a requestId that came after it.
     */
    Conn.Frame awaitAnswer(Conn cn, String rid, int from, Duration timeout) {
        Conn.Frame f = cn.await(
                from,
                x -> x.json() != null
                        && !"snapshot".equals(x.type())
                        && !"events".equals(x.type())
                        && (rid != null
                                ? rid.equals(x.requestId())
                                : x.requestId() == null && "error".equals(x.type())),
                timeout);
        if (f == null) {
            Integer closed = cn.closeCode();
            throw new CaseFailure("no answer" + (rid != null ? " to requestId " + rid : "") + " on " + cn.name
                    + " within "
                    + timeout.toMillis() + " ms" + (closed != null ? " (connection closed with " + closed + ")" : "")
                    + "; last frames: " + lastFrames(cn, 3));
        }
        return f;
    }

    static String lastFrames(Conn cn, int n) {
        List<Conn.Frame> all = cn.frames();
        StringBuilder sb = new StringBuilder();
        for (int i = Math.max(0, all.size() - n); i < all.size(); i++)
            sb.append(Jsons.brief(all.get(i).text(), 200)).append(' ');
        return sb.isEmpty() ? "(none)" : sb.toString().trim();
    }

    private void expectAnswer(ObjectNode a, Vars scope, Conn cn, Conn.Frame answer) {
        if (a.has("expect")) {
            List<JsonNode> alternatives = alternatives(scope.subst(a.get("expect")));
            if (!Match.matchesAny(alternatives, answer.json())) {
                throw new CaseFailure("answer on " + cn.name + " was " + Jsons.brief(answer.text(), 400) + "; expected "
                        + describeAlternatives(alternatives, answer.json()));
            }
        }
        noteSubscription(cn, answer);
        capture(a, scope, answer.json());
    }

    /**
     * Where the client rule starts on this connection for a session: the {@code afterSeq} of its
     * first accepted subscribe, or the head of its first hydrate. A refused subscribe starts nothing.
     */
    static void noteSubscription(Conn cn, Conn.Frame answer) {
        if (!"subscribed".equals(answer.type()) || answer.requestId() == null) return;
        ObjectNode request = cn.sentFrames.get(answer.requestId());
        if (request == null) return;
        String session = answer.json().path("sessionId").asText();
        if (request.path("hydrate").asBoolean(false))
            cn.starts.putIfAbsent(session, answer.json().path("headSeq").asLong());
        else if (request.path("afterSeq").isIntegralNumber())
            cn.starts.putIfAbsent(session, request.get("afterSeq").asLong());
    }

    static List<JsonNode> alternatives(JsonNode expect) {
        List<JsonNode> out = new ArrayList<>();
        if (expect.isArray()) expect.forEach(out::add);
        else out.add(expect);
        return out;
    }

    static String describeAlternatives(List<JsonNode> alternatives, JsonNode actual) {
        if (alternatives.size() == 1)
            return Jsons.brief(alternatives.get(0), 300) + " (" + Match.mismatch(alternatives.get(0), actual) + ")";
        StringBuilder sb = new StringBuilder("one of");
        for (JsonNode e : alternatives) sb.append(' ').append(Jsons.brief(e, 200));
        return sb.toString();
    }

    void capture(ObjectNode a, Vars scope, JsonNode from) {
        if (!a.has("capture")) return;
        for (Map.Entry<String, JsonNode> e : a.get("capture").properties()) {
            String path = scope.string(e.getValue().asText());
            JsonNode v = Jsons.at(from, path);
            if (v == null)
                throw new CaseFailure("cannot capture " + scope.string(e.getKey()) + ": nothing at '" + path + "' in "
                        + Jsons.brief(from, 300));
            scope.capture(scope.string(e.getKey()), v.deepCopy());
        }
    }

    private void await(ObjectNode a, Vars scope) {
        Conn cn = conns.get(scope.string(a.get("on").asText()));
        String session = session(a, scope);
        Duration timeout = duration(a.get("timeout"), scope, kit.options.eventTimeout());
        if (a.has("seqs")) {
            long n = scope.subst(a.get("seqs")).asLong();
            long start = cn.starts.getOrDefault(session, 0L);
            boolean ok = cn.awaitCondition(
                    fs -> ReaderRule.apply(start, Conn.eventFrames(fs, session)).last() >= n, timeout);
            if (!ok) {
                ReaderRule.Result r = ReaderRule.apply(start, Conn.eventFrames(cn.frames(), session));
                throw new CaseFailure(
                        cn.name + " did not hold seqs " + (start + 1) + ".." + n + " of " + session + " within "
                                + timeout.toMillis() + " ms: applied up to " + r.last() + ", holding " + r.buffered()
                                + (cn.closeCode() != null ? ", connection closed with " + cn.closeCode() : ""));
            }
        }
        if (a.has("event")) {
            JsonNode expected = scope.subst(a.get("event"));
            int count = a.has("count") ? scope.subst(a.get("count")).asInt() : 1;
            AtomicReference<JsonNode> found = new AtomicReference<>();
            boolean ok = cn.awaitCondition(
                    fs -> {
                        List<JsonNode> hits = matchingEvents(fs, session, expected);
                        if (hits.size() >= count) found.set(hits.get(0));
                        return hits.size() >= count;
                    },
                    timeout);
            if (!ok) {
                JsonNode sameType =
                        expected.has("type") ? Jsons.object().set("type", expected.get("type")) : Jsons.object();
                List<JsonNode> near = matchingEvents(cn.frames(), session, sameType);
                throw new CaseFailure(cn.name + " received no" + (count > 1 ? " " + count : "") + " event matching "
                        + Jsons.brief(expected, 300) + " in " + session + " within " + timeout.toMillis() + " ms (got "
                        + matchingEvents(cn.frames(), session, expected).size() + "); "
                        + (near.isEmpty()
                                ? "none of that type"
                                : "of that type: "
                                        + Jsons.brief(
                                                arrayOf(near.subList(Math.max(0, near.size() - 3), near.size())), 600)
                                        + " (" + Match.mismatch(expected, near.get(near.size() - 1)) + ")"));
            }
            capture(a, scope, found.get());
        }
        if (a.has("frame")) {
            JsonNode expected = scope.subst(a.get("frame"));
            Conn.Frame f = cn.await(0, x -> x.json() != null && Match.mismatch(expected, x.json()) == null, timeout);
            if (f == null) {
                throw new CaseFailure(cn.name + " received no frame matching " + Jsons.brief(expected, 300) + " within "
                        + timeout.toMillis() + " ms; last frames: " + lastFrames(cn, 3));
            }
            capture(a, scope, f.json());
        }
        if (a.has("closed")) {
            JsonNode want = scope.subst(a.get("closed"));
            Integer code = cn.awaitClosed(timeout);
            if (code == null)
                throw new CaseFailure(
                        cn.name + " is still open after " + timeout.toMillis() + " ms, expected a close " + want);
            if (!want.asText().equals("any") && want.asInt() != code) {
                throw new CaseFailure(cn.name + " closed with " + code + ", expected " + want.asText());
            }
        }
    }

    /** Distinct events (by seq) of a session received on a connection that match. */
    static List<JsonNode> matchingEvents(List<Conn.Frame> frames, String session, JsonNode expected) {
        Map<Long, JsonNode> hits = new LinkedHashMap<>();
        for (JsonNode arr : Conn.eventFrames(frames, session)) {
            for (JsonNode e : arr)
                if (Match.mismatch(expected, e) == null)
                    hits.putIfAbsent(e.path("seq").asLong(), e);
        }
        return new ArrayList<>(hits.values());
    }

    // ------------------------------------------------------------------ http

    /** An HTTP answer: status, headers, body text and (when it is JSON) the body. */
    record HttpAnswer(int status, Map<String, List<String>> headers, String text, JsonNode json) {
        ObjectNode asNode() {
            ObjectNode n = Jsons.object();
            n.put("status", status);
            ObjectNode h = n.putObject("headers");
            headers.forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
            n.set("body", json == null ? TextNode.valueOf(text) : json);
            return n;
        }
    }

    HttpAnswer httpCall(
            String method, String path, String token, String body, Map<String, String> headers, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(kit.options.http() + path))
                .timeout(timeout)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (body != null && !headers.containsKey("Content-Type")) b.header("Content-Type", "application/json");
        headers.forEach(b::header);
        try {
            HttpResponse<String> r =
                    kit.http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            JsonNode json = null;
            if (!r.body().isEmpty()) {
                try {
                    json = Jsons.parse(r.body());
                } catch (IllegalArgumentException notJson) {
                    json = null;
                }
            }
            HttpAnswer answer = new HttpAnswer(r.statusCode(), r.headers().map(), r.body(), json);
            problemInvariant(method + " " + path, answer);
            return answer;
        } catch (IOException e) {
            throw new CaseFailure(method + " " + path + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CaseFailure("interrupted");
        }
    }

    /** [error.codes] on the HTTP API: a problem's code is one of the protocol's, with its status. */
    private static void problemInvariant(String request, HttpAnswer a) {
        String type = a.headers().entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase("content-type"))
                .flatMap(e -> e.getValue().stream())
                .findFirst()
                .orElse("");
        if (!type.startsWith("application/problem+json")) return;
        String code = a.json() == null ? null : a.json().path("code").asText(null);
        Integer status = code == null ? null : Kit.statusOf(code);
        if (status == null) {
            throw new CaseFailure(request + ": problem code " + code + " is not one of docs/protocol.md's: "
                    + Jsons.brief(a.text(), 300));
        }
        if (status != a.status() || a.json().path("status").asInt() != a.status()) {
            throw new CaseFailure(
                    request + ": " + code + " must be HTTP " + status + " (docs/protocol.md, HTTP API errors), got "
                            + a.status() + " with status field " + a.json().path("status"));
        }
    }

    private void http(ObjectNode a, Vars scope) {
        String method = scope.string(a.path("method").asText("GET"));
        String path = scope.string(a.get("path").asText());
        TokenSource.Variant variant =
                TokenSource.Variant.of(scope.string(a.path("token").asText(a.has("as") ? "valid" : "none")));
        String token = null;
        if (variant != TokenSource.Variant.NONE) {
            if (!a.has("as")) throw new CaseFailure("a token needs a principal ('as')");
            String principal = scope.string(a.get("as").asText());
            token = token(principal, principalSubject(a, scope), variant);
        }
        String body = a.has("body")
                ? Jsons.write(scope.subst(a.get("body")))
                : a.has("raw") ? scope.string(a.get("raw").asText()) : null;
        Map<String, String> headers = new LinkedHashMap<>();
        if (a.has("headers"))
            scope.subst(a.get("headers"))
                    .properties()
                    .forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
        HttpAnswer r = httpCall(
                method, path, token, body, headers, duration(a.get("timeout"), scope, kit.options.answerTimeout()));
        if (a.has("expect")) {
            JsonNode e = scope.subst(a.get("expect"));
            String why = httpMismatch(e, r);
            if (why != null)
                throw new CaseFailure(method + " " + path + " answered " + r.status() + " " + Jsons.brief(r.text(), 400)
                        + ": " + why);
        }
        capture(a, scope, r.asNode());
    }

    private static String httpMismatch(JsonNode e, HttpAnswer r) {
        if (e.has("status")) {
            JsonNode s = e.get("status");
            boolean ok = s.isArray() ? contains(s, r.status()) : s.asInt() == r.status();
            if (!ok) return "expected status " + s;
        }
        if (e.has("problem")) {
            String code = e.get("problem").asText();
            String type = r.asNode().path("headers").path("content-type").asText("");
            if (!type.startsWith("application/problem+json"))
                return "expected application/problem+json, got '" + type + "'";
            if (r.json() == null || !code.equals(r.json().path("code").asText()))
                return "expected problem code " + code;
            for (String f : List.of("type", "title", "status", "detail", "code")) {
                if (!r.json().has(f)) return "a problem has " + f + " (RFC 9457 and docs/protocol.md)";
            }
        }
        if (e.has("body")) {
            if (r.json() == null) return "expected a JSON body";
            String m = Match.mismatch(e.get("body"), r.json());
            if (m != null) return "body " + m;
        }
        if (e.has("headers")) {
            String m = Match.mismatch(e.get("headers"), r.asNode().get("headers"));
            if (m != null) return "headers " + m;
        }
        return null;
    }

    private static boolean contains(JsonNode arr, int v) {
        for (JsonNode x : arr) if (x.asInt() == v) return true;
        return false;
    }

    /**
     * A token; a wrong one (e.g. expiring) is minted once per case, so a case that polls with it
     * keeps using the same token until it expires.
     */
    String token(String principal, String subject, TokenSource.Variant variant) {
        if (variant == TokenSource.Variant.VALID || variant == TokenSource.Variant.NONE)
            return kit.token(principal, subject, variant);
        return specialTokens.computeIfAbsent(
                principal + "|" + subject + "|" + variant, k -> kit.token(principal, subject, variant));
    }

    /** A token of a principal (for checks that read the log). */
    String tokenOf(String principal) {
        return kit.token(principal, kit.subject(principal, null, no), TokenSource.Variant.VALID);
    }

    // ------------------------------------------------------------------ control flow

    /**
     * {@code paced: {on, frame, perSecond, seconds, senders, name, as}}: sends {@code frame} at
     * {@code perSecond} in all for {@code seconds}, from {@code senders} threads each on its own
     * schedule (offset from the others), without waiting for answers. Each copy gets its own
     * requestId and the request name {@code name<k>} (for {@code answerCounts}); {@code as} captures how
     * many were sent.
     */
    private void paced(ObjectNode a, Vars scope) {
        Conn cn = conns.get(scope.string(a.get("on").asText()));
        double perSecond = scope.subst(a.get("perSecond")).asDouble();
        Duration length = duration(a.get("seconds"), scope, Duration.ofSeconds(1));
        int senders = a.has("senders") ? scope.subst(a.get("senders")).asInt() : 1;
        if (perSecond <= 0 || senders < 1) throw new CaseFailure("paced needs perSecond > 0 and senders >= 1");
        String name = scope.string(a.path("name").asText("paced"));
        JsonNode template = scope.subst(a.get("frame"));
        if (!(template instanceof ObjectNode)) throw new CaseFailure("a frame is a JSON object");
        long interval = (long) (senders * 1e9 / perSecond);
        long perSender = Math.max(1, length.toNanos() / interval);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger unsent = new AtomicInteger();
        long begin = System.nanoTime() + 20_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < senders; t++) {
            long offset = t * interval / senders;
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                for (long i = 0; i < perSender && !cancelled.get(); i++) {
                    // pacing a load to a schedule, not waiting for a result
                    LockSupport.parkNanos(begin + offset + i * interval - System.nanoTime());
                    int k = next.getAndIncrement();
                    ObjectNode frame = ((ObjectNode) template).deepCopy();
                    String rid = name + "-" + kit.runTag + "-" + k;
                    frame.put("requestId", rid);
                    register(cn, name + k, rid, frame, cn.frameCount());
                    if (!cn.sendText(Jsons.write(frame))) unsent.incrementAndGet();
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CaseFailure("interrupted while sending");
            }
        }
        if (unsent.get() > 0)
            throw new CaseFailure(unsent.get() + " of " + next.get() + " frames could not be sent on " + cn.name
                    + " (closed with " + cn.closeCode() + ")");
        if (a.has("as")) scope.capture(a.get("as").asText(), IntNode.valueOf(next.get()));
    }

    private void loop(Case.Step s, Vars scope) {
        ObjectNode a = s.obj();
        int times = scope.subst(a.get("times")).asInt();
        int from = a.has("from") ? scope.subst(a.get("from")).asInt() : 0;
        String var = a.path("var").asText("i");
        for (int k = 0; k < times; k++) {
            Vars inner = scope.child();
            inner.put(var, IntNode.valueOf(from + k));
            steps(s.steps(), inner);
        }
    }

    private void parallel(Case.Step s, Vars scope) {
        Map<String, Future<?>> running = new LinkedHashMap<>();
        Map<String, RuntimeException> failures = new ConcurrentHashMap<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var b : s.branches().entrySet()) {
                Vars inner = scope.child();
                running.put(b.getKey(), pool.submit(() -> {
                    try {
                        steps(b.getValue(), inner);
                    } catch (RuntimeException e) {
                        failures.put(b.getKey(), e);
                        cancelled.set(true);
                    }
                }));
            }
            for (Future<?> f : running.values()) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new CaseFailure("branch failed: " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CaseFailure("interrupted");
                }
            }
        }
        cancelled.set(false);
        // report the branch that failed first on its own, not the ones it stopped
        for (var e : failures.entrySet()) {
            RuntimeException x = e.getValue();
            if (x instanceof Kit.StepFailure sf && sf.getMessage().startsWith("stopped: another")) continue;
            if (x instanceof Skip skip) throw skip;
            String step = x instanceof Kit.StepFailure sf ? sf.step : s.where() + "." + e.getKey();
            throw new Kit.StepFailure(step, "[branch " + e.getKey() + "] " + x.getMessage());
        }
    }

    private void eventually(Case.Step s, Vars scope) {
        ObjectNode a = s.obj();
        Duration timeout = duration(a.get("timeout"), scope, kit.options.eventTimeout());
        Duration every = duration(a.get("every"), scope, Duration.ofMillis(200));
        long deadline = System.nanoTime() + timeout.toNanos();
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                steps(s.steps(), scope.child());
                return;
            } catch (Kit.StepFailure | CaseFailure e) {
                if (System.nanoTime() + every.toNanos() > deadline) {
                    throw new CaseFailure("not true within " + timeout.toMillis() + " ms (" + attempts
                            + " attempts); last: " + e.getMessage());
                }
            }
            try {
                // a polling interval under a deadline, not a sleep that stands in for a condition
                Thread.sleep(every);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CaseFailure("interrupted");
            }
        }
    }

    // ------------------------------------------------------------------ raw frames

    private void rawFrame(ObjectNode a, Vars scope) {
        String principal = scope.string(a.path("principal").asText("user"));
        String token = token(
                principal,
                principalSubject(a, scope),
                TokenSource.Variant.of(scope.string(a.path("token").asText("valid"))));
        byte[] payload;
        if (a.has("bytes")) {
            payload = Kit.base64(scope.string(a.get("bytes").asText()));
        } else {
            String text = scope.string(a.path("text").asText(""));
            int repeat = a.has("repeat") ? scope.subst(a.get("repeat")).asInt() : 1;
            payload = text.repeat(repeat).getBytes(StandardCharsets.UTF_8);
        }
        URI uri = URI.create(kit.options.ws() + (token == null ? "" : "?token=" + Kit.encode(token)));
        Duration timeout = duration(a.get("timeout"), scope, kit.options.answerTimeout());
        Integer code;
        try {
            code = RawSocket.sendFrameAndAwaitClose(uri, 0x1, payload, timeout);
        } catch (IOException e) {
            throw new CaseFailure("raw WebSocket to " + Conn.redact(uri) + ": " + e.getMessage());
        }
        if (a.has("expectClose")) {
            int want = scope.subst(a.get("expectClose")).asInt();
            if (code == null || code != want) {
                throw new CaseFailure("after a " + payload.length + "-byte frame the server "
                        + (code == null
                                ? "kept the connection open"
                                : code == -1 ? "dropped the connection without a close frame" : "closed with " + code)
                        + ", expected close " + want);
            }
        }
    }

    // ------------------------------------------------------------------ invariants

    /** [error.codes] on the WebSocket: every error frame any connection received carries a code of §5. */
    void invariants() {
        for (Conn cn : conns.all) {
            for (Conn.Frame f : cn.frames()) {
                if (!"error".equals(f.type())) continue;
                String code = f.json().path("code").asText(null);
                String bad = code == null ? "an error frame without a code" : Kit.unknownCode(code);
                if (bad != null)
                    throw new Kit.StepFailure(
                            "(after the steps)", bad + " on " + cn.name + ": " + Jsons.brief(f.text(), 300));
            }
        }
    }

    static ArrayNode arrayOf(List<? extends JsonNode> xs) {
        ArrayNode a = Jsons.array();
        xs.forEach(a::add);
        return a;
    }
}
