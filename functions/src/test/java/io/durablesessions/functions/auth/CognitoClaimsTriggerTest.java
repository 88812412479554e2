package io.durablesessions.functions.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import io.durablesessions.events.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The pre token generation trigger: role from groups, grants from the admin-only attribute. */
class CognitoClaimsTriggerTest {
    static final String SUB = "4f1c2a7e-0b6d-4c1e-9a55-3d2b8e7f6a10";

    /** A version 2 event as Cognito sends it (trimmed to what the trigger reads, plus context fields). */
    static Map<String, Object> event(List<String> groups, String grantsAttribute) throws Exception {
        String attrs = grantsAttribute == null
                ? ""
                : ", \"custom:grants\": " + Json.MAPPER.writeValueAsString(grantsAttribute);
        String json = """
                {"version": "2", "triggerSource": "TokenGeneration_Authentication", "region": "eu-west-1",
                 "userPoolId": "eu-west-1_AbCdEf123", "userName": "ana",
                 "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "3n4b5urk1ft4fl3mg5e62d9ado"},
                 "request": {"userAttributes": {"sub": "%s", "email": "ana@example.test"%s},
                             "groupConfiguration": {"groupsToOverride": %s, "iamRolesToOverride": [], "preferredRole": null},
                             "scopes": ["openid"]},
                 "response": {"claimsAndScopeOverrideDetails": null}}
                """.formatted(SUB, attrs, Json.MAPPER.writeValueAsString(groups));
        return Json.MAPPER.readValue(json, new TypeReference<Map<String, Object>>() {});
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> idClaims(Map<String, Object> out) {
        var details =
                (Map<String, Object>) ((Map<String, Object>) out.get("response")).get("claimsAndScopeOverrideDetails");
        assertThat(((Map<String, Object>) details.get("accessTokenGeneration")).get("claimsToAddOrOverride"))
                .isEqualTo(((Map<String, Object>) details.get("idTokenGeneration")).get("claimsToAddOrOverride"));
        return (Map<String, Object>)
                ((Map<String, Object>) details.get("idTokenGeneration")).get("claimsToAddOrOverride");
    }

    static Map<String, Object> run(List<String> groups, String grants) throws Exception {
        return idClaims(new CognitoClaimsTrigger().handleRequest(event(groups, grants), null));
    }

    @Test
    void theRoleComesFromTheMostPrivilegedRoleGroupAndDefaultsToClient() throws Exception {
        assertThat(run(List.of("viewer", "agent", "staff"), null)).containsEntry("role", "agent");
        assertThat(run(List.of("viewer"), null)).containsEntry("role", "viewer");
        assertThat(run(List.of(), null)).containsEntry("role", "client");
        assertThat(run(List.of("admins"), null)).containsEntry("role", "client");
    }

    @Test
    void grantsComeFromTheAttributeElseTheRolesRightsOnTheUsersOwnSessions() throws Exception {
        String tenant =
                "[{\"prefix\":\"tenant-a:\",\"caps\":[\"read\",\"append\",\"control\"]},{\"session\":\"lobby\",\"caps\":[\"read\"]}]";
        assertThat(run(List.of(), tenant).get("grants"))
                .isEqualTo(List.of(
                        Map.of("prefix", "tenant-a:", "caps", List.of("read", "append", "control")),
                        Map.of("session", "lobby", "caps", List.of("read"))));
        assertThat(run(List.of("agent"), null).get("grants"))
                .isEqualTo(List.of(Map.of("prefix", SUB + ":", "caps", List.of("read", "append", "agent"))));
        // unreadable attributes never widen anything: the default grant
        for (String bad : List.of(
                "not json", "{}", "[]", "[{\"caps\":[\"read\"]}]", "[{\"prefix\":\"x\",\"caps\":[\"root\"]}]")) {
            assertThat(run(List.of("viewer"), bad).get("grants"))
                    .as(bad)
                    .isEqualTo(List.of(Map.of("prefix", SUB + ":", "caps", List.of("read"))));
        }
    }

    @Test
    void theRestOfTheEventIsReturnedAndATokenWithTheseClaimsIsWhatTheServiceAccepts() throws Exception {
        Map<String, Object> out = new CognitoClaimsTrigger()
                .handleRequest(
                        event(List.of("client"), "[{\"prefix\":\"tenant-a:\",\"caps\":[\"read\",\"append\"]}]"), null);
        assertThat(out).containsEntry("userName", "ana").containsKey("request");
        Map<String, Object> claims = idClaims(out);
        // the claims as a token carries them, verified the way the authorizers do
        @SuppressWarnings("unchecked")
        List<Grant> grants = ((List<Map<String, Object>>) claims.get("grants"))
                .stream().map(m -> Grant.fromNode(Json.MAPPER.valueToTree(m))).toList();
        AuthConfig local = AuthConfig.localDevelopment();
        String token = DevTokens.mint(
                local,
                SUB,
                (String) claims.get("role"),
                grants,
                Instant.now(),
                Instant.now().plus(Duration.ofMinutes(5)),
                UUID.randomUUID().toString(),
                local.audience());
        Principal p = new TokenVerifier(local).verify(token);
        assertThat(p.role()).isEqualTo("client");
        assertThat(p.grants()).containsExactly(Grant.prefix("tenant-a:", Capability.READ, Capability.APPEND));
    }
}
