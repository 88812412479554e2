package io.durablesessions.functions.control;

import io.durablesessions.events.ClientMessage.Control;
import io.durablesessions.functions.gateway.WebSocketRoute;
import io.durablesessions.functions.runtime.Services;
import java.util.Set;

/** Route {@code control}. */
public final class ControlHandler extends WebSocketRoute {
    public ControlHandler() {
        this(Services.fromEnvironment());
    }

    public ControlHandler(Services services) {
        super(services, Set.of(Control.class));
    }
}
