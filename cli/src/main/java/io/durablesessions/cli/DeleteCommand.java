package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ds delete SESSION}: erases a session (HTTP DELETE), after a confirmation unless {@code --yes}. */
@Command(
        name = "delete",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Erases a session (asks first unless --yes).",
            "",
            "Every event, run and state row and every subscription go (DELETE /v1/sessions/{id}); its subscribers "
                    + "are told (session_deleted). It cannot be undone.",
            "Asks on stderr and reads the answer from stdin unless --yes; any answer but y or yes leaves the "
                    + "session as it is (exit code 1). The token needs append and control on the session."
        })
public final class DeleteCommand implements Callable<Integer> {
    @ParentCommand
    Ds ds;

    @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
    String session;

    @Option(
            names = {"-y", "--yes"},
            description = "Do not ask.")
    boolean yes;

    @Override
    public Integer call() throws IOException {
        String id = Sessions.id(session);
        Api api = Api.of(ds.target(), Target.Access.WRITE);
        if (!yes) {
            ObjectNode info = api.session(id);
            ds.err()
                    .printf(
                            "Erase session %s (%d events, owner %s) and everything in it? This cannot be undone. [y/N] ",
                            id,
                            info.path("headSeq").asLong(),
                            info.path("owner").asText("?"));
            ds.err().flush();
            String answer =
                    new BufferedReader(new InputStreamReader(ds.context().in(), StandardCharsets.UTF_8)).readLine();
            if (answer == null
                    || !(answer.strip().toLowerCase(Locale.ROOT).equals("y")
                            || answer.strip().equalsIgnoreCase("yes"))) {
                ds.err().println(answer == null ? "(no answer) not erased; --yes erases without asking" : "not erased");
                return ExitCodes.FAILED;
            }
        }
        ObjectNode result = api.delete(id);
        ds.out()
                .printf(
                        "erased %s: %d events%s%n",
                        id,
                        result.path("removed").path("events").asLong(),
                        result.path("notified").asLong() > 0
                                ? ", " + result.path("notified").asLong() + " subscribers told"
                                : "");
        return ExitCodes.OK;
    }
}
