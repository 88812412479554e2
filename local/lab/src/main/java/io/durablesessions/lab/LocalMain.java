package io.durablesessions.lab;

import io.durablesessions.lab.demo.Demo;
import io.durablesessions.local.EmbeddedStack;
import io.durablesessions.local.EmbeddedStackMain;
import java.util.List;

/**
 * {@code scripts/local}: the embedded stack ({@link EmbeddedStackMain}: same settings, same banner) with
 * the demo chat at {@code /demo/}, whose simulated agent is the Java SDK's {@code DurableAgent}.
 */
public final class LocalMain {
    private LocalMain() {}

    public static void main(String[] args) throws InterruptedException {
        Demo demo = new Demo();
        EmbeddedStackMain.run(args, new EmbeddedStackMain.Addon() {
            @Override
            public EmbeddedStack.Config configure(EmbeddedStack.Config config) {
                return config.withHttpRoute("/demo", demo.handler());
            }

            @Override
            public List<String> started(EmbeddedStack stack) {
                demo.start(stack.webSocketUrl());
                return List.of("Demo chat          " + stack.httpApiUrl() + "/demo/");
            }

            @Override
            public void close() {
                demo.close();
            }
        });
    }
}
