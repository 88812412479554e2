package io.durablesessions.functions.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** Conditions and updates merge their placeholders, and refuse one that would stand for two things. */
class ExpressionTest {
    static final Map<String, AttributeValue> KEY =
            Map.of("pk", AttributeValue.fromS("s-1"), "sk", AttributeValue.fromS("RUN#r-1"));

    @Test
    void twoConditionsWithTheSamePlaceholderForTheSameThingCombine() {
        Expression a = new Expression(
                "#state = :running", Map.of("#state", "state"), Map.of(":running", AttributeValue.fromS("running")));
        Expression b = new Expression(
                "#state <> :done", Map.of("#state", "state"), Map.of(":done", AttributeValue.fromS("completed")));

        Expression both = a.and(b);

        assertThat(both.text()).isEqualTo("(#state = :running) AND (#state <> :done)");
        assertThat(both.names()).containsExactlyEntriesOf(Map.of("#state", "state"));
        assertThat(both.values()).containsOnlyKeys(":running", ":done");
    }

    @Test
    void aPlaceholderThatStandsForTwoNamesIsRefused() {
        Expression a = new Expression("attribute_exists(#a)", Map.of("#a", "agentId"), Map.of());
        Expression b = new Expression("attribute_exists(#a)", Map.of("#a", "owner"), Map.of());

        assertThatThrownBy(() -> a.and(b))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("#a");
    }

    @Test
    void aPlaceholderThatStandsForTwoValuesIsRefused() {
        Expression a = new Expression("#s = :v", Map.of("#s", "state"), Map.of(":v", AttributeValue.fromS("running")));
        Expression b = new Expression("#s = :v", Map.of("#s", "state"), Map.of(":v", AttributeValue.fromS("stopped")));

        assertThatThrownBy(() -> a.and(b)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anUpdateHandsOutOnePlaceholderPerNameAndNumbersItsValues() {
        Update u = new Update("ds-sessions", KEY);
        u.set(u.name("state"), AttributeValue.fromS("running"))
                .add(u.name("count"), AttributeValue.fromN("1"))
                .set(u.path("agents", "a-1"), AttributeValue.fromS("x"))
                .condition(u.name("state") + " = " + u.value(AttributeValue.fromS("running")));

        var request = u.request();

        assertThat(request.updateExpression()).isEqualTo("SET #n0 = :v0, #n2.#n3 = :v2 ADD #n1 :v1");
        assertThat(request.conditionExpression()).isEqualTo("#n0 = :v3");
        assertThat(request.expressionAttributeNames())
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("#n0", "state", "#n1", "count", "#n2", "agents", "#n3", "a-1"));
    }

    @Test
    void anUpdateTakesASharedConditionButRefusesOneThatClashesWithIt() {
        Update u = new Update("ds-sessions", KEY);
        u.set(u.name("state"), AttributeValue.fromS("stopped")).condition(Expression.EXISTING_ROW);
        assertThat(u.request().conditionExpression()).isEqualTo("(attribute_exists(#sk))");

        Expression other = new Expression("attribute_exists(#sk)", Map.of("#sk", "something-else"), Map.of());
        assertThatThrownBy(() -> u.condition(other)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anUpdateThatOnlyChecksBecomesAConditionCheckAndOneThatDoesNothingIsRefused() {
        Update check = new Update("ds-sessions", KEY).condition(Expression.EXISTING_ROW);
        assertThat(check.transactItem().conditionCheck()).isNotNull();
        assertThat(check.transactItem().update()).isNull();

        assertThatThrownBy(() -> new Update("ds-sessions", KEY).transactItem())
                .isInstanceOf(IllegalStateException.class);
    }
}
