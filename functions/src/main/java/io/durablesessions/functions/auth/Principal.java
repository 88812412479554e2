package io.durablesessions.functions.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * A verified caller: the token's subject, its role ({@code agent}, {@code client},
 * {@code viewer}), its grants, the token id and issue time (for revocation) and its expiry
 * ({@code 0}: none, e.g. an IAM caller), which a cached authorizer verdict must not outlive.
 */
public record Principal(
        String subject, String role, List<Grant> grants, String tokenId, long issuedAtSeconds, long expiresAtSeconds) {
    public Principal {
        grants = List.copyOf(grants);
    }

    /**
     * Clock skew allowed around {@code exp}, {@code nbf} and {@code iat}: the same minute the token
     * verifier allows at {@code $connect}, so a token is valid for exactly as long on every message.
     */
    public static final long CLOCK_SKEW_SECONDS = 60;

    /** Past its {@code exp} (plus the skew): refused on every message, and its subscriptions end. */
    public boolean isExpired(long nowSeconds) {
        return expiresAtSeconds > 0 && nowSeconds >= expiresAtSeconds + CLOCK_SKEW_SECONDS;
    }

    /** Whether any grant, whatever it covers, carries {@code capability}. */
    public boolean canAnywhere(Capability capability) {
        if ("viewer".equals(role) && capability != Capability.READ) return false;
        for (Grant g : grants) if (g.caps().contains(capability)) return true;
        return false;
    }

    /** An operator: {@code admin} on every session (an {@code all} grant), e.g. to revoke tokens. */
    public boolean isOperator() {
        if ("viewer".equals(role)) return false;
        for (Grant g : grants) if (g.all() && g.caps().contains(Capability.ADMIN)) return true;
        return false;
    }

    public boolean can(Capability capability, String sessionId) {
        if ("viewer".equals(role) && capability != Capability.READ) return false;
        if (capability == Capability.AGENT && !"agent".equals(role)) return false;
        for (Grant g : grants) {
            if (g.covers(sessionId) && g.caps().contains(capability)) return true;
        }
        return false;
    }

    public String toJson() {
        ObjectNode n = Json.object()
                .put("sub", subject)
                .put("role", role)
                .put("jti", tokenId)
                .put("iat", issuedAtSeconds)
                .put("exp", expiresAtSeconds);
        var gs = n.putArray("grants");
        grants.forEach(g -> gs.add(g.toNode()));
        return Json.write(n);
    }

    public static Principal fromJson(String json) {
        ObjectNode n = Json.parseObject(json);
        List<Grant> grants = new ArrayList<>();
        for (JsonNode g : n.path("grants")) grants.add(Grant.fromNode(g));
        return new Principal(
                n.path("sub").asText(),
                n.path("role").asText(),
                grants,
                n.hasNonNull("jti") ? n.get("jti").asText() : null,
                n.path("iat").asLong(),
                n.path("exp").asLong());
    }
}
