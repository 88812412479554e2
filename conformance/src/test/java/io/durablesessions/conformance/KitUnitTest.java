package io.durablesessions.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.functions.auth.AuthConfig;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.auth.TokenVerifier;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kit's own parts: matching, the client rule, variables, case files, tokens and the command line. */
class KitUnitTest {

    static JsonNode json(String s) {
        return Jsons.parse(s);
    }

    @Test
    void partialMatchingIgnoresOtherFieldsAndNamesTheFirstMismatch() {
        assertThat(Match.mismatch(json("{\"type\":\"ack\"}"), json("{\"type\":\"ack\",\"firstSeq\":3}")))
                .isNull();
        assertThat(Match.mismatch(json("{\"type\":\"ack\",\"firstSeq\":4}"), json("{\"type\":\"ack\",\"firstSeq\":3}")))
                .isEqualTo("firstSeq: expected 4, got 3");
        assertThat(Match.mismatch(json("{\"a\":[1,2]}"), json("{\"a\":[1]}"))).contains("expected 2 elements");
        assertThat(Match.mismatch(json("{\"a\":2}"), json("{\"a\":2.0}"))).isNull();
        assertThat(Match.mismatch(json("{\"a\":\"$absent\"}"), json("{\"a\":null}")))
                .isNull();
        assertThat(Match.mismatch(json("{\"a\":\"$absent\"}"), json("{\"a\":1}")))
                .isNotNull();
        assertThat(Match.mismatch(json("{\"a\":\"$gt:3\"}"), json("{\"a\":4}"))).isNull();
        assertThat(Match.mismatch(json("{\"a\":\"$gt:3\"}"), json("{\"a\":3}"))).isNotNull();
        assertThat(Match.mismatch(json("{\"a\":\"$notIn:x,y\"}"), json("{\"a\":\"y\"}")))
                .isNotNull();
        assertThat(Match.mismatch(json("[\"$contains\",{\"k\":2}]"), json("[{\"k\":1},{\"k\":2,\"z\":0}]")))
                .isNull();
        assertThat(Match.mismatch(json("{\"t\":\"$length:3\"}"), json("{\"t\":\"abc\"}")))
                .isNull();
    }

    @Test
    void theClientRuleDropsRepeatsHoldsGapsAndFlagsDisorder() {
        JsonNode f1 = json("[{\"seq\":1},{\"seq\":2}]");
        JsonNode f2 = json("[{\"seq\":2},{\"seq\":4}]");
        JsonNode f3 = json("[{\"seq\":3}]");
        ReaderRule.Result r = ReaderRule.apply(0, List.of(f1, f2));
        assertThat(r.last()).isEqualTo(2);
        assertThat(r.buffered()).containsExactly(4L);
        r = ReaderRule.apply(0, List.of(f1, f2, f3));
        assertThat(r.last()).isEqualTo(4);
        assertThat(r.applied()).extracting(e -> e.get("seq").asLong()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(ReaderRule.apply(0, List.of(json("[{\"seq\":2},{\"seq\":1}]")))
                        .orderProblem())
                .isNotNull();
        assertThat(ReaderRule.apply(3, List.of(f1, f2, f3)).applied())
                .extracting(e -> e.get("seq").asLong())
                .containsExactly(4L);
    }

    @Test
    void variablesKeepTheirTypeAndGeneratorsBuildLargeInput() {
        Vars v = new Vars(null);
        v.put("n", 7);
        v.put("s", "abc");
        assertThat(Jsons.write(v.subst(json("{\"seq\":\"${n}\",\"id\":\"x-${n}-${s}\"}"))))
                .isEqualTo("{\"seq\":7,\"id\":\"x-7-abc\"}");
        assertThat(v.string("${repeat:3:ab}")).isEqualTo("ababab");
        assertThat(v.subst(json("\"${nest:3}\""))).isEqualTo(json("{\"n\":{\"n\":{}}}"));
        assertThat(v.subst(json("{\"$repeat\":2,\"item\":{\"id\":\"t${n}\"}}")))
                .isEqualTo(json("[{\"id\":\"t0\"},{\"id\":\"t1\"}]"));
        assertThatThrownBy(() -> v.string("${nope}")).hasMessageContaining("unknown variable ${nope}");
        Vars inner = v.child();
        inner.capture("c", json("5"));
        assertThat(v.get("c")).isEqualTo(json("5")); // captures reach the case, also from loops and branches
    }

    @Test
    void caseFilesAreJsonScalarsOnlyAndCheckedWhenLoaded() {
        JsonNode doc = CaseLoader.yaml("on: yes\nn: 1:20\nt: true\nx: null\n", "t.yaml");
        assertThat(doc).isEqualTo(json("{\"on\":\"yes\",\"n\":\"1:20\",\"t\":true,\"x\":null}"));
        assertThatThrownBy(() -> CaseLoader.parse(CaseLoader.yaml("""
                area: a
                cases:
                  - {id: a.x, title: t, covers: [log.seq], steps: [{sned: {on: c}}]}
                """, "t.yaml"), "t.yaml"))
                .hasMessageContaining("unknown step kind");
        assertThatThrownBy(() -> CaseLoader.parse(CaseLoader.yaml("""
                area: a
                cases:
                  - {id: a.x, title: t, covers: [log.seq], steps: [{send: {on: c, frame: {}, expct: {}}}]}
                """, "t.yaml"), "t.yaml"))
                .hasMessageContaining("unknown argument 'expct'");
        assertThatThrownBy(() -> CaseLoader.parse(CaseLoader.yaml("""
                area: a
                cases:
                  - {id: a.x, title: t, covers: [log.seq], steps: [{check: {fence: {}}}]}
                """, "t.yaml"), "t.yaml"))
                .hasMessageContaining("missing argument 'run'");
        assertThatThrownBy(() -> CaseLoader.yaml("a: 1\na: 2\n", "t.yaml")).hasMessageContaining("duplicate");
        assertThat(CaseLoader.builtIn()).hasSizeGreaterThan(50);
    }

    @Test
    void mintedTokensAreWhatTheServicesVerifierAcceptsOrRefuses() throws Exception {
        AuthConfig local = AuthConfig.localDevelopment();
        Hs256Tokens tokens = new Hs256Tokens(AuthConfig.LOCAL_DEV_SECRET, local.issuer(), local.audience(), "conf-", 5);
        TokenVerifier verifier = new TokenVerifier(local);
        Principal user = verifier.verify(tokens.token(Principals.get("user"), "ana", TokenSource.Variant.VALID));
        assertThat(user.subject()).isEqualTo("ana");
        assertThat(user.role()).isEqualTo("client");
        assertThat(user.grants()).singleElement().satisfies(g -> {
            assertThat(g.prefix()).isEqualTo("conf-");
            assertThat(g.covers("conf-1")).isTrue();
        });
        Principal outsider = verifier.verify(tokens.token(Principals.get("outsider"), "o", TokenSource.Variant.VALID));
        assertThat(outsider.grants().get(0).covers("conf-1")).isFalse();
        assertThat(verifier.verify(tokens.token(Principals.get("operator"), "op", TokenSource.Variant.VALID))
                        .grants()
                        .get(0)
                        .all())
                .isTrue();
        // the expiring token passes at the handshake only thanks to the clock skew
        verifier.verify(tokens.token(Principals.get("user"), "m", TokenSource.Variant.EXPIRING));
        for (TokenSource.Variant bad : List.of(
                TokenSource.Variant.EXPIRED,
                TokenSource.Variant.NOT_YET_VALID,
                TokenSource.Variant.FUTURE_IAT,
                TokenSource.Variant.MALFORMED_GRANT,
                TokenSource.Variant.WRONG_AUDIENCE,
                TokenSource.Variant.WRONG_ISSUER,
                TokenSource.Variant.BAD_SIGNATURE)) {
            String t = tokens.token(Principals.get("user"), "ana", bad);
            assertThatThrownBy(() -> verifier.verify(t)).as(bad.name()).isInstanceOf(TokenVerifier.InvalidToken.class);
        }
        String valid = tokens.token(Principals.get("user"), "ana", TokenSource.Variant.VALID);
        assertThatThrownBy(() -> verifier.verify(TokenSource.tampered(valid)))
                .isInstanceOf(TokenVerifier.InvalidToken.class);
        assertThat(TokenSource.subjectOf(valid)).isEqualTo("ana");
    }

    @Test
    void aTokenFileNamesPrincipalsAndTheirSubjects(@TempDir Path dir) throws Exception {
        Hs256Tokens mint = new Hs256Tokens(AuthConfig.LOCAL_DEV_SECRET, "i", "a", "conf-", 5);
        Path file = dir.resolve("tokens.json");
        Files.writeString(
                file, "{\"user\": \"" + mint.token(Principals.get("user"), "ana", TokenSource.Variant.VALID) + "\"}");
        FileTokens tokens = new FileTokens(file);
        assertThat(tokens.ownSubject("user")).isEqualTo("ana");
        assertThatThrownBy(() -> tokens.token(Principals.get("viewer"), null, TokenSource.Variant.VALID))
                .isInstanceOf(Skip.class);
        Files.writeString(file, "{\"superuser\": \"x.y.z\"}");
        assertThatThrownBy(() -> new FileTokens(file)).hasMessageContaining("not a principal");
    }

    @Test
    void theTokenCommandGetsQuotedArguments() {
        assertThat(CommandTokens.quote("it's")).isEqualTo("'it'\\''s'");
        CommandTokens c = new CommandTokens("printf '%s|%s|%s|%s\\n' {subject} {role} {scope} {caps}", "conf-");
        assertThat(c.token(Principals.get("viewer"), "v.1", TokenSource.Variant.VALID))
                .isEqualTo("v.1|viewer|conf-*|read");
        assertThat(c.token(Principals.get("operator"), "op", TokenSource.Variant.VALID))
                .isEqualTo("op|client|*|read,append,control,admin");
    }

    @Test
    void withoutUrlsTheCommandPrintsItsUsageAndStartsNothing() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[0], new PrintStream(out), new PrintStream(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: scripts/conformance --ws URL --http URL");
        assertThat(Main.run(
                        new String[] {"--ws", "ws://h/s", "--http", "http://h", "--bogus"},
                        new PrintStream(out),
                        new PrintStream(err)))
                .isEqualTo(2);
        assertThat(Main.run(
                        new String[] {"--ws", "http://h/s", "--http", "http://h", "--tokens", "x"},
                        new PrintStream(out),
                        new PrintStream(err)))
                .isEqualTo(2);
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        assertThat(Main.run(new String[] {"--list"}, new PrintStream(list), new PrintStream(err)))
                .isZero();
        assertThat(list.toString(StandardCharsets.UTF_8))
                .contains("control.stop-race")
                .contains("run.stop");
    }

    @Test
    void onlySelectsByIdPrefixOrArea() {
        Case c = new Case("control.stop-race", "t", "control", "f", List.of("run.stop"), List.of(), List.of());
        Options o = Options.defaults(java.net.URI.create("ws://h/s"), java.net.URI.create("http://h"));
        assertThat(o.withOnly(List.of("control")).selects(c)).isTrue();
        assertThat(o.withOnly(List.of("control.stop-race")).selects(c)).isTrue();
        assertThat(o.withOnly(List.of("control.stop")).selects(c)).isFalse();
        assertThat(o.withOnly(List.of("hydrate")).selects(c)).isFalse();
    }
}
