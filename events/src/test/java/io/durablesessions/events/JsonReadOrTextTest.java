package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Tool arguments and results arrive from chat frameworks as text: stored as the JSON they hold, else as a string. */
class JsonReadOrTextTest {
    @Test
    void jsonTextBecomesItsValueAndAnythingElseAString() {
        assertThat(Json.readOrText("{\"q\":\"weather\",\"n\":2}").path("n").asInt())
                .isEqualTo(2);
        assertThat(Json.readOrText("[1,2]").isArray()).isTrue();
        assertThat(Json.readOrText("42").isNumber()).isTrue();
        assertThat(Json.readOrText("sunny, 21 °C").asText()).isEqualTo("sunny, 21 °C");
        assertThat(Json.readOrText("{\"unclosed\":").isTextual()).isTrue();
        assertThat(Json.readOrText("{} trailing").asText()).isEqualTo("{} trailing");
        assertThat(Json.readOrText(null).asText()).isEmpty();
        assertThat(Json.readOrText("  ").asText()).isEqualTo("  ");
    }
}
