package io.durablesessions.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.mock.StreamingChatModelMock;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import io.durablesessions.client.DurableAgent;
import io.durablesessions.events.Event;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An AI Service that calls a tool, on LangChain4j's own StreamingChatModelMock, streamed into a session. */
@WithTestStack
class DurableTokenStreamTest {
    final TestStack stack;

    DurableTokenStreamTest(TestStack stack) {
        this.stack = stack;
    }

    interface Assistant {
        TokenStream chat(String userMessage);
    }

    static final class WeatherTools {
        @Tool("the weather in a city")
        public String weather(@P("the city") String city) {
            return "{\"city\":\"" + city + "\",\"sky\":\"sunny\"}";
        }
    }

    @Test
    void theToolCallItsResultAndTheAnswerAreStoredInOrder() {
        String s = "l4j-ai-" + UUID.randomUUID();
        // the model asks for the tool, then answers with its result
        StreamingChatModelMock model = StreamingChatModelMock.thatAlwaysStreams(
                AiMessage.from(ToolExecutionRequest.builder()
                        .id("call-7")
                        .name("weather")
                        .arguments("{\"arg0\":\"Oslo\"}")
                        .build()),
                AiMessage.from("It is sunny in Oslo."));
        Assistant assistant = AiServices.builder(Assistant.class)
                .streamingChatModel(model)
                .tools(new WeatherTools())
                .build();
        try (DurableAgent agent = Sessions.agent(stack, s).connect()) {
            DurableAgent.Run run = agent.startRun("run-1");
            DurableTokenStream.start(
                            assistant.chat("Weather in Oslo?"),
                            DurableStreamingHandler.builder(run, "m-1").build())
                    .orTimeout(60, TimeUnit.SECONDS)
                    .join();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(log)
                .extracting(Event::type)
                .containsSubsequence(
                        EventType.MESSAGE_START,
                        EventType.TOOL_CALL,
                        EventType.TOOL_RESULT,
                        EventType.TEXT_DELTA,
                        EventType.MESSAGE_END,
                        EventType.RUN_COMPLETED);
        assertThat(Sessions.ofType(log, EventType.TOOL_CALL)).singleElement().satisfies(e -> {
            assertThat(e.dataText("toolCallId")).isEqualTo("call-7");
            assertThat(e.dataText("name")).isEqualTo("weather");
            assertThat(e.data().get("arguments")).isEqualTo(Json.parseObject("{\"arg0\":\"Oslo\"}"));
        });
        assertThat(Sessions.ofType(log, EventType.TOOL_RESULT)).singleElement().satisfies(e -> {
            assertThat(e.dataText("toolCallId")).isEqualTo("call-7");
            assertThat(e.data().get("result")).isEqualTo(Json.parseObject("{\"city\":\"Oslo\",\"sky\":\"sunny\"}"));
            assertThat(e.data().has("isError")).isFalse();
        });
        assertThat(Sessions.text(log, "m-1")).isEqualTo("It is sunny in Oslo.");
    }
}
