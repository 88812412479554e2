package io.durablesessions.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.durablesessions.functions.http.HttpRoutes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** docs/openapi.yaml describes exactly the routes the handler serves, each with a problem response. */
class HttpApiOpenApiTest {
    @Test
    @SuppressWarnings("unchecked")
    void theOpenApiDocumentMatchesTheRoutes() throws Exception {
        Path doc = Path.of("../../docs/openapi.yaml");
        Map<String, Object> root = new Yaml().load(Files.readString(doc));
        assertThat(String.valueOf(root.get("openapi"))).startsWith("3.");
        Map<String, Object> paths = (Map<String, Object>) root.get("paths");
        Set<String> described = new TreeSet<>();
        for (var p : paths.entrySet()) {
            for (var op : ((Map<String, Object>) p.getValue()).entrySet()) {
                if (op.getKey().equals("parameters")) continue;
                described.add(op.getKey().toUpperCase() + " " + p.getKey());
                Map<String, Object> responses = (Map<String, Object>) ((Map<String, Object>) op.getValue()).get("responses");
                assertThat(responses).as(op.getKey() + " " + p.getKey()).containsKey("default");
            }
        }
        Set<String> served = new TreeSet<>();
        HttpRoutes.ALL.forEach(r -> served.add(r.routeKey()));
        assertThat(described).isEqualTo(served);
        Map<String, Object> components = (Map<String, Object>) root.get("components");
        assertThat((Map<String, Object>) components.get("schemas")).containsKey("Problem");
    }
}
