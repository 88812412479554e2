package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * One conformance case as loaded from a YAML file under {@code cases/}: the protocol ids it
 * proves ({@code covers}), what the token source must offer ({@code requires}), and its steps.
 */
record Case(
        String id,
        String title,
        String area,
        String file,
        List<String> covers,
        List<String> requires,
        List<Step> steps) {

    /** What a case may require of the target; the runner skips a case whose requirement it cannot meet. */
    static final List<String> REQUIREMENTS = List.of(
            "special-tokens", // expired, not-yet-valid, future-iat, malformed-grant, wrong audience/issuer, expiring
            // tokens
            "fresh-subjects", // tokens for subjects no other case uses (revocation, presence budgets)
            "subprotocol"); // the deployment reads tokens from the Sec-WebSocket-Protocol offer

    /**
     * One step: its kind ({@code connect}, {@code send}, …), its arguments as written (templates,
     * substituted when the step runs), and for {@code loop}/{@code eventually} its inner steps, for
     * {@code parallel} its named branches.
     */
    record Step(String kind, JsonNode args, List<Step> steps, Map<String, List<Step>> branches, String where) {
        ObjectNode obj() {
            return args instanceof ObjectNode o ? o : Jsons.object();
        }

        String describe() {
            String on = args != null && args.has("on") ? " on " + args.get("on").asText() : "";
            if (kind.equals("check")
                    && args != null
                    && args.isObject()
                    && args.fieldNames().hasNext()) {
                return where + " check " + args.fieldNames().next() + on;
            }
            if (kind.equals("http") && args != null) {
                return where + " http " + args.path("method").asText("GET") + " "
                        + args.path("path").asText();
            }
            if (args != null && args.isTextual()) return where + " " + kind + " " + args.asText();
            return where + " " + kind + on;
        }
    }
}
