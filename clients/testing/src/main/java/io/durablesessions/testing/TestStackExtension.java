package io.durablesessions.testing;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives a test class one {@link TestStack} ({@link WithTestStack} turns it on): parameters of that
 * type, in the constructor, lifecycle methods and tests, all receive the same stack, started on
 * first use and closed when the class is done. On Java 21+, where the stack runs in this JVM, a
 * parameter of type {@code io.durablesessions.local.EmbeddedStack} receives the stack itself, for
 * white-box tests (fault injection, the gateway's counters, the store).
 */
public final class TestStackExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(TestStackExtension.class);
    /** Named, not imported: an older JVM must never load the stack's (Java 21) classes. */
    static final String EMBEDDED_STACK = "io.durablesessions.local.EmbeddedStack";

    /** The store's value: closed by JUnit with the class's context. */
    private record Started(TestStack stack) implements AutoCloseable {
        @Override
        public void close() {
            stack.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == TestStack.class || type.getName().equals(EMBEDDED_STACK);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestStack stack = stack(context);
        if (parameter.getParameter().getType() == TestStack.class) return stack;
        if (stack.isChildProcess()) {
            throw new ParameterResolutionException("an EmbeddedStack parameter needs the stack in this JVM (Java 21+); "
                    + "this test runs on " + Runtime.version() + " with the stack in a child JVM");
        }
        return stack.inProcess();
    }

    /** The class's stack, started on first use. */
    static TestStack stack(ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent()
                && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        Class<?> testClass = classContext.getRequiredTestClass();
        return classContext
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent(testClass, c -> new Started(TestStack.start(settings(testClass))), Started.class)
                .stack();
    }

    static StackSettings settings(Class<?> testClass) {
        StackSettings s = StackSettings.defaults();
        WithTestStack w = Optional.ofNullable(testClass.getAnnotation(WithTestStack.class))
                .orElse(null);
        if (w == null) return s;
        if (w.livenessMillis() > 0) {
            s = s.withStore(
                    Duration.ofMillis(w.livenessMillis()),
                    Duration.ofMillis(w.stopAckMillis()),
                    Duration.ofMillis(w.presenceGraceMillis()),
                    Duration.ofMillis(w.sweepMillis()));
        }
        if (w.maxConnectionAgeMillis() > 0) s = s.withMaxConnectionAge(Duration.ofMillis(w.maxConnectionAgeMillis()));
        return s;
    }
}
