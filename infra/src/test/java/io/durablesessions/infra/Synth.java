package io.durablesessions.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;

/** Synthesizes the stack offline (no AWS calls) into target/, once per configuration. */
final class Synth {
    record Result(DurableSessionsStack stack, Template template, Map<String, Object> json) {
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> resources() {
            return (Map<String, Map<String, Object>>) json.get("Resources");
        }

        Map<String, Map<String, Object>> ofType(String type) {
            Map<String, Map<String, Object>> out = new LinkedHashMap<>();
            resources().forEach((id, r) -> {
                if (type.equals(r.get("Type"))) out.put(id, r);
            });
            return out;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> props(Map<String, Object> resource) {
            return (Map<String, Object>) resource.getOrDefault("Properties", Map.of());
        }
    }

    private static final Map<String, Result> CACHE = new ConcurrentHashMap<>();

    /**
     * Test token settings: a made-up issuer under the reserved {@code .test} domain. Synth never
     * fetches the JWKS URL (only the deployed authorizer does), so tests stay offline.
     */
    static final StackConfig.Jwt TEST_JWT = new StackConfig.Jwt(
            "https://issuer.example.test/",
            "durable-sessions-test",
            "https://issuer.example.test/.well-known/jwks.json",
            "");

    /** The defaults (authorizer on) plus {@link #TEST_JWT}: what a deployment with an issuer synthesizes. */
    static StackConfig config() {
        return StackConfig.defaults().toBuilder().jwt(TEST_JWT).build();
    }

    static Result of(StackConfig config) {
        return CACHE.computeIfAbsent(config.toString(), k -> synth(config, false));
    }

    static Result synth(StackConfig config, boolean nag) {
        Path out = Path.of(
                System.getProperty("ds.infra.basedir", "."),
                "target",
                "cdk-test",
                Integer.toHexString(config.hashCode()) + (nag ? "-nag" : ""));
        App app = new App(AppProps.builder().outdir(out.toString()).build());
        var stack = new DurableSessionsStack(
                app,
                config.stackName(),
                StackProps.builder()
                        .env(Environment.builder()
                                .account("123456789012")
                                .region("us-east-1")
                                .build())
                        .build(),
                config,
                FunctionsJar.locate());
        if (nag) Aspects.of(app).add(AwsSolutionsChecks.Builder.create().build());
        Template template = Template.fromStack(stack);
        return new Result(stack, template, template.toJSON());
    }

    /** Every element of an IAM Action or Resource (string or list). */
    @SuppressWarnings("unchecked")
    static List<Object> elements(Object v) {
        if (v == null) return List.of();
        if (v instanceof List<?> l) return new ArrayList<>((List<Object>) l);
        return List.of(v);
    }

    private Synth() {}
}
