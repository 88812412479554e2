package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.DevTokens;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.http.HttpRoutes;
import io.durablesessions.local.EmbeddedStack;
import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docs/openapi.yaml is a checked contract: a valid OpenAPI 3 document, describing exactly the
 * routes the handler serves, and every request and answer of a real session on the local stack
 * (success and problem alike) validates against it (Atlassian's swagger-request-validator).
 */
class HttpApiOpenApiTest {
    static final Path DOC = Path.of("../../docs/openapi.yaml");
    static EmbeddedStack stack;
    static OpenApiInteractionValidator validator;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String AGENT = EmbeddedStack.devToken("agent-oa", "agent");
    static final String USER = EmbeddedStack.devToken("user-oa", "client");
    static final List<String> violations = new ArrayList<>();
    static int validated;

    @BeforeAll
    static void start() {
        stack = EmbeddedStack.start();
        validator = OpenApiInteractionValidator.createForSpecificationUrl(
                        DOC.toAbsolutePath().toUri().toString())
                .build();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void theDocumentIsValidOpenApi3() {
        SwaggerParseResult parsed =
                new OpenAPIParser().readLocation(DOC.toAbsolutePath().toUri().toString(), null, null);
        assertThat(parsed.getMessages()).as("parser messages").isEmpty();
        assertThat(parsed.getOpenAPI().getOpenapi()).startsWith("3.");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDocumentDescribesExactlyTheServedRoutesEachWithAProblemAnswer() throws Exception {
        Map<String, Object> root = new Yaml().load(Files.readString(DOC));
        Map<String, Object> paths = (Map<String, Object>) root.get("paths");
        Set<String> described = new TreeSet<>();
        for (var p : paths.entrySet()) {
            for (var op : ((Map<String, Object>) p.getValue()).entrySet()) {
                if (op.getKey().equals("parameters")) continue;
                described.add(op.getKey().toUpperCase() + " " + p.getKey());
                Map<String, Object> responses =
                        (Map<String, Object>) ((Map<String, Object>) op.getValue()).get("responses");
                assertThat(responses).as(op.getKey() + " " + p.getKey()).containsKey("default");
            }
        }
        Set<String> served = new TreeSet<>();
        HttpRoutes.ALL.forEach(r -> served.add(r.routeKey()));
        assertThat(described).isEqualTo(served);
    }

    /** Sends the request, validates request and answer against the document, returns the answer's JSON. */
    static ObjectNode call(String method, String path, String token, String body, int expectedStatus) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stack.httpApiUrl() + path))
                    .timeout(Duration.ofSeconds(30))
                    .method(
                            method,
                            body == null
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofString(body))
                    .header("Authorization", "Bearer " + token);
            if (body != null) b.header("Content-Type", "application/json");
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("%s %s -> %s", method, path, r.body()).isEqualTo(expectedStatus);

            URI u = URI.create(path);
            SimpleRequest.Builder req = new SimpleRequest.Builder(Request.Method.valueOf(method), u.getPath())
                    .withAuthorization("Bearer " + token);
            if (u.getQuery() != null) {
                for (String kv : u.getQuery().split("&")) {
                    String[] p = kv.split("=", 2);
                    req.withQueryParam(p[0], p.length > 1 ? p[1] : "");
                }
            }
            if (body != null) req.withContentType("application/json").withBody(body);
            SimpleResponse.Builder res =
                    SimpleResponse.Builder.status(r.statusCode()).withBody(r.body());
            r.headers().firstValue("content-type").ifPresent(ct -> res.withContentType(ct));
            // a deliberately malformed body is the request's fault, not the document's: check only the answer
            boolean wellFormedBody = body == null || isJson(body);
            ValidationReport report = wellFormedBody
                    ? validator.validate(req.build(), res.build())
                    : validator.validateResponse(templateOf(u.getPath()), Request.Method.valueOf(method), res.build());
            validated++;
            for (ValidationReport.Message m : report.getMessages()) {
                if (m.getLevel() == ValidationReport.Level.ERROR) {
                    violations.add(
                            method + " " + path + " (" + r.statusCode() + "): " + m.getKey() + ": " + m.getMessage());
                }
            }
            return r.body().isEmpty() ? Json.object() : Json.parseObject(r.body());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean isJson(String body) {
        try {
            Json.MAPPER.readTree(body);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** The document's path template that serves {@code path}. */
    static String templateOf(String path) {
        return switch (HttpRoutes.resolve("POST", path)) {
            case HttpRoutes.Found f -> f.match().route().path();
            default -> throw new IllegalArgumentException("no route for " + path);
        };
    }

    @Test
    void everyRequestAndAnswerOfARealSessionValidatesAgainstTheDocument() {
        String s = "oa-" + UUID.randomUUID();
        String events = "/v1/sessions/" + s + "/events";
        call(
                "POST",
                "/v1/sessions",
                USER,
                "{\"sessionId\":\"" + s + "\",\"title\":\"t\",\"metadata\":{\"k\":1},\"retentionDays\":7}",
                201);
        call("POST", "/v1/sessions", USER, "{\"sessionId\":\"" + s + "\"}", 409);
        call("GET", "/v1/sessions?owner=user-oa&limit=1", USER, null, 200);
        call("GET", "/v1/sessions/" + s, USER, null, 200);
        call(
                "POST",
                events,
                AGENT,
                "{\"runId\":\"r1\",\"producer\":{\"id\":\"p\",\"epoch\":0,\"seq\":0},\"events\":["
                        + "{\"type\":\"run.started\",\"data\":{}},{\"type\":\"message.start\",\"data\":{\"messageId\":\"m1\",\"role\":\"assistant\"}},"
                        + "{\"type\":\"text.delta\",\"data\":{\"messageId\":\"m1\",\"text\":\"hello\"}}]}",
                200);
        call(
                "POST",
                events,
                AGENT,
                "{\"runId\":\"r1\",\"producer\":{\"id\":\"p\",\"epoch\":0,\"seq\":0},\"events\":["
                        + "{\"type\":\"run.started\",\"data\":{}}]}",
                200); // a retry: duplicate
        long steer = call(
                        "POST",
                        "/v1/sessions/" + s + "/runs/r1/control",
                        USER,
                        "{\"command\":\"steer\",\"text\":\"shorter\"}",
                        200)
                .path("seq")
                .asLong();
        call("POST", "/v1/sessions/" + s + "/runs/r1/heartbeat", AGENT, null, 200);
        call("POST", "/v1/sessions/" + s + "/runs/r1/ack", AGENT, "{\"controlSeq\":" + steer + "}", 200);
        call("GET", events + "?afterSeq=0&limit=2", USER, null, 200);
        call("GET", "/v1/sessions/" + s + "/snapshot", USER, null, 200);
        long stop = call("POST", "/v1/sessions/" + s + "/runs/r1/control", USER, "{\"command\":\"cancel\"}", 200)
                .path("seq")
                .asLong();
        call(
                "POST",
                events,
                AGENT,
                "{\"runId\":\"r1\",\"producer\":{\"id\":\"p\",\"epoch\":0,\"seq\":1},\"events\":["
                        + "{\"type\":\"text.delta\",\"data\":{\"messageId\":\"m1\",\"text\":\" more\"}}]}",
                409); // fenced, with control
        call("POST", "/v1/sessions/" + s + "/runs/r1/ack", AGENT, "{\"controlSeq\":" + stop + "}", 200);
        call("POST", events, AGENT, "{not json", 400);
        call("POST", events, AGENT, "{\"events\":[{\"type\":\"nope\",\"data\":{}}]}", 400);
        call("POST", "/v1/sessions/" + s + "/runs/r-none/control", USER, "{\"command\":\"cancel\"}", 404);
        String operator = DevTokens.mint(
                AuthConfig.localDevelopment(),
                "operator-oa",
                "client",
                List.of(Grant.all(Capability.ADMIN)),
                Duration.ofMinutes(5));
        call(
                "POST",
                "/v1/admin/revocations",
                operator,
                "{\"jti\":\"jti-oa-" + UUID.randomUUID() + "\",\"keepForSeconds\":120}",
                201);
        call("POST", "/v1/admin/revocations", USER, "{\"subject\":\"someone\"}", 403);
        call("POST", "/v1/admin/revocations", operator, "{\"subject\":\"someone\",\"jti\":\"x\"}", 400);
        call("DELETE", "/v1/sessions/" + s, EmbeddedStack.devToken("v", "viewer"), null, 403);
        call("DELETE", "/v1/sessions/" + s, USER, null, 200);
        call("GET", "/v1/sessions/" + s, USER, null, 404);

        assertThat(validated).isGreaterThanOrEqualTo(20);
        assertThat(violations).as("answers that do not match docs/openapi.yaml").isEmpty();
    }
}
