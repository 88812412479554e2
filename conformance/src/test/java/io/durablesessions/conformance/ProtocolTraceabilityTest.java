package io.durablesessions.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.Limits;
import io.durablesessions.functions.http.ApiProblem;
import io.durablesessions.functions.runtime.HandlerSettings;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.StoreSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/protocol.md, the kit and the code say the same thing: every requirement id has a case, every
 * case covers ids that exist, every service MUST has an id, and the error tables and limits equal
 * {@link ErrorCode}, {@link Limits} and the configurable defaults. Each failure names the id or row.
 */
class ProtocolTraceabilityTest {
    static final ProtocolDoc DOC = ProtocolDoc.load();
    static final List<Case> CASES = CaseLoader.builtIn();

    @Test
    void everyRequirementIdHasAtLeastOneCase() {
        Set<String> covered = new TreeSet<>();
        CASES.forEach(c -> covered.addAll(c.covers()));
        List<String> missing =
                DOC.ids().stream().filter(id -> !covered.contains(id)).toList();
        assertThat(missing)
                .as("ids of docs/protocol.md that no conformance case covers")
                .isEmpty();
        assertThat(DOC.ids()).as("requirement ids in docs/protocol.md").hasSizeGreaterThan(20);
    }

    @Test
    void everyCoveredIdExistsInTheProtocol() {
        Set<String> ids = DOC.ids();
        List<String> unknown = new ArrayList<>();
        for (Case c : CASES)
            for (String id : c.covers()) if (!ids.contains(id)) unknown.add(c.id() + " covers [" + id + "]");
        assertThat(unknown)
                .as("cases covering ids that docs/protocol.md does not define")
                .isEmpty();
    }

    /**
     * A MUST is a requirement on the service unless its subject is a client, producer, agent or
     * writer ("Clients MUST …", "the agent MUST stop", "MUST be split by the writer"): those are
     * rules for clients, which a kit aimed at a deployment cannot check, and they carry no id. Every
     * other MUST must sit in a paragraph, bullet or table row that carries an id.
     */
    @Test
    void everyMustOnTheServiceCarriesAnId() {
        List<String> bare = new ArrayList<>();
        for (ProtocolDoc.Block b : DOC.blocks()) {
            if (!b.text().contains("MUST") || ProtocolDoc.ID.matcher(b.text()).find()) continue;
            for (String sentence : b.text().split("(?<=[.;:|])\\s+|\\|")) {
                if (!sentence.contains("MUST") || sentence.contains("key words")) continue;
                if (!isClientRequirement(sentence)) bare.add("protocol.md line " + b.line() + ": " + sentence.strip());
            }
        }
        assertThat(bare)
                .as("MUSTs on the service without a **[id]** on their paragraph, bullet or row")
                .isEmpty();
    }

    static final Pattern CLIENT_MUST = Pattern.compile(
            "\\b(?:[Cc]lients?|[Pp]roducers?|[Aa]gents?|[Ww]riters?)\\s+MUST\\b|\\bMUST(?: NOT)? be \\w+ by the (?:client|writer|agent)\\b");

    static boolean isClientRequirement(String sentence) {
        // the subject of a sentence owns its first MUST; later ones ("… and MUST NOT …") share it
        int first = sentence.indexOf("MUST");
        Matcher m = CLIENT_MUST.matcher(sentence);
        while (m.find()) if (m.start() <= first + 4 && m.end() >= first) return true;
        return false;
    }

    @Test
    void theClientRuleRecognisesClientsOnly() {
        assertThat(isClientRequirement("Clients MUST reconnect and resume")).isTrue();
        assertThat(isClientRequirement("A client MUST drop what it holds of the session and MUST NOT resume it"))
                .isTrue();
        assertThat(isClientRequirement("no: the agent MUST stop")).isTrue();
        assertThat(isClientRequirement("larger content MUST be split by the writer (the SDKs split text deltas)"))
                .isTrue();
        assertThat(isClientRequirement("The service MUST fail the run")).isFalse();
        assertThat(isClientRequirement("Every event a writer sends MUST be accepted only from the run's agent"))
                .isFalse();
    }

    // ------------------------------------------------------------------ §5 and the HTTP API's status table

    @Test
    void theErrorTableOfSection5IsErrorCode() {
        List<List<String>> rows = DOC.tableAfter("## 5. Errors", "code");
        List<String> documented =
                rows.stream().map(r -> r.get(0).replace("`", "")).toList();
        List<String> code = Arrays.stream(ErrorCode.values()).map(Enum::name).toList();
        assertThat(new TreeSet<>(documented))
                .as(
                        "§5 error table rows vs ErrorCode.values(): missing %s, extra %s",
                        minus(code, documented), minus(documented, code))
                .isEqualTo(new TreeSet<>(code));
        assertThat(documented).as("§5 lists each code once").doesNotHaveDuplicates();
        List<String> wrongRetry = new ArrayList<>();
        for (List<String> r : rows) {
            ErrorCode c = ErrorCode.valueOf(r.get(0).replace("`", ""));
            boolean docSaysRetry = r.get(2).startsWith("yes");
            if (docSaysRetry != c.retryable())
                wrongRetry.add(c + ": §5 says retry '" + r.get(2) + "', ErrorCode.retryable() " + c.retryable());
            // what the SDKs do about it: a fresh token, or stop writing what was fenced
            String said = r.get(2);
            ErrorCode.Recovery docSays = docSaysRetry
                    ? ErrorCode.Recovery.RETRY
                    : said.contains("fresh token")
                            ? ErrorCode.Recovery.REFRESH_TOKEN
                            : said.contains("fenced") || said.contains("MUST stop") || said.contains("new message")
                                    ? ErrorCode.Recovery.FENCED
                                    : ErrorCode.Recovery.FATAL;
            if (docSays != c.recovery())
                wrongRetry.add(c + ": §5 says '" + said + "', ErrorCode.recovery() " + c.recovery());
        }
        assertThat(wrongRetry)
                .as("the retry column of §5 vs ErrorCode.retryable()")
                .isEmpty();
    }

    @Test
    void theHttpStatusTableIsErrorCodeHttpStatus() {
        List<List<String>> rows = DOC.tableAfter("## HTTP API", "status");
        Map<String, Integer> documented = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (List<String> r : rows) {
            int status = Integer.parseInt(r.get(0));
            Matcher m = Pattern.compile("`([A-Z][A-Z_]+)`").matcher(r.get(1));
            while (m.find()) {
                Integer before = documented.put(m.group(1), status);
                if (before != null) problems.add(m.group(1) + " is listed under " + before + " and " + status);
            }
        }
        for (ErrorCode c : ErrorCode.values()) {
            Integer s = documented.get(c.name());
            if (s == null) problems.add(c + " (HTTP " + c.httpStatus() + ") is missing from the status table");
            else if (s != c.httpStatus())
                problems.add(c + ": the table says " + s + ", ErrorCode.httpStatus() " + c.httpStatus());
        }
        Map<String, Integer> httpOnly = Map.of(ApiProblem.SESSION_EXISTS, 409, ApiProblem.METHOD_NOT_ALLOWED, 405);
        for (var e : documented.entrySet()) {
            if (ErrorCode.fromWire(e.getKey()) != null) continue;
            Integer s = httpOnly.get(e.getKey());
            if (s == null)
                problems.add(e.getKey() + " is in the status table but is neither an ErrorCode nor an HTTP-only code");
            else if (!s.equals(e.getValue()))
                problems.add(e.getKey() + ": the table says " + e.getValue() + ", the code answers " + s);
        }
        assertThat(httpOnly).as("the kit's HTTP-only codes").isEqualTo(Kit.HTTP_ONLY_CODES);
        assertThat(problems)
                .as("the HTTP API's status table vs ErrorCode.httpStatus()")
                .isEmpty();
    }

    // ------------------------------------------------------------------ §9 limits and §6 timeouts

    /** A §9 row (by the start of its first cell, lower case, without backticks), the value the code holds, its env var reader. */
    record LimitRow(String row, long value, ToLongFunction<Map<String, String>> fromEnvironment) {}

    static final Services.Limits D = Services.Limits.DEFAULTS;
    static final List<LimitRow> LIMITS = List.of(
            new LimitRow("sessionid, runid, agentid", Limits.MAX_ID_LENGTH, null),
            new LimitRow("traceparent", Limits.TRACEPARENT_LENGTH, null),
            new LimitRow("events per append", Limits.MAX_EVENTS_PER_APPEND, null),
            new LimitRow("rows per append", Limits.MAX_ROWS_PER_APPEND, null),
            new LimitRow("one stored event", Limits.MAX_EVENT_BYTES, null),
            new LimitRow("one websocket message", Limits.MAX_MESSAGE_BYTES, null),
            new LimitRow("one websocket frame", Limits.MAX_FRAME_BYTES, null),
            new LimitRow("json nesting in data", Limits.MAX_DATA_DEPTH, null),
            new LimitRow("json nesting of a frame", Limits.MAX_FRAME_DEPTH, null),
            new LimitRow("producer epoch, producer seq, afterseq", Limits.MAX_SAFE_INTEGER, null),
            new LimitRow("producer appends remembered", Limits.PRODUCER_DEDUP_WINDOW, null),
            new LimitRow("producer appends in flight", Limits.MAX_PRODUCER_IN_FLIGHT, null),
            new LimitRow("a tool's or a custom event's name", Limits.MAX_NAME_LENGTH, null),
            new LimitRow("run.failed reason", Limits.MAX_REASON_LENGTH, null),
            new LimitRow("steer text", Limits.MAX_STEER_TEXT, null),
            new LimitRow("label, surface, an agent's label", Limits.MAX_LABEL_LENGTH, null),
            new LimitRow("subscriptions per connection", Limits.MAX_SUBSCRIPTIONS_PER_CONNECTION, null),
            new LimitRow("events per catch-up", Limits.MAX_CATCH_UP_EVENTS, null),
            new LimitRow(
                    "messages per second per connection",
                    D.messagesPerSecond(),
                    env -> HandlerSettings.fromEnvironment(env).limits().messagesPerSecond()),
            new LimitRow(
                    "catch-up and hydrate bytes",
                    D.readBytesPerMinute(),
                    env -> HandlerSettings.fromEnvironment(env).limits().readBytesPerMinute()),
            new LimitRow(
                    "presence announcements",
                    D.presenceJoinsPerMinute(),
                    env -> HandlerSettings.fromEnvironment(env).limits().presenceJoinsPerMinute()),
            new LimitRow("http snapshot answer", Limits.MAX_HTTP_SNAPSHOT_BYTES, null));

    @Test
    void theLimitsOfSection9AreLimitsAndTheDefaults() {
        List<List<String>> rows = DOC.tableAfter("## 9. Limits", "what");
        List<String> problems = new ArrayList<>();
        Map<String, LimitRow> unmatched = new LinkedHashMap<>();
        LIMITS.forEach(l -> unmatched.put(l.row(), l));
        for (List<String> r : rows) {
            String what = r.get(0).replace("`", "").toLowerCase(Locale.ROOT);
            LimitRow l = LIMITS.stream()
                    .filter(x -> what.startsWith(x.row()))
                    .findFirst()
                    .orElse(null);
            if (l == null) {
                problems.add("§9 row '" + r.get(0)
                        + "' has no counterpart in Limits or Services.Limits (add it to this test)");
                continue;
            }
            unmatched.remove(l.row());
            long documented = quantity(r.get(1));
            if (documented != l.value())
                problems.add(
                        "§9 row '" + r.get(0) + "' says " + documented + " (" + r.get(1) + "), the code " + l.value());
            Matcher env = Pattern.compile("`([A-Z][A-Z_]+)`").matcher(r.get(1));
            if (env.find()) {
                if (l.fromEnvironment() == null) {
                    problems.add("§9 row '" + r.get(0) + "' names " + env.group(1)
                            + " but the code reads no setting for it");
                } else if (l.fromEnvironment().applyAsLong(Map.of(env.group(1), "7")) != 7) {
                    problems.add("§9 row '" + r.get(0) + "': setting " + env.group(1) + "=7 does not change the limit");
                }
            } else if (l.fromEnvironment() != null) {
                problems.add("§9 row '" + r.get(0) + "' does not name the setting that configures it");
            }
        }
        unmatched.keySet().forEach(k -> problems.add("no §9 row for '" + k + "'"));
        assertThat(problems)
                .as("docs/protocol.md §9 vs Limits and Services.Limits.DEFAULTS")
                .isEmpty();
    }

    /** The number a limit cell states: 2^53 − 1, the upper end of a range (1–128), with KiB/MiB applied. */
    static long quantity(String cell) {
        String c = cell.replace(",", "");
        Matcher pow = Pattern.compile("2\\^(\\d+)\\s*[−-]\\s*1").matcher(c);
        if (pow.find()) return (1L << Integer.parseInt(pow.group(1))) - 1;
        Matcher m = Pattern.compile("(?:\\d+\\s*[–-]\\s*)?(\\d+)\\s*(KiB|MiB)?").matcher(c);
        if (!m.find()) throw new IllegalArgumentException("no number in '" + cell + "'");
        long n = Long.parseLong(m.group(1));
        if ("KiB".equals(m.group(2))) n *= 1024;
        if ("MiB".equals(m.group(2))) n *= 1024 * 1024;
        return n;
    }

    @Test
    void quantitiesAreReadAsWritten() {
        assertThat(quantity("1–128 chars of `A–Z`")).isEqualTo(128);
        assertThat(quantity("96 KiB — so that")).isEqualTo(96 * 1024);
        assertThat(quantity("5 MiB")).isEqualTo(5L * 1024 * 1024);
        assertThat(quantity("0 … 2^53 − 1 (safe in JavaScript)")).isEqualTo(9_007_199_254_740_991L);
        assertThat(quantity("500 (`RATE_LIMIT_PER_SECOND`)")).isEqualTo(500);
    }

    /** §6's timeouts ("**10 seconds** (configurable: `STOP_ACK_TIMEOUT_SECONDS`)") are StoreSettings' defaults and settings. */
    @Test
    void theTimeoutsOfSection6AreTheStoreDefaults() {
        StringBuilder text = new StringBuilder();
        DOC.blocks().forEach(b -> text.append(b.text()).append('\n'));
        Matcher m = Pattern.compile("\\*\\*(\\d+) seconds\\*\\*[^`]{0,40}`([A-Z_]+)`")
                .matcher(text);
        Map<String, Long> documented = new TreeMap<>();
        while (m.find()) documented.put(m.group(2), Long.parseLong(m.group(1)));
        StoreSettings d = StoreSettings.DEFAULTS;
        Map<String, Duration> code = Map.of(
                "LIVENESS_TIMEOUT_SECONDS",
                d.livenessTimeout(),
                "STOP_ACK_TIMEOUT_SECONDS",
                d.ackTimeout(),
                "PRESENCE_GRACE_SECONDS",
                d.presenceGrace());
        assertThat(documented.keySet()).as("the timeouts §6 documents").isEqualTo(new TreeSet<>(code.keySet()));
        List<String> problems = new ArrayList<>();
        for (var e : documented.entrySet()) {
            if (code.get(e.getKey()).toSeconds() != e.getValue()) {
                problems.add(e.getKey() + ": §6 says " + e.getValue() + " s, StoreSettings.DEFAULTS "
                        + code.get(e.getKey()));
            }
            StoreSettings set =
                    HandlerSettings.fromEnvironment(Map.of(e.getKey(), "7")).store();
            Duration changed = switch (e.getKey()) {
                case "LIVENESS_TIMEOUT_SECONDS" -> set.livenessTimeout();
                case "STOP_ACK_TIMEOUT_SECONDS" -> set.ackTimeout();
                default -> set.presenceGrace();
            };
            if (!changed.equals(Duration.ofSeconds(7))) problems.add(e.getKey() + "=7 does not set that timeout");
        }
        assertThat(problems).as("docs/protocol.md §6 timeouts vs StoreSettings").isEmpty();
    }

    @Test
    void theKitsProductionDefaultsAreTheDocumentedOnes() {
        Options o = Options.defaults(java.net.URI.create("ws://x/y"), java.net.URI.create("http://x"));
        assertThat(o.livenessTimeout()).isEqualTo(StoreSettings.DEFAULTS.livenessTimeout());
        assertThat(o.stopAckTimeout()).isEqualTo(StoreSettings.DEFAULTS.ackTimeout());
        assertThat(o.presenceGrace()).isEqualTo(StoreSettings.DEFAULTS.presenceGrace());
        assertThat(o.presenceBudget()).isEqualTo(Services.Limits.DEFAULTS.presenceJoinsPerMinute());
        assertThat(o.messagesPerSecond()).isEqualTo(Services.Limits.DEFAULTS.messagesPerSecond());
    }

    private static List<String> minus(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.removeAll(b);
        return out;
    }
}
