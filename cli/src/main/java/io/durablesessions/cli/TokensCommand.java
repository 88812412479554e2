package io.durablesessions.cli;

import io.durablesessions.functions.auth.DevTokenCli;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code ds tokens …}: {@code scripts/token}, the same program ({@code DevTokenCli} of functions/):
 * the same arguments, checks, messages and exit codes, so the two never drift apart. Like
 * scripts/token it prints to the process's stdout and ends the JVM itself on a usage error (exit
 * code 2), so it is run as a process of its own, never inside another program's JVM.
 */
@Command(
        name = "tokens",
        mixinStandardHelpOptions = true,
        customSynopsis =
                "ds tokens [--ttl D | --expired | --not-before D] SUBJECT agent|client|viewer [SESSION | PREFIX* | *] [CAPS]",
        description = {
            "Mints a local development token (scripts/token).",
            "",
            "HS256, the local stack's issuer, 12 h unless told otherwise. This is scripts/token, with its arguments "
                    + "and checks: a bad role, capability, id or duration is a one-line error, exit code 2, and no token.",
            "",
            "  CAPS             comma-separated: read,append,control,agent,admin (default: agent read,append,agent;",
            "                   client read,append,control; viewer read)",
            "  --ttl D          valid for D from now (default 12h); D is like 90s, 15m, 12h, 7d or PT30M",
            "  --expired        expired 5 minutes ago",
            "  --not-before D   not valid until D from now",
            "",
            "Examples:",
            "  ds tokens agent-1 agent 'demo*'           an agent on every session starting with demo",
            "  ds tokens ana client chat-42 read,append  a user who may read and write chat-42 only",
            "  ds tokens --ttl 90s ana client chat-42    expires in 90 s"
        })
public final class TokensCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        // prints the token, or exits 2 with its one-line error and usage, as scripts/token does
        DevTokenCli.main(args.toArray(String[]::new));
        return ExitCodes.OK;
    }
}
