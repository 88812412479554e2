package io.durablesessions.functions.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.AppendResult;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventInput;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.events.SessionState;
import io.durablesessions.functions.store.SessionStore.AppendRequest;
import io.durablesessions.functions.testing.TestDynamo;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Compaction and hydration cover the message parts of docs/protocol.md §4.2 (reasoning, streamed
 * tool input, sources, files, data parts): a hydrate equals the fold of the whole log, whether the
 * compacted items were written before, between or after these events.
 */
@EnabledIf(
        value = "io.durablesessions.functions.testing.TestDynamo#available",
        disabledReason = "no Docker engine: the LocalStack profile is skipped")
class MessagePartsHydrationTest {
    static TestDynamo dynamo;
    static SessionStore store;

    @BeforeAll
    static void start() {
        dynamo = TestDynamo.start();
        store = new SessionStore(dynamo.client, dynamo.tables, Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        if (dynamo != null) dynamo.close();
    }

    @Test
    void hydrationOfRichRepliesEqualsTheFold() {
        String s = "s-" + UUID.randomUUID();
        for (int r = 0; r < 6; r++) {
            String run = "run-" + r, m = "m-" + r, call = "call-" + r;
            append(
                    s,
                    ev(EventType.RUN_STARTED, run, Json.object()),
                    ev(EventType.MESSAGE_START, run, msg(m).put("role", "assistant")),
                    ev(EventType.MESSAGE_PART, run, part(m, Json.object().put("type", "step-start"))));
            for (int d = 0; d < 20; d++)
                append(s, ev(EventType.REASONING_DELTA, run, msg(m).put("text", "think " + d + " ")));
            for (int d = 0; d < 20; d++) append(s, ev(EventType.TEXT_DELTA, run, msg(m).put("text", "word" + d + " ")));
            append(
                    s,
                    ev(
                            EventType.TOOL_INPUT_START,
                            run,
                            msg(m).put("toolCallId", call).put("name", "weather")));
            for (int d = 0; d < 5; d++) {
                append(
                        s,
                        ev(
                                EventType.TOOL_INPUT_DELTA,
                                run,
                                msg(m).put("toolCallId", call).put("text", "{\"city\":")));
            }
            ObjectNode called = msg(m).put("toolCallId", call).put("name", "weather");
            called.putObject("arguments").put("city", "Paris");
            append(s, ev(EventType.TOOL_CALL, run, called));
            ObjectNode result = msg(m).put("toolCallId", call);
            result.putObject("result").put("temperature", 21);
            append(s, ev(EventType.TOOL_RESULT, run, result)); // a compaction boundary
            for (int v = 0; v < 3; v++) {
                ObjectNode data = Json.object().put("type", "data-progress").put("id", "p");
                data.putObject("data").put("done", v);
                append(s, ev(EventType.MESSAGE_PART, run, part(m, data)));
            }
            append(
                    s,
                    ev(
                            EventType.MESSAGE_PART,
                            run,
                            part(
                                    m,
                                    Json.object()
                                            .put("type", "source-url")
                                            .put("sourceId", "src-" + r)
                                            .put("url", "https://example.com/" + r))));
            append(
                    s,
                    ev(EventType.TEXT_DELTA, run, msg(m).put("text", "done.")),
                    ev(EventType.MESSAGE_END, run, msg(m)),
                    ev(EventType.RUN_COMPLETED, run, Json.object()));
        }
        // a reply whose tool input is still streaming when the new tab arrives
        append(
                s,
                ev(EventType.RUN_STARTED, "live", Json.object()),
                ev(EventType.MESSAGE_START, "live", msg("m-live").put("role", "assistant")),
                ev(EventType.REASONING_DELTA, "live", msg("m-live").put("text", "hmm")),
                ev(
                        EventType.TOOL_INPUT_START,
                        "live",
                        msg("m-live").put("toolCallId", "c-live").put("name", "search")));
        for (int d = 0; d < 10; d++) {
            append(
                    s,
                    ev(
                            EventType.TOOL_INPUT_DELTA,
                            "live",
                            msg("m-live").put("toolCallId", "c-live").put("text", "ab")));
        }

        List<Event> log = readAll(s);
        Hydration h = store.hydrate(s);
        assertThat(h.state().toJson()).isEqualTo(Assembler.fold(log).toJson());
        assertThat(h.itemsRead() + h.eventsRead()).isLessThan(log.size() / 4);
        SessionState.ToolCall live =
                (SessionState.ToolCall) h.state().items().get(h.state().items().size() - 1);
        assertThat(live.status()).isEqualTo("streaming");
        assertThat(live.inputText()).isEqualTo("ab".repeat(10));
        SessionState.Message first = (SessionState.Message) h.state().items().get(0);
        assertThat(first.reasoning()).startsWith("think 0 think 1 ");
        // step-start, reasoning, text, tool, one data part (replaced in place), source, text
        assertThat(first.parts()).hasSize(7);
    }

    private static ObjectNode msg(String messageId) {
        return Json.object().put("messageId", messageId);
    }

    private static ObjectNode part(String messageId, ObjectNode part) {
        ObjectNode d = msg(messageId);
        d.set("part", part);
        return d;
    }

    private static EventInput ev(EventType type, String run, ObjectNode data) {
        return EventInput.of(type, run, data);
    }

    private static void append(String session, EventInput... events) {
        AppendResult r = store.append(new AppendRequest(session, "agent-1", null, List.of(events)));
        assertThat(r).isInstanceOf(AppendResult.Appended.class);
    }

    private static List<Event> readAll(String session) {
        List<Event> log = new ArrayList<>();
        store.forEachAfter(session, 0, se -> log.add(Event.fromJson(se.json())));
        return log;
    }
}
