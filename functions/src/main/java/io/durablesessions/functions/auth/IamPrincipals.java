package io.durablesessions.functions.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Assembler;
import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who an IAM (SigV4) caller of the HTTP API is: API Gateway has verified the signature and names
 * the caller's ARN; this table, written by the operator (env {@code IAM_PRINCIPALS}, CDK context
 * {@code iamPrincipals}), gives that ARN a subject, a role and grants, exactly like a token's
 * claims. An ARN not in the table gets nothing.
 *
 * <pre>{"arn:aws:iam::123456789012:role/research-agent":
 *     {"subject": "research-agent", "role": "agent",
 *      "grants": [{"prefix": "tenant-a:", "caps": ["read", "append", "agent"]}]}}</pre>
 *
 * A role's callers arrive as {@code arn:aws:sts::<account>:assumed-role/<name>/<session>}; they
 * match the entry {@code arn:aws:iam::<account>:role/<name>} (write role ARNs without their path:
 * the assumed-role ARN does not carry it).
 */
public record IamPrincipals(Map<String, Principal> byArn) {
    public static final String ENV = "IAM_PRINCIPALS";
    public static final IamPrincipals NONE = new IamPrincipals(Map.of());

    public IamPrincipals {
        byArn = Map.copyOf(byArn);
    }

    public static IamPrincipals fromEnvironment(Map<String, String> env) {
        String json = env.get(ENV);
        return json == null || json.isBlank() ? NONE : parse(json);
    }

    /** Reads the table; anything malformed fails loudly (at cold start, or at synth in the CDK app). */
    public static IamPrincipals parse(String json) {
        ObjectNode root;
        try {
            root = Json.parseObject(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(ENV + " must be a JSON object {arn: {subject, role, grants}}", e);
        }
        Map<String, Principal> out = new LinkedHashMap<>();
        for (var e : root.properties()) {
            String arn = e.getKey();
            if (!arn.matches("arn:[a-z-]+:iam::\\d{12}:(role|user)/[^/]+")) {
                throw new IllegalArgumentException(ENV + ": '" + arn
                        + "' is not an IAM role or user ARN without a path " + "(arn:aws:iam::<account>:role/<name>)");
            }
            JsonNode v = e.getValue();
            String subject = v.path("subject").asText("");
            String role = v.path("role").asText("");
            if (!Fields.isValidId(subject) || Assembler.SERVICE.equals(subject)) {
                throw new IllegalArgumentException(
                        ENV + ": " + arn + " needs a valid 'subject' (not the reserved 'service')");
            }
            if (!Set.of("agent", "client", "viewer").contains(role)) {
                throw new IllegalArgumentException(ENV + ": " + arn + " needs 'role' agent, client or viewer");
            }
            List<Grant> grants = new ArrayList<>();
            for (JsonNode g : v.path("grants")) grants.add(Grant.fromNode(g));
            if (grants.isEmpty()) throw new IllegalArgumentException(ENV + ": " + arn + " has no grants");
            out.put(arn, new Principal(subject, role, grants, null, 0, 0));
        }
        return new IamPrincipals(out);
    }

    /** The principal of a verified caller ARN, or null when the operator gave it nothing. */
    public Principal principalOf(String callerArn) {
        if (callerArn == null) return null;
        Principal direct = byArn.get(callerArn);
        return direct != null ? direct : byArn.get(roleOf(callerArn));
    }

    /** {@code arn:aws:sts::1:assumed-role/name/session} → {@code arn:aws:iam::1:role/name}; other ARNs unchanged. */
    static String roleOf(String arn) {
        String[] p = arn.split(":", 6);
        if (p.length != 6 || !p[2].equals("sts") || !p[5].startsWith("assumed-role/")) return arn;
        String[] path = p[5].split("/");
        if (path.length < 2) return arn;
        return "arn:" + p[1] + ":iam::" + p[4] + ":role/" + path[1];
    }
}
