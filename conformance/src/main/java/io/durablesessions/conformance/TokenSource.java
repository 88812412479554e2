package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * Where the runner gets its tokens (conformance/README.md, "Tokens"): minted with the deployment's
 * HS256 secret, printed by a command (e.g. scripts/token), or read from a file of pre-issued tokens.
 */
interface TokenSource {

    /** Tokens that are wrong on purpose; {@link #VALID} is the normal one. */
    enum Variant {
        VALID,
        EXPIRED,
        NOT_YET_VALID,
        FUTURE_IAT,
        MALFORMED_GRANT,
        WRONG_AUDIENCE,
        WRONG_ISSUER,
        BAD_SIGNATURE,
        /** valid at the handshake only thanks to the minute of clock skew; expires a few seconds later */
        EXPIRING,
        /** a valid token whose signature was altered: any source can make one */
        TAMPERED,
        /** not a JWT at all */
        GARBAGE,
        /** no token */
        NONE;

        static Variant of(String wire) {
            try {
                return valueOf(wire.toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new CaseFailure("unknown token variant '" + wire + "'");
            }
        }

        /** Whether only a source that signs tokens itself can make it. */
        boolean needsSigning() {
            return this != VALID && this != TAMPERED && this != GARBAGE && this != NONE;
        }
    }

    /** One line for the report header. */
    String describe();

    /** Whether the source makes a token for any subject the runner names (else only its own principals). */
    boolean mintsSubjects();

    /** Whether it can make the {@link Variant#needsSigning()} variants. */
    boolean mintsSpecial();

    /** Whether minting is cheap enough to give every case its own subjects (isolates per-subject budgets). */
    boolean cheap();

    /**
     * A token for {@code spec}'s role and grants. {@code subject} is the runner's choice when
     * {@link #mintsSubjects()}, else ignored; {@code variant} is one this source can make.
     */
    String token(Principals.Spec spec, String subject, Variant variant);

    /** The subject of this source's own token for a principal (sources that do not mint subjects); null if none. */
    default String ownSubject(String principal) {
        return null;
    }

    /** The {@code sub} claim of a JWT, read without verifying it (the service verifies; the kit only needs the name). */
    static String subjectOf(String jwt) {
        String[] parts = jwt.split("\\.");
        if (parts.length != 3) throw new IllegalArgumentException("not a JWT (expected three dot-separated parts)");
        JsonNode claims = Jsons.parse(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
        String sub = claims.path("sub").asText(null);
        if (sub == null) throw new IllegalArgumentException("the token has no sub claim");
        return sub;
    }

    /** The same token with its signature changed: the service must refuse it. */
    static String tampered(String jwt) {
        int dot = jwt.lastIndexOf('.');
        String sig = jwt.substring(dot + 1);
        if (sig.isEmpty()) return jwt + "AAAA";
        char c = sig.charAt(sig.length() / 2);
        char other = c == 'A' ? 'B' : 'A';
        return jwt.substring(0, dot + 1)
                + sig.substring(0, sig.length() / 2)
                + other
                + sig.substring(sig.length() / 2 + 1);
    }
}
