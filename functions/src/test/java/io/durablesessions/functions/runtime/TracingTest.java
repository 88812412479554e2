package io.durablesessions.functions.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import io.durablesessions.events.Json;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.ConnectAuthorizer;
import io.durablesessions.functions.auth.Grant;
import io.durablesessions.functions.auth.HttpAuthorizer;
import io.durablesessions.functions.auth.IamPrincipals;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.fanout.FanoutHandler;
import io.durablesessions.functions.http.HttpApiHandler;
import io.durablesessions.functions.publish.AppendHandler;
import io.durablesessions.functions.store.Attrs;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.DeliveryMarks;
import io.durablesessions.functions.store.StoreSettings;
import io.durablesessions.functions.store.StoredEvent;
import io.durablesessions.functions.store.TableNames;
import io.durablesessions.functions.store.TableProvisioner;
import io.durablesessions.local.dynamodb.LocalDynamoDb;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.instrumentation.awssdk.v2_2.AwsSdkTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The spans the handlers make, read from an in-memory OpenTelemetry SDK. The DynamoDB client carries
 * the AWS SDK instrumentation the ADOT layer registers in Lambda, so the per-call spans are checked to
 * nest under the handlers' spans as they will there.
 */
class TracingTest {
    static final String TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

    static LocalDynamoDb server;
    static DynamoDbClient ddb;
    static InMemorySpanExporter spans;
    static Services services;

    @BeforeAll
    static void start() {
        server = LocalDynamoDb.start();
        spans = InMemorySpanExporter.create();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(spans))
                        .build())
                .build();
        ddb = DynamoDbClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(server.endpoint())
                .httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .overrideConfiguration(c ->
                        c.addExecutionInterceptor(AwsSdkTelemetry.create(otel).newExecutionInterceptor()))
                .build();
        TableNames tables =
                TableNames.withPrefix("tr" + UUID.randomUUID().toString().substring(0, 6) + "-");
        TableProvisioner.createAll(ddb, tables);
        // no subscriber is ever registered, so nothing is posted to this endpoint
        Sender sender = new Sender(Clients.management(Region.US_EAST_1, URI.create("http://127.0.0.1:9"), true));
        services = Services.create(
                        ddb,
                        tables,
                        StoreSettings.DEFAULTS,
                        Services.Limits.DEFAULTS,
                        Services.Features.DEFAULTS,
                        sender,
                        Clock.systemUTC())
                .withTracing(new Tracing(otel));
    }

    @AfterAll
    static void stop() {
        if (ddb != null) ddb.close();
        if (server != null) server.close();
    }

    @BeforeEach
    void clear() {
        spans.reset();
    }

    static final Principal AGENT = new Principal(
            "agent-1",
            "agent",
            List.of(Grant.all(Capability.READ, Capability.APPEND, Capability.AGENT)),
            "jti-1",
            0,
            Long.MAX_VALUE / 2);

    static APIGatewayV2WebSocketResponse wsAppend(String sessionId, String traceparentField) {
        String tp = traceparentField == null ? "" : ",\"traceparent\":" + traceparentField;
        APIGatewayV2WebSocketEvent e = new APIGatewayV2WebSocketEvent();
        e.setBody(
                "{\"action\":\"append\",\"requestId\":\"r1\",\"sessionId\":\"" + sessionId + "\"" + tp
                        + ",\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"a\"}},{\"type\":\"custom\",\"data\":{\"name\":\"b\"}}]}");
        var ctx = new APIGatewayV2WebSocketEvent.RequestContext();
        ctx.setConnectionId("conn-1");
        ctx.setRouteKey("append");
        ctx.setAuthorizer(Map.of(ConnectAuthorizer.CONTEXT_PRINCIPAL, AGENT.toJson()));
        e.setRequestContext(ctx);
        return new AppendHandler(services).handleRequest(e, null);
    }

    static SpanData only(String name) {
        List<SpanData> found = spans.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals(name))
                .toList();
        assertThat(found).as("spans named " + name + " among " + names()).hasSize(1);
        return found.get(0);
    }

    static List<String> names() {
        return spans.getFinishedSpanItems().stream().map(SpanData::getName).toList();
    }

    static List<SpanData> childrenOf(SpanData parent) {
        return spans.getFinishedSpanItems().stream()
                .filter(s -> s.getParentSpanId().equals(parent.getSpanId()))
                .toList();
    }

    static List<String> storedTraceparents(String sessionId) {
        List<String> out = new ArrayList<>();
        for (StoredEvent e : services.sessions().readAfter(sessionId, 0, 100).events()) {
            out.add(Json.parseObject(e.json()).path("traceparent").asText(null));
        }
        return out;
    }

    @Test
    void anAppendWithATraceparentContinuesTheWritersTraceAndStoresItWithEveryEvent() {
        String session = "s-" + UUID.randomUUID();
        APIGatewayV2WebSocketResponse r = wsAppend(session, "\"" + TP + "\"");
        assertThat(r.getBody()).contains("\"type\":\"ack\"");

        SpanData append = only("ws append");
        assertThat(append.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(append.getTraceId()).isEqualTo(TRACE_ID);
        assertThat(append.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
        assertThat(append.getParentSpanContext().isRemote()).isTrue();
        assertThat(append.getAttributes().get(Tracing.ROUTE)).isEqualTo("append");
        assertThat(append.getAttributes().get(Tracing.SESSION)).isEqualTo(session);
        assertThat(append.getAttributes().get(Tracing.FIRST_SEQ)).isEqualTo(1L);
        assertThat(append.getAttributes().get(Tracing.LAST_SEQ)).isEqualTo(2L);
        assertThat(append.getAttributes().get(Tracing.OUTCOME)).isEqualTo("ok");
        assertThat(append.getAttributes().get(Tracing.REQUEST_ID)).isEqualTo("r1");

        // each DynamoDB call of the append (reads, the transaction) is a client span under it
        List<String> dynamo = childrenOf(append).stream()
                .filter(s -> s.getKind() == SpanKind.CLIENT)
                .map(SpanData::getName)
                .toList();
        assertThat(dynamo).contains("DynamoDb.TransactWriteItems").allMatch(n -> n.startsWith("DynamoDb."));
        // direct delivery, with its subscriber read, under it too
        SpanData deliver = only("deliver");
        assertThat(deliver.getParentSpanId()).isEqualTo(append.getSpanId());
        assertThat(deliver.getAttributes().get(Tracing.SUBSCRIBERS)).isEqualTo(0L);
        assertThat(childrenOf(deliver)).extracting(SpanData::getName).contains("DynamoDb.Query");

        assertThat(storedTraceparents(session)).containsExactly(TP, TP);
    }

    @Test
    void anAppendWithoutOneStartsItsOwnTraceAndStoresNone() {
        String session = "s-" + UUID.randomUUID();
        wsAppend(session, null);
        SpanData append = only("ws append");
        assertThat(append.getParentSpanContext().isValid()).isFalse();
        assertThat(append.getTraceId()).isNotEqualTo(TRACE_ID);
        assertThat(storedTraceparents(session)).containsExactly(null, null);
    }

    @Test
    void anInvalidTraceparentIsRefusedAndRecordedAsTheOutcome() {
        String session = "s-" + UUID.randomUUID();
        APIGatewayV2WebSocketResponse r = wsAppend(session, "\"00-" + TRACE_ID + "-0000000000000000-01\"");
        assertThat(Json.parseObject(r.getBody()).path("code").asText()).isEqualTo("INVALID_MESSAGE");
        assertThat(Json.parseObject(r.getBody()).path("details").path("field").asText())
                .isEqualTo("traceparent");
        SpanData append = only("ws append");
        assertThat(append.getParentSpanContext().isValid()).isFalse();
        assertThat(append.getAttributes().get(Tracing.OUTCOME)).isEqualTo("INVALID_MESSAGE");
        assertThat(services.sessions().head(session)).isZero();
    }

    @Test
    void theFanOutLinksTheStoredTraceparentOfWhatItDelivers() {
        String session = "s-" + UUID.randomUUID();
        wsAppend(session, "\"" + TP + "\"");
        spans.reset();

        DynamodbEvent batch = new DynamodbEvent();
        List<DynamodbEvent.DynamodbStreamRecord> records = new ArrayList<>();
        // the stream's images carry the session's incarnation, as its DELIVERED row does
        long incarnation = new DeliveryMarks(services.dynamo(), services.tables())
                .read(session, true)
                .incarnation();
        for (StoredEvent e : services.sessions().readAfter(session, 0, 100).events()) {
            Map<String, com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue> image =
                    new HashMap<>();
            image.put(
                    Attrs.SESSION_ID,
                    new com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue().withS(session));
            image.put(
                    Attrs.SEQ,
                    new com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue()
                            .withN(Long.toString(e.seq())));
            image.put(
                    Attrs.EVENT_JSON,
                    new com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue().withS(e.json()));
            image.put(
                    Attrs.INCARNATION,
                    new com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue()
                            .withN(Long.toString(incarnation)));
            DynamodbEvent.DynamodbStreamRecord rec = new DynamodbEvent.DynamodbStreamRecord();
            rec.setEventName("INSERT");
            rec.setDynamodb(new StreamRecord().withNewImage(image).withSequenceNumber("10" + e.seq()));
            records.add(rec);
        }
        batch.setRecords(records);
        assertThat(new FanoutHandler(services).handleRequest(batch, null).getBatchItemFailures())
                .isEmpty();

        SpanData fanout = only("fanout");
        assertThat(fanout.getKind()).isEqualTo(SpanKind.CONSUMER);
        assertThat(fanout.getAttributes().get(Tracing.SESSIONS)).isEqualTo(1L);
        assertThat(fanout.getAttributes().get(Tracing.EVENTS)).isEqualTo(2L);
        SpanData deliver = only("deliver");
        assertThat(deliver.getParentSpanId())
                .as("on the pool's thread, still the invocation's child")
                .isEqualTo(fanout.getSpanId());
        assertThat(deliver.getAttributes().get(Tracing.SESSION)).isEqualTo(session);
        assertThat(deliver.getAttributes().get(Tracing.FIRST_SEQ)).isEqualTo(1L);
        assertThat(deliver.getAttributes().get(Tracing.LAST_SEQ)).isEqualTo(2L);
        // one link for the two events of the one append: to the writer's span
        assertThat(deliver.getLinks())
                .extracting(LinkData::getSpanContext)
                .singleElement()
                .satisfies(c -> {
                    assertThat(c.getTraceId()).isEqualTo(TRACE_ID);
                    assertThat(c.getSpanId()).isEqualTo("00f067aa0ba902b7");
                });
        // the delivery mark read is a DynamoDB call of the session's delivery
        assertThat(childrenOf(deliver)).extracting(SpanData::getName).contains("DynamoDb.GetItem");
    }

    static APIGatewayV2HTTPResponse httpAppend(String sessionId, String body, Map<String, String> headers) {
        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        e.setRouteKey("POST /v1/sessions/{sessionId}/events");
        e.setRawPath("/v1/sessions/" + sessionId + "/events");
        e.setPathParameters(Map.of("sessionId", sessionId));
        e.setHeaders(headers);
        e.setBody(body);
        var authorizer = new APIGatewayV2HTTPEvent.RequestContext.Authorizer();
        authorizer.setLambda(Map.of(HttpAuthorizer.CONTEXT_PRINCIPAL, AGENT.toJson()));
        var ctx = new APIGatewayV2HTTPEvent.RequestContext();
        ctx.setAuthorizer(authorizer);
        e.setRequestContext(ctx);
        return new HttpApiHandler(services, null, IamPrincipals.NONE).handleRequest(e, null);
    }

    static final String EVENTS = "\"events\":[{\"type\":\"custom\",\"data\":{\"name\":\"a\"}}]";

    @Test
    void overHttpTheHeaderCarriesItAndAnInvalidHeaderIsIgnored() {
        String session = "s-" + UUID.randomUUID();
        APIGatewayV2HTTPResponse ok = httpAppend(session, "{" + EVENTS + "}", Map.of("traceparent", TP));
        assertThat(ok.getStatusCode()).isEqualTo(200);
        SpanData span = only("http POST /v1/sessions/{sessionId}/events");
        assertThat(span.getTraceId()).isEqualTo(TRACE_ID);
        assertThat(span.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
        assertThat(span.getAttributes().get(Tracing.HTTP_STATUS)).isEqualTo(200L);
        assertThat(span.getAttributes().get(Tracing.FIRST_SEQ)).isEqualTo(1L);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("ds.outcome")))
                .isEqualTo("ok");

        spans.reset();
        // W3C: a receiver ignores a traceparent header it cannot parse; the append goes through
        assertThat(httpAppend(session, "{" + EVENTS + "}", Map.of("traceparent", "00-nonsense"))
                        .getStatusCode())
                .isEqualTo(200);
        assertThat(only("http POST /v1/sessions/{sessionId}/events")
                        .getParentSpanContext()
                        .isValid())
                .isFalse();
        assertThat(storedTraceparents(session)).containsExactly(TP, null);
    }

    @Test
    void overHttpTheBodysTraceparentWinsAndAnInvalidOneIsRefused() {
        String session = "s-" + UUID.randomUUID();
        String other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assertThat(httpAppend(session, "{\"traceparent\":\"" + other + "\"," + EVENTS + "}", Map.of("traceparent", TP))
                        .getStatusCode())
                .isEqualTo(200);
        assertThat(only("http POST /v1/sessions/{sessionId}/events").getTraceId())
                .isEqualTo(other.substring(3, 35));

        spans.reset();
        APIGatewayV2HTTPResponse bad = httpAppend(session, "{\"traceparent\":\"01-xyz\"," + EVENTS + "}", Map.of());
        assertThat(bad.getStatusCode()).isEqualTo(400);
        assertThat(Json.parseObject(bad.getBody()).path("details").path("field").asText())
                .isEqualTo("traceparent");
        assertThat(only("http POST /v1/sessions/{sessionId}/events")
                        .getAttributes()
                        .get(Tracing.OUTCOME))
                .isEqualTo("INVALID_MESSAGE");
        assertThat(storedTraceparents(session)).containsExactly(other);
    }

    @Test
    void aMessageThatNamesNoSessionHasASpanWithoutOne() {
        APIGatewayV2WebSocketEvent e = new APIGatewayV2WebSocketEvent();
        e.setBody("{\"action\":\"ping\",\"requestId\":\"p\"}");
        var ctx = new APIGatewayV2WebSocketEvent.RequestContext();
        ctx.setConnectionId("conn-ping");
        ctx.setRouteKey("$default");
        ctx.setAuthorizer(Map.of(ConnectAuthorizer.CONTEXT_PRINCIPAL, AGENT.toJson()));
        e.setRequestContext(ctx);
        services.connections().register(new Connection("conn-ping", AGENT, null, null, "i-1", 0));
        new io.durablesessions.functions.gateway.DefaultHandler(services).handleRequest(e, null);
        SpanData ping = only("ws $default");
        assertThat(ping.getAttributes().get(Tracing.SESSION)).isNull();
        assertThat(ping.getAttributes().get(Tracing.OUTCOME)).isEqualTo("ok");
    }
}
