package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ds export SESSION [-o FILE]}: every stored event as JSON lines. A file is written beside
 * itself ({@code FILE.part}) and moved into place when the last page arrived, so a broken export
 * never leaves a file that looks whole.
 */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Writes every stored event as JSON lines, to stdout or a file.",
            "",
            "One event as stored per line, seq 1 to the head. Progress goes to stderr every two seconds, and a "
                    + "summary at the end. A file is written as FILE.part and renamed when the export is whole.",
            "The lines are exactly what GET /v1/sessions/{id}/events answers; 'ds events' prints a part of them."
        })
public final class ExportCommand implements Callable<Integer> {
    @ParentCommand
    Ds ds;

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
    String session;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FILE",
            description = "Write to FILE (replaced when the export is whole) instead of stdout.")
    Path output;

    @Option(
            names = "--after",
            paramLabel = "SEQ",
            defaultValue = "0",
            description = "Only the events after this seq (default 0).")
    long after;

    @Option(
            names = {"-q", "--quiet"},
            description = "No progress and no summary on stderr.")
    boolean quiet;

    @Override
    public Integer call() {
        String id = Sessions.id(session);
        if (after < 0) throw new CliException(ExitCodes.USAGE, "--after must be 0 or more");
        Api api = Api.of(ds.target(), Target.Access.READ);
        long head = api.session(id).path("headSeq").asLong();
        Progress progress = new Progress(quiet ? null : ds.err(), "ds export", head);
        EventPages.Walked walked;
        if (output == null) {
            try {
                walked = export(api, id, ds.out(), progress);
            } catch (UncheckedIOException e) {
                throw new CliException(
                        ExitCodes.FAILED, "cannot write: " + e.getCause().getMessage());
            }
        } else {
            Path target = output.toAbsolutePath();
            Path part = target.resolveSibling(target.getFileName() + ".part");
            try {
                try (Writer w = new BufferedWriter(Files.newBufferedWriter(part, StandardCharsets.UTF_8), 1 << 16)) {
                    walked = export(api, id, w, progress);
                }
                move(part, target);
            } catch (IOException | UncheckedIOException | CliException e) {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException ignored) {
                    // the .part file stays; the message below names the cause
                }
                if (e instanceof CliException c) throw c;
                throw new CliException(ExitCodes.FAILED, "cannot write " + output + ": " + Api.describe(e));
            }
        }
        if (!quiet) {
            ds.err()
                    .printf(
                            "ds export: %d events%s in %.1f s%s%n",
                            walked.events(),
                            walked.events() == 0 ? "" : " (seq " + walked.firstSeq() + "-" + walked.lastSeq() + ")",
                            progress.seconds(),
                            output == null ? "" : " to " + output);
        }
        return ExitCodes.OK;
    }

    private EventPages.Walked export(Api api, String id, Writer w, Progress progress) {
        long[] n = {0};
        return EventPages.walk(api, id, after, 0, page -> {
            try {
                for (ObjectNode e : page) {
                    w.write(Json.write(e));
                    w.write('\n');
                }
                w.flush();
                if (w instanceof PrintWriter pw && pw.checkError()) throw new IOException("stdout was closed");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            n[0] += page.size();
            progress.update(n[0], page.get(page.size() - 1).path("seq").asLong());
        });
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
