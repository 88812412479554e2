package io.durablesessions.cli;

import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** {@code scripts/ds}: the {@code ds} command. Output is UTF-8 whatever the locale says (JSON lines must be exact). */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16));
        PrintWriter err = new PrintWriter(
                new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
        int code = run(args, new Ds.Context(out, err, System.in, System.getenv()));
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line with these streams and environment; returns its exit code ({@link ExitCodes}). */
    public static int run(String[] args, Ds.Context context) {
        CommandLine cl = commandLine(context);
        try {
            return cl.execute(args);
        } finally {
            context.out().flush();
            context.err().flush();
        }
    }

    /** The command tree, wired to the context's streams, with the exit codes of {@link ExitCodes}. */
    public static CommandLine commandLine(Ds.Context context) {
        CommandLine cl = new CommandLine(new Ds(context));
        cl.setOut(context.out());
        cl.setErr(context.err());
        // a usage error: the one line and where the usage is, not the whole usage (it is long)
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine at = e.getCommandLine();
            PrintWriter err = at.getErr();
            err.println(at.getCommandSpec().qualifiedName() + ": " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("'" + at.getCommandSpec().qualifiedName() + " --help' shows the usage");
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof CliException c) {
                line.getErr().println("ds " + line.getCommandName() + ": " + c.getMessage());
                return c.exitCode();
            }
            line.getErr().println("ds " + line.getCommandName() + ": unexpected error: " + Api.describe(e));
            e.printStackTrace(line.getErr());
            return ExitCodes.FAILED;
        });
        return cl;
    }
}
