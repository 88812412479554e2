package io.durablesessions.conformance;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where and how to run the kit. The timeouts describe the deployment (its production defaults
 * unless told otherwise), so cases that wait for the service to act on its own (liveness, stop
 * acknowledgement, presence grace) know how long to wait.
 *
 * @param ws              the WebSocket URL ({@code wss://…/stage}, locally {@code ws://127.0.0.1:PORT/local})
 * @param http            the HTTP API's base URL (its paths start with {@code /v1})
 * @param prefix          every session of the run starts with it; the principals' grants cover it
 * @param only            case ids, id prefixes or areas to run (empty: all)
 * @param tokenVia        {@code query} or {@code protocol}: where connections carry their token; {@code either}
 *                        when the deployment accepts both (the local stack), which also runs the subprotocol case
 * @param answerTimeout   how long an answer to a request may take
 * @param eventTimeout    how long a delivery may take
 * @param livenessTimeout the deployment's LIVENESS_TIMEOUT_SECONDS
 * @param stopAckTimeout  the deployment's STOP_ACK_TIMEOUT_SECONDS
 * @param presenceGrace   the deployment's PRESENCE_GRACE_SECONDS
 * @param sweepInterval   how often the deployment's sweeper runs (1 minute in AWS, 1 second locally)
 * @param presenceBudget  the deployment's PRESENCE_JOINS_PER_MINUTE
 * @param messagesPerSecond the deployment's RATE_LIMIT_PER_SECOND (messages per second per connection)
 * @param expiringSeconds how long an "expiring" token stays valid after it is minted
 * @param casesDir        run the cases of this directory instead of the built-in ones (null: built-in)
 */
record Options(
        URI ws,
        URI http,
        String prefix,
        List<String> only,
        String tokenVia,
        Duration answerTimeout,
        Duration eventTimeout,
        Duration livenessTimeout,
        Duration stopAckTimeout,
        Duration presenceGrace,
        Duration sweepInterval,
        int presenceBudget,
        int messagesPerSecond,
        int expiringSeconds,
        Path casesDir,
        boolean verbose) {

    /** The production defaults of docs/protocol.md (§6, §9) and API Gateway's sweeper minute. */
    static Options defaults(URI ws, URI http) {
        return new Options(
                ws,
                http,
                "conformance-",
                List.of(),
                "query",
                Duration.ofSeconds(30),
                Duration.ofSeconds(30),
                Duration.ofSeconds(30),
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                Duration.ofSeconds(60),
                30,
                500,
                8,
                null,
                false);
    }

    Options withTimeouts(Duration liveness, Duration stopAck, Duration grace, Duration sweep) {
        return new Options(
                ws,
                http,
                prefix,
                only,
                tokenVia,
                answerTimeout,
                eventTimeout,
                liveness,
                stopAck,
                grace,
                sweep,
                presenceBudget,
                messagesPerSecond,
                expiringSeconds,
                casesDir,
                verbose);
    }

    Options withOnly(List<String> o) {
        return new Options(
                ws,
                http,
                prefix,
                o,
                tokenVia,
                answerTimeout,
                eventTimeout,
                livenessTimeout,
                stopAckTimeout,
                presenceGrace,
                sweepInterval,
                presenceBudget,
                messagesPerSecond,
                expiringSeconds,
                casesDir,
                verbose);
    }

    Options withTokenVia(String via) {
        return new Options(
                ws,
                http,
                prefix,
                only,
                via,
                answerTimeout,
                eventTimeout,
                livenessTimeout,
                stopAckTimeout,
                presenceGrace,
                sweepInterval,
                presenceBudget,
                messagesPerSecond,
                expiringSeconds,
                casesDir,
                verbose);
    }

    Options withPresenceBudget(int budget) {
        return new Options(
                ws,
                http,
                prefix,
                only,
                tokenVia,
                answerTimeout,
                eventTimeout,
                livenessTimeout,
                stopAckTimeout,
                presenceGrace,
                sweepInterval,
                budget,
                messagesPerSecond,
                expiringSeconds,
                casesDir,
                verbose);
    }

    Options withMessagesPerSecond(int rate) {
        return new Options(
                ws,
                http,
                prefix,
                only,
                tokenVia,
                answerTimeout,
                eventTimeout,
                livenessTimeout,
                stopAckTimeout,
                presenceGrace,
                sweepInterval,
                presenceBudget,
                rate,
                expiringSeconds,
                casesDir,
                verbose);
    }

    Options withPrefix(String p) {
        return new Options(
                ws,
                http,
                p,
                only,
                tokenVia,
                answerTimeout,
                eventTimeout,
                livenessTimeout,
                stopAckTimeout,
                presenceGrace,
                sweepInterval,
                presenceBudget,
                messagesPerSecond,
                expiringSeconds,
                casesDir,
                verbose);
    }

    /** Whether a case id is selected by {@code --only}: its id, an id prefix, or its area. */
    boolean selects(Case c) {
        if (only.isEmpty()) return true;
        for (String o : only) {
            if (c.id().equals(o) || c.area().equals(o) || c.id().startsWith(o.endsWith(".") ? o : o + ".")) return true;
        }
        return false;
    }
}
