package io.durablesessions.functions.subscribe;

import io.durablesessions.events.ClientMessage.Unsubscribe;
import io.durablesessions.functions.gateway.WebSocketRoute;
import io.durablesessions.functions.runtime.Services;
import java.util.Set;

/** Route {@code unsubscribe}. */
public final class UnsubscribeHandler extends WebSocketRoute {
    public UnsubscribeHandler() {
        this(Services.fromEnvironment());
    }

    public UnsubscribeHandler(Services services) {
        super(services, Set.of(Unsubscribe.class));
    }
}
