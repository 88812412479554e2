package io.durablesessions.functions.gateway;

import io.durablesessions.functions.runtime.Services;
import java.util.Set;

/**
 * {@code $default}: frames whose action has no route of its own (ping, unknown actions,
 * malformed JSON). It serves every known action too, so one function can back all routes.
 */
public final class DefaultHandler extends WebSocketRoute {
    public DefaultHandler() {
        this(Services.fromEnvironment());
    }

    public DefaultHandler(Services services) {
        super(services, Set.of());
    }
}
