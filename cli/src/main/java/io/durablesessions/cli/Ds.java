package io.durablesessions.cli;

import io.durablesessions.cli.doctor.DoctorCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code ds}: the root command. Its options are global (picocli's inherited scope): they may stand
 * before or after the subcommand. Subcommands reach them, and the streams and environment the
 * command runs with, through {@code @ParentCommand}.
 */
@Command(
        name = "ds",
        mixinStandardHelpOptions = true,
        versionProvider = Ds.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Looks into durable sessions from a terminal: tail one live, print its snapshot, export or replay its "
                    + "events, erase it, revoke tokens, mint local tokens, and check a deployment (doctor).",
            "",
            "Where: --ws and --http, else $DS_WS_URL and $DS_HTTP_URL, else the local stack "
                    + "(ws://127.0.0.1:8787/local and http://127.0.0.1:8787; the port from $DS_LOCAL_PORT if set).",
            "Token: --token or $DS_TOKEN; or --hs256-secret with --issuer (development stages: ds mints a token "
                    + "with just the rights the command needs); with none of these and a loopback URL, ds mints one "
                    + "with the local stack's development secret."
        },
        subcommands = {
            TailCommand.class,
            GetCommand.class,
            EventsCommand.class,
            ExportCommand.class,
            ReplayCommand.class,
            DeleteCommand.class,
            RevokeCommand.class,
            TokensCommand.class,
            DoctorCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:done (doctor: verdict PASS; tail: Ctrl-C or --count reached)",
            "1:failed (doctor: verdict FAIL; another error of the service; a delete not confirmed)",
            "2:usage (bad or missing arguments; tail --after beyond the head)",
            "3:the service refused the token (401/403: expired, revoked, no grant)",
            "4:no such session (or run); tail: the session was erased",
            "5:nothing answered at the URL (connection refused, unknown host, timeout)"
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ds tail chat-42                    the session live (Ctrl-C stops)",
            "  ds tail chat-42 --hydrate --json   its snapshot, then every event, JSON",
            "  ds get chat-42                     the conversation, runs, presence",
            "  ds export chat-42 -o chat-42.jsonl every stored event, JSON lines",
            "  ds replay chat-42 --speed 4        the session again, 4 times as fast",
            "  ds doctor --quick                  check the local stack",
            "  ds doctor --ws wss://… --http https://… --tokens tokens.json",
            "",
            "'ds COMMAND --help' shows a command's options; README.md has more."
        })
public final class Ds implements Callable<Integer> {

    /** The streams and environment a command runs with (the process's, or a test's). */
    public record Context(PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env) {}

    private final Context context;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--ws",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            order = 100,
            description =
                    "The WebSocket URL: wss://ID.execute-api.REGION.amazonaws.com/STAGE (stack output WebSocketUrl); "
                            + "default $DS_WS_URL, else ws://127.0.0.1:8787/local.")
    String ws;

    @Option(
            names = "--http",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            order = 101,
            description =
                    "The HTTP API's base URL (its paths start with /v1): https://ID.execute-api.REGION.amazonaws.com "
                            + "(stack output HttpApiUrl); default $DS_HTTP_URL, else http://127.0.0.1:8787.")
    String http;

    @Option(
            names = "--token",
            scope = ScopeType.INHERIT,
            paramLabel = "JWT",
            order = 102,
            description = "The bearer token (default $DS_TOKEN, which other users of the machine cannot see in the "
                    + "process list). Its grants must cover what the command does.")
    String token;

    @Option(
            names = "--hs256-secret",
            scope = ScopeType.INHERIT,
            paramLabel = "SECRET",
            order = 103,
            description = "Mint tokens with the deployment's HS256 secret (JWT_HS256_SECRET; development stages).")
    String hs256Secret;

    @Option(
            names = "--issuer",
            scope = ScopeType.INHERIT,
            paramLabel = "ISSUER",
            order = 104,
            description = "The deployment's JWT_ISSUER, with --hs256-secret.")
    String issuer;

    @Option(
            names = "--audience",
            scope = ScopeType.INHERIT,
            paramLabel = "AUDIENCE",
            order = 105,
            description = "The deployment's JWT_AUDIENCE, with --hs256-secret (default durable-sessions).")
    String audience;

    @Option(
            names = "--token-subject",
            scope = ScopeType.INHERIT,
            paramLabel = "SUBJECT",
            order = 106,
            description = "The subject of a token ds mints (default ds-cli).")
    String tokenSubject;

    public Ds(Context context) {
        this.context = context;
    }

    public Context context() {
        return context;
    }

    public PrintWriter out() {
        return context.out();
    }

    public PrintWriter err() {
        return context.err();
    }

    /** The URLs and token source the global options, the environment and the defaults give. */
    public Target target() {
        return Target.resolve(ws, http, token, hs256Secret, issuer, audience, tokenSubject, context.env());
    }

    /** The token options as {@code scripts/conformance} takes them, for doctor (null values were not given). */
    public TokenOptions tokenOptions() {
        return new TokenOptions(hs256Secret, issuer, audience);
    }

    /** The global options doctor shares with the kit. */
    public record TokenOptions(String hs256Secret, String issuer, String audience) {}

    /** {@code ds} alone: the usage, on stderr, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(context.err());
        return ExitCodes.USAGE;
    }

    /** The version of the build ({@code ds --version}). */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (var in = Ds.class.getResourceAsStream("/io/durablesessions/cli/version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {"ds (durable-sessions) " + p.getProperty("version", "unknown")};
        }
    }
}
