package io.durablesessions.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.durablesessions.events.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The peer of the side-by-side benchmarks: the Durable Streams reference server
 * ({@code @durable-streams/server} from npm), run by {@code bench/peer/start.mjs} on loopback in a
 * child {@code node} process, with its file-backed store in a fresh temporary directory.
 *
 * <p>{@link #install} runs {@code npm ci} in {@code bench/peer} when the pinned packages are missing
 * (package.json + package-lock.json there); nothing of the peer is committed. Whatever keeps it from
 * running (no node, no registry) is an {@link Unavailable} naming why, so a run can skip the peer.
 */
final class PeerServer implements AutoCloseable {
    static final String PACKAGE = "@durable-streams/server";
    private static final long START_TIMEOUT_SECONDS = 30;
    private static final long INSTALL_TIMEOUT_SECONDS = 300;

    /** Why the peer cannot run here (printed as "peer: skipped (why)"). */
    static final class Unavailable extends Exception {
        Unavailable(String why) {
            super(why);
        }
    }

    /** An installed peer: its folder, the package version npm installed, and the node that runs it. */
    record Installed(Path dir, String version, String node) {}

    private final Process process;
    private final URI baseUrl;
    private final Path dataDir;
    private final Installed installed;
    private final Deque<String> lastLines;

    private PeerServer(Process process, URI baseUrl, Path dataDir, Installed installed, Deque<String> lastLines) {
        this.process = process;
        this.baseUrl = baseUrl;
        this.dataDir = dataDir;
        this.installed = installed;
        this.lastLines = lastLines;
    }

    /** Makes sure node runs and the pinned peer is installed under {@code root/bench/peer}. */
    static Installed install(Path root) throws Unavailable {
        Path dir = root.resolve("bench/peer");
        if (!Files.isRegularFile(dir.resolve("package-lock.json")))
            throw new Unavailable("no " + dir.resolve("package-lock.json"));
        String node = run(dir, 20, "node", "--version").trim();
        Path pkg = dir.resolve("node_modules").resolve(PACKAGE).resolve("package.json");
        if (!Files.isRegularFile(pkg)) {
            Benchmarks.log("peer: installing " + PACKAGE + " (npm ci in " + dir + ")");
            run(dir, INSTALL_TIMEOUT_SECONDS, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
            if (!Files.isRegularFile(pkg)) throw new Unavailable("npm ci did not install " + PACKAGE);
        }
        try {
            JsonNode json = Json.MAPPER.readTree(Files.readString(pkg));
            return new Installed(dir, json.path("version").asText("?"), node);
        } catch (IOException e) {
            throw new Unavailable("cannot read " + pkg + ": " + e);
        }
    }

    /**
     * Starts the peer, with its file store in a new temporary directory or ({@code fileStore} false) in
     * memory; waits until it accepts requests.
     */
    static PeerServer start(Installed installed, boolean fileStore) throws Unavailable {
        Path data;
        try {
            data = Files.createTempDirectory("ds-peer-");
        } catch (IOException e) {
            throw new Unavailable("no temporary directory: " + e);
        }
        List<String> command = fileStore
                ? List.of(
                        "node",
                        "start.mjs",
                        "--data-dir",
                        data.resolve("streams").toString())
                : List.of("node", "start.mjs");
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .directory(installed.dir().toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            deleteTree(data);
            throw new Unavailable("cannot start node: " + e);
        }
        Deque<String> last = new ArrayDeque<>();
        CompletableFuture<URI> listening = new CompletableFuture<>();
        // drain the output for the whole life of the process: a full pipe would block the server
        Thread.ofVirtual().name("peer-output").start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (last) {
                        last.addLast(line);
                        if (last.size() > 20) last.removeFirst();
                    }
                    if (line.startsWith("listening ")) listening.complete(URI.create(line.split(" ")[1]));
                }
            } catch (IOException ignored) {
                // the process ended
            }
            listening.completeExceptionally(new IllegalStateException("the peer exited"));
        });
        try {
            URI url = listening.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return new PeerServer(p, url, data, installed, last);
        } catch (Exception e) {
            p.destroyForcibly();
            deleteTree(data);
            String out;
            synchronized (last) {
                out = String.join(" | ", last);
            }
            throw new Unavailable(
                    "the peer did not start: " + e.getMessage() + (out.isEmpty() ? "" : " (output: " + out + ")"));
        }
    }

    URI baseUrl() {
        return baseUrl;
    }

    Installed installed() {
        return installed;
    }

    /** The last lines the peer printed (for error reports). */
    List<String> lastOutput() {
        synchronized (lastLines) {
            return List.copyOf(lastLines);
        }
    }

    /** Closes the peer's stdin (it stops itself), waits for it, and deletes its data. */
    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
        deleteTree(dataDir);
    }

    private static String run(Path dir, long timeoutSeconds, String... command) throws Unavailable {
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new Unavailable(command[0] + " is not available: " + e.getMessage());
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new Unavailable(String.join(" ", command) + " took more than " + timeoutSeconds + " s");
            }
            String text = out.get(5, TimeUnit.SECONDS);
            if (p.exitValue() != 0) {
                throw new Unavailable(String.join(" ", command) + " failed (" + p.exitValue() + "): " + tail(text));
            }
            return text;
        } catch (Unavailable e) {
            throw e;
        } catch (Exception e) {
            p.destroyForcibly();
            throw new Unavailable(String.join(" ", command) + " failed: " + e);
        }
    }

    private static String tail(String text) {
        String t = text.strip().replace('\n', ' ');
        return t.length() <= 300 ? t : "…" + t.substring(t.length() - 300);
    }

    private static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory; the OS cleans it eventually
        }
    }
}
