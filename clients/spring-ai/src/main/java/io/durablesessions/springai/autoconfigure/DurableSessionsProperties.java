package io.durablesessions.springai.autoconfigure;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code durable-sessions.*}: where the agents of this application write and how.
 *
 * @param url               the WebSocket URL ({@code ws://}, {@code wss://}) or the HTTP API's base URL
 *                          ({@code http://}, {@code https://}); locally {@code ws://127.0.0.1:8787/local}
 * @param token             the agent's token (a JWT), unless a {@link DurableSessionsTokenProvider} bean
 *                          gives a fresh one for every connect and request
 * @param producerId        the idempotent producer id of this application's writer (stable across restarts)
 * @param coalesceWindow    how long text waits for more before it is sent
 * @param heartbeatInterval how long an open run may go without writing before it sends a heartbeat
 * @param requestTimeout    how long to wait for an ack before sending the same append again
 */
@ConfigurationProperties("durable-sessions")
public record DurableSessionsProperties(
        URI url,
        String token,
        @DefaultValue("agent") String producerId,
        @DefaultValue("300ms") Duration coalesceWindow,
        @DefaultValue("5s") Duration heartbeatInterval,
        @DefaultValue("10s") Duration requestTimeout) {}
