package io.durablesessions.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Pre-issued tokens, one per principal name ({@code {"agentA": "eyJ…", "user": "eyJ…", …}}), for
 * deployments whose identity provider the kit cannot drive. Cases that need a fresh subject or a
 * specially wrong token are skipped; a principal missing from the file skips the cases that use it.
 */
final class FileTokens implements TokenSource {
    private final Path file;
    private final Map<String, String> tokens = new LinkedHashMap<>();
    private final Map<String, String> subjects = new LinkedHashMap<>();

    FileTokens(Path file) throws IOException {
        this.file = file;
        JsonNode root = Jsons.parse(Files.readString(file));
        if (!root.isObject())
            throw new IllegalArgumentException(file + ": expected a JSON object of principal name -> token");
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (!Principals.ALL.containsKey(e.getKey())) {
                throw new IllegalArgumentException(
                        file + ": '" + e.getKey() + "' is not a principal (one of " + Principals.ALL.keySet() + ")");
            }
            if (!e.getValue().isTextual())
                throw new IllegalArgumentException(file + ": the token of " + e.getKey() + " is not a string");
            String token = e.getValue().textValue().strip();
            try {
                subjects.put(e.getKey(), TokenSource.subjectOf(token));
            } catch (IllegalArgumentException bad) {
                throw new IllegalArgumentException(file + ": the token of " + e.getKey() + ": " + bad.getMessage());
            }
            tokens.put(e.getKey(), token);
        }
    }

    @Override
    public String describe() {
        return "token file " + file + " (" + String.join(", ", tokens.keySet()) + ")";
    }

    @Override
    public boolean mintsSubjects() {
        return false;
    }

    @Override
    public boolean mintsSpecial() {
        return false;
    }

    @Override
    public boolean cheap() {
        return false;
    }

    @Override
    public String token(Principals.Spec spec, String subject, Variant variant) {
        String t = tokens.get(spec.name());
        if (t == null) throw new Skip("the token file has no token for " + spec.name());
        return t;
    }

    @Override
    public String ownSubject(String principal) {
        return subjects.get(principal);
    }
}
