package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.events.Event;
import io.durablesessions.local.LocalIam;
import io.durablesessions.testing.TestStack;
import io.durablesessions.testing.WithTestStack;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;

/**
 * An agent running in AWS under a role, on the IAM-authorized HTTP API: the SDK's
 * {@link RequestSigner} hook with the AWS SDK's SigV4 signer, no token at all.
 */
@WithTestStack
class IamHttpAgentTest {
    final TestStack stack;

    IamHttpAgentTest(TestStack stack) {
        this.stack = stack;
    }

    /** SigV4 for execute-api with the AWS SDK's signer: what an agent in AWS plugs in (with its role's credentials). */
    static RequestSigner sigV4(String accessKey, String secret) {
        AwsV4HttpSigner signer = AwsV4HttpSigner.create();
        return (method, uri, headers, body) -> {
            SdkHttpRequest.Builder request = SdkHttpRequest.builder()
                    .method(SdkHttpMethod.fromValue(method))
                    .uri(uri);
            headers.forEach(request::putHeader);
            var signed = signer.sign(r -> r.identity(AwsBasicCredentials.create(accessKey, secret))
                    .request(request.build())
                    .payload(ContentStreamProvider.fromByteArray(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "execute-api")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, LocalIam.REGION));
            Map<String, String> added = new LinkedHashMap<>();
            signed.request().forEachHeader((name, values) -> added.put(name, String.join(",", values)));
            return added;
        };
    }

    @Test
    void aSignedAgentStreamsARunUnderTheSubjectItsRoleIsMappedTo() {
        String s = "iam-agent-" + UUID.randomUUID();
        URI iamApi = stack.iamHttpApiUrl();
        try (DurableAgent agent = DurableAgent.builder(iamApi, s, "role-writer")
                .requestSigner(sigV4(LocalIam.ACCESS_KEY_ID, LocalIam.SECRET_ACCESS_KEY))
                .connect()) {
            DurableAgent.Run run = agent.startRun("run-iam");
            DurableAgent.Reply reply = run.startReply("m-iam");
            for (int i = 0; i < 50; i++) reply.delta("w" + i + " ");
            assertThat(reply.end()).isTrue();
            assertThat(run.complete()).isTrue();
        }
        List<Event> log = stack.storedLog(s);
        assertThat(Stacks.text(log, "m-iam")).startsWith("w0 w1 ").endsWith("w49 ");
        // every event is the mapped subject's, whatever the request said
        assertThat(log).allSatisfy(e -> assertThat(e.agentId()).isEqualTo("local-agent"));
    }

    @Test
    void aWrongSecretIsRefusedAsUnauthorizedAndWritesNothing() {
        String s = "iam-bad-" + UUID.randomUUID();
        try (DurableAgent agent = DurableAgent.builder(stack.iamHttpApiUrl(), s, "role-writer")
                .requestSigner(sigV4(LocalIam.ACCESS_KEY_ID, "wrong-secret"))
                .connect()) {
            assertThatThrownBy(() -> agent.startRun("run-x"))
                    .isInstanceOfSatisfying(
                            DurableSessionException.class,
                            e -> assertThat(e.code()).isEqualTo("UNAUTHORIZED"));
        }
        assertThat(stack.storedLog(s)).isEmpty();
    }
}
