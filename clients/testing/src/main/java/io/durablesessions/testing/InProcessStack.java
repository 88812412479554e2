package io.durablesessions.testing;

import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.local.EmbeddedStack;
import java.time.Duration;

/** The local stack in this JVM: only ever loaded on Java 21 or newer (its classes are Java 21 code). */
final class InProcessStack {
    private InProcessStack() {}

    /** Only this class names the stack's types, so an older JVM never loads them. */
    static TestStack startTestStack(StackSettings s) {
        EmbeddedStack stack = start(s);
        return new TestStack(stack.webSocketUrl(), stack.httpApiUrl(), stack.iamHttpApiUrl(), stack, null);
    }

    static EmbeddedStack start(StackSettings s) {
        EmbeddedStack.Config config = EmbeddedStack.Config.defaults();
        if (s.hasStore()) {
            config = config.withStore(
                    new StoreSettings(s.liveness(), s.stopAckTimeout(), s.presenceGrace()), s.sweepInterval());
        }
        if (s.maxConnectionAge() != null) config = config.withTimeouts(Duration.ofMinutes(10), s.maxConnectionAge());
        return EmbeddedStack.start(config);
    }
}
