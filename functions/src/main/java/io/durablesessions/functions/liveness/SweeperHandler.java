package io.durablesessions.functions.liveness;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import io.durablesessions.functions.runtime.Services;

/** The liveness sweeper, on a schedule (EventBridge in AWS, a timer in the local stack). */
public final class SweeperHandler implements RequestHandler<ScheduledEvent, String> {
    private final Sweeper sweeper;

    public SweeperHandler() {
        this(new Sweeper(Services.fromEnvironment()));
    }

    public SweeperHandler(Sweeper sweeper) {
        this.sweeper = sweeper;
    }

    @Override
    public String handleRequest(ScheduledEvent event, Context context) {
        return "acted on " + sweeper.sweep() + " deadlines";
    }
}
