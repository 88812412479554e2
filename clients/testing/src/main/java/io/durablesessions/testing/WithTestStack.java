package io.durablesessions.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One local stack for the test class ({@link TestStackExtension}): started when a constructor,
 * lifecycle or test method first asks for a {@link TestStack} parameter, closed after the class's
 * last test. The attributes shorten the stack's timeouts; 0 keeps its default.
 *
 * <pre>{@code
 * @WithTestStack
 * class MyTest {
 *     final TestStack stack;
 *     MyTest(TestStack stack) { this.stack = stack; }
 *     @Test void streams() { DurableAgent.builder(stack.webSocketUrl(), "s", "p").connectQuery(() -> stack.agentQuery("a"))… }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(TestStackExtension.class)
public @interface WithTestStack {
    /** A run without heartbeats fails after this long; the four store settings go together. */
    long livenessMillis() default 0;

    /** An unacknowledged stop becomes {@code run.stopped} after this long. */
    long stopAckMillis() default 0;

    /** A dropped subscriber is announced as left after this long. */
    long presenceGraceMillis() default 0;

    /** How often the sweeper runs. */
    long sweepMillis() default 0;

    /** The gateway closes every connection after this long (API Gateway: 2 hours). */
    long maxConnectionAgeMillis() default 0;
}
