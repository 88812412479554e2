package io.durablesessions.local;

import io.durablesessions.local.apigateway.RequestLog;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * Starts the embedded stack and prints where everything is: what {@code scripts/local} runs, with the
 * demo chat added by the lab's {@code LocalMain} through {@link Addon}. Settings come from
 * the environment: {@code DS_LOCAL_PORT} (default 8787, 0 picks a free port), {@code DS_DATA_DIR}
 * (keep the embedded DynamoDB's data there across restarts; in memory by default),
 * {@code DS_REQUEST_LOG=off} (no line per request), {@code DS_DYNAMO_ENDPOINT} (another DynamoDB).
 * A failed start is one line on stderr and a non-zero exit, never a hang.
 */
public final class EmbeddedStackMain {
    static final int DEFAULT_PORT = 8787;

    private EmbeddedStackMain() {}

    /** What a caller serves next to the stack (e.g. the demo chat): its routes, its banner lines, its lifetime. */
    public interface Addon extends AutoCloseable {
        /** Adds routes to the stack's configuration. */
        EmbeddedStack.Config configure(EmbeddedStack.Config config);

        /** The stack is up: start what needs its URLs; returns the lines to add to the banner. */
        List<String> started(EmbeddedStack stack);

        @Override
        void close();
    }

    public static void main(String[] args) throws InterruptedException {
        run(args, null);
    }

    /** Starts the stack (and {@code addon}, if any) and blocks until the JVM is asked to stop. */
    public static void run(String[] args, Addon addon) throws InterruptedException {
        Map<String, String> env = System.getenv();
        int port;
        try {
            port = port(args, env);
        } catch (IllegalArgumentException e) {
            fail(2, e.getMessage());
            return;
        }
        // DS_AWS_TIMING=1: AWS's stream poll cadence and invoke overheads (EmbeddedStack.Timing)
        EmbeddedStack.Timing timing;
        try {
            timing = EmbeddedStack.Timing.fromEnvironment(env);
        } catch (IllegalArgumentException e) {
            fail(2, e.getMessage());
            return;
        }
        EmbeddedStack.Config config =
                EmbeddedStack.Config.defaults().withPort(port).withTiming(timing);
        String dataDir = env.get("DS_DATA_DIR");
        if (dataDir != null && !dataDir.isBlank())
            config = config.withDataDir(Path.of(dataDir).toAbsolutePath());
        boolean log = !"off".equalsIgnoreCase(env.getOrDefault("DS_REQUEST_LOG", "on"));
        if (log) config = config.withRequestLog(RequestLog.printingTo(System.out));
        if (addon != null) config = addon.configure(config);

        System.out.println("[local] starting the local stack on 127.0.0.1:" + (port == 0 ? "<free port>" : port)
                + (config.dataDir() != null ? " with data in " + config.dataDir() : "") + " ...");
        long t0 = System.nanoTime();
        EmbeddedStack stack;
        try {
            stack = EmbeddedStack.start(config);
        } catch (EmbeddedStack.PortInUseException e) {
            fail(2, e.getMessage());
            return;
        } catch (RuntimeException e) {
            fail(1, "the local stack did not start: " + e.getMessage());
            return;
        }
        List<String> extra = addon != null ? addon.started(stack) : List.of();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (addon != null) addon.close();
            stack.close();
            stopped.countDown();
        }));
        String ws = stack.webSocketUrl().toString();
        String http = stack.httpApiUrl().toString();
        String data = config.externalDynamo() != null
                ? "on " + config.externalDynamo()
                : config.dataDir() != null
                        ? "kept in " + config.dataDir() + " (survives a restart)"
                        : "in memory only: gone when this stops (DS_DATA_DIR=<dir> keeps it)";
        System.out.println("""

                durable-sessions local stack is running (loopback only; started in %.1f s; Ctrl-C stops it)
                  WebSocket API      %s
                  HTTP API           %s/v1/...   (IAM/SigV4: %s/v1/...)
                %s  @connections API   %s/@connections/{connectionId}
                  DynamoDB endpoint  %s   tables: %s, %s, %s (events stream -> fan-out)
                  Data               %s
                  Handlers           the same classes Lambda runs (functions/)
                  Request log        %s
                  Timing             %s

                Every connection needs a token (local development issuer); mint one with scripts/token, e.g.
                  agent:  %s?token=$(scripts/token agent-1 agent 'demo*')
                          {"action":"append","sessionId":"demo","events":[{"type":"custom","data":{"name":"hello"}}]}
                  client: %s?token=$(scripts/token tab-1 client 'demo*')&instance=tab-1
                          {"action":"subscribe","sessionId":"demo","afterSeq":0}
                  HTTP:   curl -s -X POST %s/v1/sessions/demo/events -H "Authorization: Bearer $(scripts/token agent-1 agent)" \\
                            -H 'Content-Type: application/json' -d '{"events":[{"type":"custom","data":{"name":"hello"}}]}'
                """.formatted(
                        (System.nanoTime() - t0) / 1e9,
                        ws,
                        http,
                        stack.iamHttpApiUrl(),
                        extra.stream().map(l -> "  " + l + "\n").collect(Collectors.joining()),
                        stack.managementEndpoint(),
                        stack.dynamoEndpoint(),
                        stack.tables().events(),
                        stack.tables().sessions(),
                        stack.tables().connections(),
                        data,
                        log
                                ? "a line per message and request: time, transport, route, session, outcome, ms (DS_REQUEST_LOG=off hides it)"
                                : "off",
                        timing.isLocal()
                                ? "local (" + timing.describe() + "; DS_AWS_TIMING=1 for AWS-like)"
                                : "AWS-like: " + timing.describe(),
                        ws,
                        ws,
                        http));
        System.out.flush();
        stopped.await();
    }

    static int port(String[] args, Map<String, String> env) {
        String value = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port") && i + 1 < args.length) value = args[++i];
        }
        String envPort = env.get("DS_LOCAL_PORT");
        if (envPort != null && !envPort.isBlank()) value = envPort.trim();
        if (value == null) return DEFAULT_PORT;
        try {
            int p = Integer.parseInt(value);
            if (p < 0 || p > 65535) throw new NumberFormatException();
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "DS_LOCAL_PORT '" + value + "' is not a port (0-65535; 0 picks a free one)");
        }
    }

    private static void fail(int code, String message) {
        System.err.println("error: " + message);
        System.err.flush();
        // exits even when a thread that started before the failure is still alive
        System.exit(code);
    }
}
