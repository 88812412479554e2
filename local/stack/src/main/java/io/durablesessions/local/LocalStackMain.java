package io.durablesessions.local;

import java.util.concurrent.CountDownLatch;

/** {@code scripts/local}: starts the local stack and prints where everything is. */
public final class LocalStackMain {
    private LocalStackMain() {}

    public static void main(String[] args) throws InterruptedException {
        int port = 8787;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port") && i + 1 < args.length) port = Integer.parseInt(args[++i]);
        }
        String envPort = System.getenv("DS_LOCAL_PORT");
        if (envPort != null) port = Integer.parseInt(envPort);
        LocalStack stack = LocalStack.start(LocalStack.Config.defaults().withPort(port));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            stopped.countDown();
        }));
        String ws = stack.webSocketUrl().toString();
        System.out.println("""

                durable-sessions local stack is running (loopback only; Ctrl-C stops it)
                  WebSocket API      %s
                  Demo chat          http://127.0.0.1:%d/demo/
                  @connections API   %s/@connections/{connectionId}
                  DynamoDB endpoint  %s   tables: %s, %s, %s (events stream -> fan-out)
                  Handlers           the same classes Lambda runs (functions/), routes: $connect $disconnect $default append subscribe unsubscribe control

                Every connection needs a token (local development issuer); mint one with scripts/token, e.g.
                  agent:  %s?token=$(scripts/token agent-1 agent 'demo*')
                          {"action":"append","sessionId":"demo","events":[{"type":"custom","data":{"name":"hello"}}]}
                  client: %s?token=$(scripts/token tab-1 client 'demo*')&instance=tab-1
                          {"action":"subscribe","sessionId":"demo","afterSeq":0}
                """.formatted(ws, stack.gateway().port(), stack.managementEndpoint(), stack.dynamoEndpoint(),
                stack.tables().events(),
                stack.tables().sessions(), stack.tables().connections(), ws, ws));
        stopped.await();
    }
}
