package io.durablesessions.testing;

import io.durablesessions.local.EmbeddedStack;
import java.io.IOException;
import java.io.InputStream;

/**
 * The child JVM of {@link TestStack} (a JDK 21+): starts the local stack, prints one line with its
 * URLs, and runs until its standard input closes — the parent closed it, or the parent died — so a
 * crashed test run leaves no stack behind.
 */
public final class StackProcessMain {
    static final String READY = "ds-test-stack";

    private StackProcessMain() {}

    public static void main(String[] args) throws IOException {
        EmbeddedStack stack = InProcessStack.start(StackSettings.fromArgs(args));
        System.out.println(READY + " ws=" + stack.webSocketUrl() + " http=" + stack.httpApiUrl() + " iam="
                + stack.iamHttpApiUrl());
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) {
            // nothing is sent on stdin; it only tells us when the parent is gone
        }
        stack.close();
        System.exit(0);
    }
}
