package io.durablesessions.functions.liveness;

import io.durablesessions.events.ClientMessage.Heartbeat;
import io.durablesessions.functions.gateway.WebSocketRoute;
import io.durablesessions.functions.runtime.Services;
import java.util.Set;

/** Route {@code heartbeat}. */
public final class HeartbeatHandler extends WebSocketRoute {
    public HeartbeatHandler() {
        this(Services.fromEnvironment());
    }

    public HeartbeatHandler(Services services) {
        super(services, Set.of(Heartbeat.class));
    }
}
