package io.durablesessions.local.streams;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Lambda {@link Context} of one stream-triggered invocation; the remaining time counts down from 60 s. */
record InvocationContext(String awsRequestId, String functionName, long deadlineNanos, Logger log) implements Context {
    private static final long TIMEOUT_NANOS = 60_000_000_000L;

    static InvocationContext next(String functionName) {
        return new InvocationContext(UUID.randomUUID().toString(), functionName, System.nanoTime() + TIMEOUT_NANOS,
                LoggerFactory.getLogger("lambda." + functionName));
    }

    @Override public String getAwsRequestId() { return awsRequestId; }
    @Override public String getLogGroupName() { return "/aws/lambda/" + functionName; }
    @Override public String getLogStreamName() { return "local"; }
    @Override public String getFunctionName() { return functionName; }
    @Override public String getFunctionVersion() { return "$LATEST"; }
    @Override public String getInvokedFunctionArn() { return "arn:aws:lambda:local:000000000000:function:" + functionName; }
    @Override public CognitoIdentity getIdentity() { return null; }
    @Override public ClientContext getClientContext() { return null; }
    @Override public int getMemoryLimitInMB() { return 512; }

    @Override public int getRemainingTimeInMillis() {
        return (int) Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }

    @Override public LambdaLogger getLogger() {
        return new LambdaLogger() {
            @Override public void log(String message) { log.info(message.stripTrailing()); }
            @Override public void log(byte[] message) { log(new String(message, StandardCharsets.UTF_8)); }
        };
    }
}
