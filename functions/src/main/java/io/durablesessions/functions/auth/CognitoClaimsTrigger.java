package io.durablesessions.functions.auth;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Cognito's pre token generation trigger (event version 2, set by {@code infra/…/CognitoAuth}):
 * puts the {@code role} and {@code grants} claims this service reads ({@link TokenVerifier}) into
 * the ID token (and the access token), from what only an administrator can set:
 * <ul>
 *   <li>{@code role}: the user's group {@code agent}, {@code client} or {@code viewer} (the first
 *       of these, in that order, the user is in); no such group: {@code client};</li>
 *   <li>{@code grants}: the JSON array in the user attribute {@code custom:grants}, e.g.
 *       {@code [{"prefix":"tenant-a:","caps":["read","append","control"]}]}; absent or unreadable:
 *       the role's capabilities on the user's own sessions, those whose id starts with
 *       {@code <sub>:}.</li>
 * </ul>
 * The app client may not write {@code custom:grants} and users cannot join groups, so a user
 * cannot raise their own rights. The handler takes and returns the raw event (a map), because
 * version 2 claims may be arrays and objects. No AWS call, no state.
 */
public final class CognitoClaimsTrigger implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    public static final String GRANTS_ATTRIBUTE = "custom:grants";
    /** Role groups, most privileged first. */
    public static final List<String> ROLE_GROUPS = List.of("agent", "client", "viewer");

    private static final Logger LOG = Logger.getLogger(CognitoClaimsTrigger.class.getName());

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        Map<String, Object> request = (Map<String, Object>) event.getOrDefault("request", Map.of());
        Map<String, Object> attributes = (Map<String, Object>) request.getOrDefault("userAttributes", Map.of());
        Map<String, Object> groupConfig = (Map<String, Object>) request.getOrDefault("groupConfiguration", Map.of());
        List<Object> groups = groupConfig.get("groupsToOverride") instanceof List<?> l ? (List<Object>) l : List.of();
        String subject = String.valueOf(attributes.getOrDefault("sub", ""));
        String role = role(groups);
        List<Map<String, Object>> grants = grants(attributes.get(GRANTS_ATTRIBUTE), role, subject);

        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("role", role);
        claims.put("grants", grants);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("idTokenGeneration", Map.of("claimsToAddOrOverride", claims));
        details.put("accessTokenGeneration", Map.of("claimsToAddOrOverride", claims));
        Map<String, Object> response = event.get("response") instanceof Map<?, ?> r
                ? new LinkedHashMap<>((Map<String, Object>) r)
                : new LinkedHashMap<>();
        response.put("claimsAndScopeOverrideDetails", details);
        Map<String, Object> out = new LinkedHashMap<>(event);
        out.put("response", response);
        return out;
    }

    static String role(List<Object> groups) {
        for (String r : ROLE_GROUPS) if (groups.contains(r)) return r;
        return "client";
    }

    /** The attribute's grants when every one of them reads as a grant; else the role's rights on {@code <sub>:}. */
    static List<Map<String, Object>> grants(Object attribute, String role, String subject) {
        if (attribute instanceof String text && !text.isBlank()) {
            try {
                JsonNode array = Json.MAPPER.readTree(text);
                if (!array.isArray() || array.isEmpty()) throw new IllegalArgumentException("not a non-empty array");
                List<Map<String, Object>> out = new ArrayList<>();
                for (JsonNode g : array) out.add(asMap(Grant.fromNode(g)));
                return out;
            } catch (Exception e) {
                LOG.warning(GRANTS_ATTRIBUTE + " of a user is not a JSON array of grants (" + e.getMessage()
                        + "); the user gets the default grant on their own sessions");
            }
        }
        Capability[] caps = switch (role) {
            case "agent" -> new Capability[] {Capability.READ, Capability.APPEND, Capability.AGENT};
            case "viewer" -> new Capability[] {Capability.READ};
            default -> new Capability[] {Capability.READ, Capability.APPEND, Capability.CONTROL};
        };
        return List.of(asMap(Grant.prefix(subject + ":", caps)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Grant g) {
        return Json.MAPPER.convertValue(g.toNode(), Map.class);
    }
}
