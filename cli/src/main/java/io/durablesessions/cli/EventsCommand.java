package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Json;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ds events SESSION --after N}: stored events as JSON lines, page after page up to the head. */
@Command(
        name = "events",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Prints stored events after a seq as JSON lines.",
            "",
            "One event as stored per line, in seq order, read from GET /v1/sessions/{id}/events page after page "
                    + "(1000 a page) up to the head, or --limit events."
        })
public final class EventsCommand implements Callable<Integer> {
    @ParentCommand
    Ds ds;

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
    String session;

    @Option(
            names = "--after",
            paramLabel = "SEQ",
            defaultValue = "0",
            description = "Events after this seq (default 0: from the first).")
    long after;

    @Option(names = "--limit", paramLabel = "N", description = "At most N events (default: up to the head).")
    Long limit;

    @Override
    public Integer call() {
        String id = Sessions.id(session);
        if (after < 0) throw new CliException(ExitCodes.USAGE, "--after must be 0 or more");
        if (limit != null && limit < 1) throw new CliException(ExitCodes.USAGE, "--limit must be 1 or more");
        Api api = Api.of(ds.target(), Target.Access.READ);
        PrintWriter out = ds.out();
        Progress progress = new Progress(ds.err(), "ds events", 0);
        long[] n = {0};
        EventPages.walk(api, id, after, limit == null ? 0 : limit, page -> {
            for (ObjectNode e : page) out.println(Json.write(e));
            out.flush();
            if (out.checkError()) throw new CliException(ExitCodes.FAILED, "cannot write: stdout was closed");
            n[0] += page.size();
            progress.update(n[0], page.get(page.size() - 1).path("seq").asLong());
        });
        return ExitCodes.OK;
    }
}
