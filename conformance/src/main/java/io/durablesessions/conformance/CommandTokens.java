package io.durablesessions.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a command that prints a token, e.g. {@code scripts/token {subject} {role} {scope} {caps}}:
 * {@code {subject}}, {@code {role}}, {@code {scope}} ({@code P*} for the run's prefix, {@code *}
 * for all sessions) and {@code {caps}} (comma-separated) are replaced, shell-quoted, and the last
 * non-empty line of its output is the token. Each token is minted once per run.
 */
final class CommandTokens implements TokenSource {
    private final String template;
    private final String prefix;
    private final Map<String, String> cache = new ConcurrentHashMap<>();

    CommandTokens(String template, String prefix) {
        if (!template.contains("{subject}") || !template.contains("{role}")) {
            throw new IllegalArgumentException(
                    "--token-command needs {subject} and {role} (and usually {scope} {caps})");
        }
        this.template = template;
        this.prefix = prefix;
    }

    @Override
    public String describe() {
        return "command: " + template;
    }

    @Override
    public boolean mintsSubjects() {
        return true;
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
        String command = template.replace("{subject}", quote(subject))
                .replace("{role}", quote(spec.role()))
                .replace("{scope}", quote(spec.scopeArgument(prefix)))
                .replace("{caps}", quote(String.join(",", spec.caps())));
        return cache.computeIfAbsent(command, CommandTokens::run);
    }

    private static String run(String command) {
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", command)
                    .redirectErrorStream(false)
                    .start();
            p.getOutputStream().close();
            // read both streams on their own threads: a chatty build on stderr must not block the command
            var out = new CompletableFuture<String>();
            var err = new CompletableFuture<String>();
            Thread.ofVirtual().start(() -> out.complete(read(p.getInputStream())));
            Thread.ofVirtual().start(() -> err.complete(read(p.getErrorStream())));
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("token command did not finish within 10 minutes: " + command);
            }
            String stdout = out.get(10, TimeUnit.SECONDS);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("token command failed (exit " + p.exitValue() + "): " + command + "\n"
                        + Jsons.brief(err.get(10, TimeUnit.SECONDS).strip(), 2000));
            }
            String token = null;
            for (String line : stdout.split("\n")) if (!line.isBlank()) token = line.strip();
            if (token == null) throw new IllegalStateException("token command printed nothing: " + command);
            return token;
        } catch (IOException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot run the token command: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while minting a token", e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** POSIX shell single quotes: nothing inside is special but the quote itself. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
