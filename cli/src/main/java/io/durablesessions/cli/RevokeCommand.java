package io.durablesessions.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code ds revoke --jti J | --subject S}: the admin revocation route, {@code POST /v1/admin/revocations}. */
@Command(
        name = "revoke",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Revokes a token (--jti) or every token of a subject (--subject).",
            "",
            "POST /v1/admin/revocations: the service refuses those tokens on every request and message within 5 seconds "
                    + "(each function container remembers a revocation lookup that long; docs/protocol.md [token.lifetime]) "
                    + "and ends their subscriptions at the next delivery; a subject's tokens issued later still work. "
                    + "Needs an operator's token: admin on an all-sessions grant."
        })
public final class RevokeCommand implements Callable<Integer> {
    @ParentCommand
    Ds ds;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
        @Option(names = "--jti", paramLabel = "JTI", required = true, description = "The token's jti claim.")
        String jti;

        @Option(names = "--subject", paramLabel = "SUBJECT", required = true, description = "The subject (sub claim).")
        String subject;
    }

    @Option(
            names = "--keep",
            paramLabel = "D",
            converter = DurationConverter.class,
            description =
                    "How long the revocation is kept: at least as long as the tokens live (60s to 366d; default 7d).")
    Duration keep;

    @Option(names = "--json", description = "The service's answer as JSON.")
    boolean json;

    @Override
    public Integer call() {
        ObjectNode body = Json.object();
        if (which.jti != null) {
            if (which.jti.isBlank()) throw new CliException(ExitCodes.USAGE, "--jti must not be blank");
            body.put("jti", which.jti);
        } else {
            if (!Fields.isValidId(which.subject)) {
                throw new CliException(ExitCodes.USAGE, "--subject must be 1-128 characters of A-Z a-z 0-9 . _ : -");
            }
            body.put("subject", which.subject);
        }
        if (keep != null) {
            if (keep.toSeconds() < 60 || keep.toSeconds() > 31_622_400) {
                throw new CliException(ExitCodes.USAGE, "--keep must be between 60s and 366d");
            }
            body.put("keepForSeconds", keep.toSeconds());
        }
        ObjectNode answer = Api.of(ds.target(), Target.Access.ADMIN).revoke(body);
        if (json) {
            ds.out().println(Json.write(answer));
        } else {
            ds.out()
                    .printf(
                            "revoked %s %s at %s (kept until %s)%n",
                            which.jti != null ? "token" : "subject",
                            which.jti != null ? which.jti : which.subject,
                            Instant.ofEpochSecond(answer.path("revokedAt").asLong()),
                            Instant.ofEpochSecond(answer.path("expiresAt").asLong()));
        }
        return ExitCodes.OK;
    }
}
