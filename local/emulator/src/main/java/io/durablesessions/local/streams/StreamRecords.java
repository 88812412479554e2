package io.durablesessions.local.streams;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent.DynamodbStreamRecord;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.Identity;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamViewType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.Record;

/**
 * Converts DynamoDB Streams records as read with SDK v2 into the Lambda events model, i.e. into what
 * a function subscribed through an event source mapping receives (the ESM adds {@code eventSourceARN}).
 */
public final class StreamRecords {
    private StreamRecords() {}

    public static DynamodbEvent toEvent(List<Record> records, String streamArn) {
        DynamodbEvent event = new DynamodbEvent();
        event.setRecords(
                records.stream().map(r -> toLambda(r, streamArn)).collect(Collectors.toCollection(ArrayList::new)));
        return event;
    }

    public static DynamodbStreamRecord toLambda(Record record, String streamArn) {
        DynamodbStreamRecord out = new DynamodbStreamRecord();
        out.setEventID(record.eventID());
        out.setEventName(record.eventNameAsString());
        out.setEventVersion(record.eventVersion());
        out.setEventSource(record.eventSource());
        out.setAwsRegion(record.awsRegion());
        out.setEventSourceARN(streamArn);
        if (record.userIdentity() != null) {
            Identity identity = new Identity();
            identity.setType(record.userIdentity().type());
            identity.setPrincipalId(record.userIdentity().principalId());
            out.setUserIdentity(identity);
        }
        var ddb = record.dynamodb();
        if (ddb != null) {
            StreamRecord sr = new StreamRecord();
            if (ddb.approximateCreationDateTime() != null)
                sr.setApproximateCreationDateTime(Date.from(ddb.approximateCreationDateTime()));
            // Absent images stay null, as in the JSON Lambda delivers (the SDK auto-constructs empty maps).
            if (ddb.hasKeys()) sr.setKeys(toLambda(ddb.keys()));
            if (ddb.hasNewImage()) sr.setNewImage(toLambda(ddb.newImage()));
            if (ddb.hasOldImage()) sr.setOldImage(toLambda(ddb.oldImage()));
            sr.setSequenceNumber(ddb.sequenceNumber());
            sr.setSizeBytes(ddb.sizeBytes());
            if (ddb.streamViewTypeAsString() != null)
                sr.setStreamViewType(StreamViewType.fromValue(ddb.streamViewTypeAsString()));
            out.setDynamodb(sr);
        }
        return out;
    }

    public static Map<String, AttributeValue> toLambda(
            Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue> item) {
        Map<String, AttributeValue> out = new LinkedHashMap<>();
        item.forEach((name, value) -> out.put(name, toLambda(value)));
        return out;
    }

    public static AttributeValue toLambda(software.amazon.awssdk.services.dynamodb.model.AttributeValue v) {
        AttributeValue out = new AttributeValue();
        switch (v.type()) {
            case S -> out.setS(v.s());
            case N -> out.setN(v.n());
            case B -> out.setB(bytes(v.b()));
            case SS -> out.setSS(new ArrayList<>(v.ss()));
            case NS -> out.setNS(new ArrayList<>(v.ns()));
            case BS ->
                out.setBS(v.bs().stream().map(StreamRecords::bytes).collect(Collectors.toCollection(ArrayList::new)));
            case M -> out.setM(toLambda(v.m()));
            case L ->
                out.setL(v.l().stream().map(StreamRecords::toLambda).collect(Collectors.toCollection(ArrayList::new)));
            case BOOL -> out.setBOOL(v.bool());
            case NUL -> out.setNULL(v.nul());
            case UNKNOWN_TO_SDK_VERSION -> throw new IllegalArgumentException("unsupported attribute value: " + v);
        }
        return out;
    }

    private static ByteBuffer bytes(SdkBytes b) {
        return ByteBuffer.wrap(b.asByteArray());
    }
}
