package io.durablesessions.functions.subscribe;

import io.durablesessions.events.ClientMessage.Subscribe;
import io.durablesessions.functions.gateway.WebSocketRoute;
import io.durablesessions.functions.runtime.Services;
import java.util.Set;

/** Route {@code subscribe}. */
public final class SubscribeHandler extends WebSocketRoute {
    public SubscribeHandler() {
        this(Services.fromEnvironment());
    }

    public SubscribeHandler(Services services) {
        super(services, Set.of(Subscribe.class));
    }
}
