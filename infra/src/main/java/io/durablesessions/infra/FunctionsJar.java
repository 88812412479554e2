package io.durablesessions.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Finds the Lambda code asset: the shaded jar {@code functions/target/functions-<version>-lambda.jar}
 * that the functions module builds (Maven builds it before this module in the reactor).
 *
 * <p>Lookup: the system property or env var {@code DS_FUNCTIONS_JAR} if set; otherwise the repository
 * root is found by walking up from {@code ds.infra.basedir} (set by the build) or the working
 * directory ({@code infra/} under {@code cdk synth}, the root under Maven) until a folder holds
 * {@code functions/pom.xml}.
 */
public final class FunctionsJar {
    public static final String OVERRIDE = "DS_FUNCTIONS_JAR";

    private FunctionsJar() {}

    public static Path locate() {
        String override = System.getProperty(OVERRIDE, System.getenv(OVERRIDE));
        if (override != null && !override.isBlank())
            return requireFile(Path.of(override).toAbsolutePath());
        String start = System.getProperty("ds.infra.basedir", System.getProperty("user.dir"));
        return locateFrom(Path.of(start));
    }

    static Path locateFrom(Path start) {
        String name = "functions-" + functionsVersion() + "-lambda.jar";
        for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("functions/pom.xml"))) {
                return requireFile(dir.resolve("functions/target").resolve(name));
            }
        }
        throw new IllegalStateException("Lambda code asset: no repository root (a folder with functions/pom.xml) "
                + "above " + start.toAbsolutePath() + "; run from the repository or set " + OVERRIDE
                + " to the path of " + name);
    }

    private static Path requireFile(Path jar) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("Lambda code asset not found: " + jar + ". Build it first: "
                    + "./mvnw -pl functions -am package -DskipTests (from the repository root), or set "
                    + OVERRIDE + " to the shaded jar.");
        }
        return jar;
    }

    static String functionsVersion() {
        try (InputStream in = FunctionsJar.class.getResourceAsStream("/infra.properties")) {
            if (in == null) throw new IllegalStateException("infra.properties missing from the classpath");
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("functions.version");
            if (v == null || v.contains("${"))
                throw new IllegalStateException("infra.properties was not filtered: " + v);
            return v;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
