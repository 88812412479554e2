package io.durablesessions.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Maven Central refuses a pom without a licence, scm, developers, url, name and description (its
 * own or its parent's), and a published pom whose parent is not published. This reads the poms of
 * the source tree: the published modules are those of the root's module list that its release
 * profile does not leave out, plus the root (their parent).
 */
class PublishedPomsTest {
    static final Path ROOT = findRoot();

    static Path findRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("mvnw"))) p = p.getParent();
        if (p == null)
            throw new IllegalStateException(
                    "no project root above " + Path.of("").toAbsolutePath());
        return p;
    }

    static Element pom(Path dir) {
        try {
            var factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document d =
                    factory.newDocumentBuilder().parse(dir.resolve("pom.xml").toFile());
            return d.getDocumentElement();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + dir.resolve("pom.xml"), e);
        }
    }

    /** The first child element of {@code e} on the path, or null. */
    static Element child(Element e, String... path) {
        Element at = e;
        for (String name : path) {
            Element found = null;
            for (Node n = at == null ? null : at.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element c && c.getTagName().equals(name)) {
                    found = c;
                    break;
                }
            }
            at = found;
        }
        return at;
    }

    static List<Element> children(Element e, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = e == null ? null : e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) out.add(c);
        }
        return out;
    }

    static String text(Element e, String... path) {
        Element c = child(e, path);
        return c == null ? null : c.getTextContent().trim();
    }

    static Element releaseProfile(Element pom) {
        for (Element p : children(child(pom, "profiles"), "profile")) {
            if ("release".equals(text(p, "id"))) return p;
        }
        return null;
    }

    static Set<String> releasePlugins(Element pom) {
        Set<String> ids = new TreeSet<>();
        for (Element p : children(child(releaseProfile(pom), "build", "plugins"), "plugin"))
            ids.add(text(p, "artifactId"));
        return ids;
    }

    record Module(Path dir, Element pom) {
        String artifactId() {
            return text(pom, "artifactId");
        }

        String packaging() {
            String p = text(pom, "packaging");
            return p == null ? "jar" : p;
        }
    }

    static List<Module> published() {
        Element root = pom(ROOT);
        Set<String> excluded = new TreeSet<>();
        Element central = null;
        for (Element p : children(child(releaseProfile(root), "build", "plugins"), "plugin")) {
            if ("central-publishing-maven-plugin".equals(text(p, "artifactId"))) central = p;
        }
        for (Element a : children(child(central, "configuration", "excludeArtifacts"), "artifact"))
            excluded.add(a.getTextContent().trim());
        List<Module> out = new ArrayList<>();
        out.add(new Module(ROOT, root));
        for (Element m : children(child(root, "modules"), "module")) {
            Path dir = ROOT.resolve(m.getTextContent().trim());
            Module module = new Module(dir, pom(dir));
            if (!excluded.contains(module.artifactId())) out.add(module);
        }
        return out;
    }

    /** The module's own value, else the root's (it is every published module's parent), with the root's properties filled in. */
    static String inherited(Module m, Element root, String... path) {
        String own = text(m.pom(), path);
        if (own == null && child(m.pom(), "parent") != null) own = text(root, path);
        if (own == null) return null;
        var matcher = java.util.regex.Pattern.compile("\\$\\{([^}]+)}").matcher(own);
        StringBuilder sb = new StringBuilder();
        while (matcher.find()) {
            String value = text(root, "properties", matcher.group(1));
            matcher.appendReplacement(
                    sb, java.util.regex.Matcher.quoteReplacement(value == null ? matcher.group() : value));
        }
        matcher.appendTail(sb);
        return sb.toString();
    }

    @Test
    void everyPublishedPomCarriesLicenceScmDevelopersUrlNameAndDescription() {
        Element root = pom(ROOT);
        List<Module> published = published();
        assertThat(published)
                .extracting(Module::artifactId)
                .contains("durable-sessions", "events", "client", "client-langchain4j", "client-spring-ai", "bom")
                .doesNotContain(
                        "functions", "local-dynamodb", "local-emulator", "local-lab", "client-testing", "infra");
        for (Module m : published) {
            String what = m.artifactId() + " (" + ROOT.relativize(m.dir()) + "/pom.xml)";
            assertThat(text(m.pom(), "name")).as(what + " name").isNotBlank();
            assertThat(text(m.pom(), "description")).as(what + " description").isNotBlank();
            // the project's home as it is: Maven would append the child's artifactId unless the root says not to
            assertThat(inherited(m, root, "url"))
                    .as(what + " url")
                    .isEqualTo(inherited(published.get(0), root, "url"))
                    .startsWith("https://");
            assertThat(inherited(m, root, "licenses", "license", "name"))
                    .as(what + " licence")
                    .isEqualTo("Apache-2.0");
            assertThat(inherited(m, root, "licenses", "license", "url"))
                    .as(what + " licence url")
                    .isEqualTo("https://www.apache.org/licenses/LICENSE-2.0.txt");
            assertThat(inherited(m, root, "scm", "url")).as(what + " scm url").startsWith("https://");
            assertThat(inherited(m, root, "scm", "connection"))
                    .as(what + " scm connection")
                    .startsWith("scm:git:");
            assertThat(inherited(m, root, "developers", "developer", "name"))
                    .as(what + " developer")
                    .isNotBlank();
            Element parent = child(m.pom(), "parent");
            if (parent != null) {
                // the parent is the root, which is published too
                assertThat(text(parent, "artifactId")).as(what + " parent").isEqualTo(text(root, "artifactId"));
                assertThat(text(parent, "version")).as(what + " parent version").isEqualTo(text(root, "version"));
            } else if (m.pom() != root) {
                assertThat(text(m.pom(), "version")).as(what + " version").isEqualTo(text(root, "version"));
                assertThat(releasePlugins(m.pom()))
                        .as(what + " release plugins")
                        .contains("maven-gpg-plugin", "central-publishing-maven-plugin");
            }
            if (m.packaging().equals("jar")) {
                // the release profile attaches source and javadoc jars only where this is false
                assertThat(text(m.pom(), "properties", "ds.unpublished"))
                        .as(what + " ds.unpublished")
                        .isEqualTo("false");
            }
        }
        assertThat(text(root, "properties", "ds.unpublished")).isEqualTo("true");
        assertThat(releasePlugins(root))
                .containsExactlyInAnyOrder(
                        "maven-source-plugin",
                        "maven-javadoc-plugin",
                        "maven-gpg-plugin",
                        "central-publishing-maven-plugin");
    }

    @Test
    void theBomNamesEveryPublishedJarAndNothingElse() {
        Set<String> jars = new TreeSet<>();
        Module bom = null;
        for (Module m : published()) {
            if (m.packaging().equals("jar")) jars.add(m.artifactId());
            if (m.artifactId().equals("bom")) bom = m;
        }
        Set<String> named = new TreeSet<>();
        for (Element d : children(child(bom.pom(), "dependencyManagement", "dependencies"), "dependency")) {
            assertThat(text(d, "groupId")).isEqualTo("io.durablesessions");
            assertThat(text(d, "version")).isEqualTo("${project.version}");
            named.add(text(d, "artifactId"));
        }
        assertThat(named).isEqualTo(jars);
    }

    @Test
    void theClientArtifactsTargetJava17AndTheLicenceFileIsApache2() throws IOException {
        for (Module m : published()) {
            if (m.packaging().equals("jar")) {
                assertThat(text(m.pom(), "properties", "maven.compiler.release"))
                        .as(m.artifactId())
                        .isEqualTo("17");
            }
        }
        String licence = Files.readString(ROOT.resolve("LICENSE"));
        assertThat(licence).contains("Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS");
        assertThat(Files.readString(ROOT.resolve("NOTICE"))).contains("Apache License, Version 2.0");
    }
}
