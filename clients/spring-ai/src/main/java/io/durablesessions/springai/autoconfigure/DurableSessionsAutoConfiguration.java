package io.durablesessions.springai.autoconfigure;

import io.durablesessions.client.DurableAgent;
import java.util.Locale;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * {@code durable-sessions.url} set: a {@link DurableAgentFactory} bean from the
 * {@code durable-sessions.*} properties, with the token of a {@link DurableSessionsTokenProvider}
 * bean if there is one, else {@code durable-sessions.token}.
 */
@AutoConfiguration
@ConditionalOnClass(DurableAgent.class)
@ConditionalOnProperty(prefix = "durable-sessions", name = "url")
@EnableConfigurationProperties(DurableSessionsProperties.class)
public class DurableSessionsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public DurableAgentFactory durableAgentFactory(
            DurableSessionsProperties properties, ObjectProvider<DurableSessionsTokenProvider> tokens) {
        DurableSessionsTokenProvider provider = tokens.getIfAvailable();
        String scheme = properties.url().getScheme() == null
                ? ""
                : properties.url().getScheme().toLowerCase(Locale.ROOT);
        // a WebSocket without a token would retry its refused connect for ever; over HTTP a request
        // signer (DurableAgentFactory.builder) may stand in for it
        if (provider == null
                && scheme.startsWith("ws")
                && (properties.token() == null || properties.token().isBlank())) {
            throw new IllegalStateException(
                    "durable-sessions.token (or a DurableSessionsTokenProvider bean) is required"
                            + " for the WebSocket URL " + properties.url());
        }
        return new DurableAgentFactory(properties, provider != null ? provider::token : properties::token);
    }
}
