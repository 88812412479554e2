package io.durablesessions.functions.publish;

import io.durablesessions.events.ClientMessage.Append;
import io.durablesessions.functions.gateway.WebSocketRoute;
import io.durablesessions.functions.runtime.Services;
import java.util.Set;

/** Route {@code append}. */
public final class AppendHandler extends WebSocketRoute {
    public AppendHandler() {
        this(Services.fromEnvironment());
    }

    public AppendHandler(Services services) {
        super(services, Set.of(Append.class));
    }
}
