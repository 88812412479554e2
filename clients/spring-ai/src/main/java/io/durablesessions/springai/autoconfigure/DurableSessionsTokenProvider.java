package io.durablesessions.springai.autoconfigure;

/**
 * A bean of this type gives the agent's token for every (re)connect and request, e.g. from your
 * identity provider; without one, {@code durable-sessions.token} is used as it is.
 */
@FunctionalInterface
public interface DurableSessionsTokenProvider {
    String token();
}
