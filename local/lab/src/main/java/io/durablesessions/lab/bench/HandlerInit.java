package io.durablesessions.lab.bench;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import io.durablesessions.functions.publish.AppendHandler;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.functions.store.TableNames;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Clock;

/**
 * Run in a FRESH JVM on the shaded Lambda jar (plus this class): how long until the append handler
 * is constructed (class loading, SDK clients) and until its first invocation, which makes the
 * first DynamoDB calls, has answered. Prints one line of key=value in milliseconds since JVM start.
 * Only classes of the Lambda jar are used here, so nothing of the local stack is on the path.
 *
 * <p>args: dynamoEndpoint managementEndpoint connectionId sessionId
 */
public final class HandlerInit {
    public static void main(String[] args) {
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        long mainAt = System.currentTimeMillis();
        Services services = localServices(URI.create(args[0]), URI.create(args[1]));
        AppendHandler handler = new AppendHandler(services);
        long constructedAt = System.currentTimeMillis();
        String r1 = invoke(handler, args[2], args[3], 0);
        long firstAt = System.currentTimeMillis();
        String r2 = invoke(handler, args[2], args[3], 1);
        long secondAt = System.currentTimeMillis();
        if (!acked(r1) || !acked(r2)) {
            System.out.println("error first=" + r1 + " second=" + r2);
            System.exit(2);
        }
        System.out.println("main=" + (mainAt - jvmStart) + " constructed=" + (constructedAt - jvmStart)
                + " firstInvocation=" + (firstAt - jvmStart) + " secondInvocationMs=" + (secondAt - firstAt));
        System.exit(0);
    }

    /**
     * The route's response body: none when the handler posted the ack to the connection itself (the
     * ack means stored, protocol.md [append.ack-stored]); an ack when that post failed; else a refusal.
     */
    private static boolean acked(String body) {
        return body == null || body.contains("\"ack\"");
    }

    static Services localServices(URI dynamo, URI management) {
        return Services.local(
                dynamo,
                management,
                TableNames.fromEnvironment(System.getenv()),
                StoreSettings.DEFAULTS,
                Services.Limits.DEFAULTS,
                Services.Features.DEFAULTS,
                Clock.systemUTC());
    }

    private static String invoke(AppendHandler handler, String connectionId, String sessionId, int seq) {
        APIGatewayV2WebSocketEvent e = new APIGatewayV2WebSocketEvent();
        APIGatewayV2WebSocketEvent.RequestContext rc = new APIGatewayV2WebSocketEvent.RequestContext();
        rc.setConnectionId(connectionId);
        rc.setRouteKey("append");
        rc.setEventType("MESSAGE");
        e.setRequestContext(rc);
        e.setBody("{\"action\":\"append\",\"requestId\":\"i" + seq + "\",\"sessionId\":\"" + sessionId
                + "\",\"producer\":{\"id\":\"init\",\"epoch\":0,\"seq\":" + seq
                + "},\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"init\"}}]}");
        return handler.handleRequest(e, null).getBody();
    }
}
