package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneId;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ds replay SESSION}: the stored events again, at the pace they were written. */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Plays the stored events again at their original pacing.",
            "",
            "One line per event, each after the time that passed before it was written (its ts); --speed makes "
                    + "it faster or slower, --max-gap shortens long silences.",
            "--text prints only the conversation: each message's text as it was streamed."
        })
public final class ReplayCommand implements Callable<Integer> {
    @ParentCommand
    Ds ds;

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
    String session;

    @Option(
            names = "--speed",
            paramLabel = "X",
            defaultValue = "1",
            description = "Play X times as fast (0.5: half as fast; default 1).")
    double speed;

    @Option(
            names = "--max-gap",
            paramLabel = "D",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description = "No pause longer than D, after --speed (default 5s; 0 prints without pauses).")
    Duration maxGap;

    @Option(
            names = "--after",
            paramLabel = "SEQ",
            defaultValue = "0",
            description = "Start after this seq (default 0).")
    long after;

    @ArgGroup(exclusive = true)
    Format format;

    static final class Format {
        @Option(names = "--json", description = "Each event as stored, one JSON object per line.")
        boolean json;

        @Option(names = "--text", description = "Only the messages' text, as it streamed.")
        boolean text;
    }

    @Override
    public Integer call() {
        String id = Sessions.id(session);
        if (!(speed > 0) || Double.isInfinite(speed))
            throw new CliException(ExitCodes.USAGE, "--speed must be a positive number");
        if (after < 0) throw new CliException(ExitCodes.USAGE, "--after must be 0 or more");
        Api api = Api.of(ds.target(), Target.Access.READ);
        api.session(id); // a missing session is exit code 4 before anything prints
        PrintWriter out = ds.out();
        Pacer pacer = new Pacer(speed, maxGap);
        EventLines lines = new EventLines(ZoneId.systemDefault());
        boolean json = format != null && format.json;
        boolean text = format != null && format.text;
        EventPages.walk(api, id, after, 0, page -> {
            for (ObjectNode e : page) {
                try {
                    pacer.awaitTurn(e.path("ts").asLong());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CliException(ExitCodes.FAILED, "interrupted");
                }
                if (json) out.println(Json.write(e));
                else if (text) printText(out, e);
                else out.println(lines.line(e));
                out.flush();
            }
        });
        if (text) out.println();
        return ExitCodes.OK;
    }

    /** The conversation view: a header per message, its text as it came, a line break at its end. */
    private static void printText(PrintWriter out, ObjectNode e) {
        ObjectNode d = e.path("data") instanceof ObjectNode o ? o : Json.object();
        switch (e.path("type").asText()) {
            case "message.start" ->
                out.print(System.lineSeparator() + "[" + d.path("role").asText() + " "
                        + e.path("agentId").asText() + "] ");
            case "text.delta" -> out.print(d.path("text").asText());
            case "message.end" ->
                out.println(
                        d.path("reason").asText("complete").equals("complete")
                                ? ""
                                : " [" + d.path("reason").asText() + "]");
            case "run.stop_requested" ->
                out.print(" [stop requested by " + d.path("by").asText() + "]");
            default -> {}
        }
    }
}
