package io.durablesessions.local.apigateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionTest {

    @Test
    void outgoingMessagesAreCutIntoFramesOfAtMost32KbWithoutSplittingCharacters() {
        String text = "a".repeat(32 * 1024 - 1) + "é" + "😀".repeat(20_000) + "z";
        List<String> frames = Connection.splitIntoFrames(text);
        assertThat(String.join("", frames)).isEqualTo(text);
        assertThat(frames)
                .allSatisfy(f ->
                        assertThat(f.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(32 * 1024));
        assertThat(frames.get(0)).endsWith("a");
        assertThat(frames).hasSize(4);
    }

    @Test
    void shortMessagesAreOneFrame() {
        assertThat(Connection.splitIntoFrames("")).containsExactly("");
        assertThat(Connection.splitIntoFrames("x".repeat(32 * 1024))).hasSize(1);
    }

    @Test
    void idsLookLikeApiGatewayIds() {
        assertThat(EventFactory.newId()).matches("[A-Za-z0-9_-]{15}=");
    }
}
