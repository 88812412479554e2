package io.durablesessions.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shared fixtures ({@code fixtures/sessions/}, read by the browser client's tests under
 * {@code node --test}): seeded random logs with what the Java {@link Assembler}, {@link Frames},
 * {@link SnapshotParts} and {@link ClientRule} make of them. The first test fails when a committed
 * fixture differs from what this code produces, so the fixtures cannot go stale; regenerate with
 * {@code ./mvnw -pl events test -Dtest=FixturesTest -Dfixtures.write=true}.
 *
 * <p>Each fixture: {@code events} (a valid stored log), {@code state} (its fold), {@code resume}
 * (the fold of the first {@code afterSeq} events, from which the rest applies), {@code snapshot}
 * (that prefix state as {@code snapshot} frames of at most {@code maxBytes}, split so items
 * continue across parts), and {@code delivery} (event frames as a flaky fan-out delivers them —
 * split, reordered, repeated, some already covered by the snapshot — each followed by the client
 * rule's {@code last} and held seqs).
 */
class FixturesTest {
    static final Path DIR = Path.of("..", "fixtures", "sessions");
    static final int COUNT = 16;
    /** Small frames, so that items are split across snapshot parts. */
    static final int SNAPSHOT_BYTES = 1400;

    static LongStream seeds() {
        return LongStream.range(0, COUNT).map(i -> 0xF1C5_0000L + i);
    }

    static Path file(long seed) {
        return DIR.resolve("seed-" + Long.toHexString(seed) + ".json");
    }

    @Test
    void committedFixturesAreWhatTheJavaCodeProduces() throws IOException {
        boolean write = System.getProperty("fixtures.write") != null;
        if (write) Files.createDirectories(DIR);
        List<String> stale = new ArrayList<>();
        for (long seed : seeds().toArray()) {
            String expected = render(fixture(seed));
            Path f = file(seed);
            if (write) {
                Files.writeString(f, expected, StandardCharsets.UTF_8);
            } else if (!Files.isRegularFile(f)
                    || !Files.readString(f, StandardCharsets.UTF_8).equals(expected)) {
                stale.add(f.getFileName().toString());
            }
        }
        try (Stream<Path> files = Files.list(DIR)) {
            var wanted = seeds().mapToObj(s -> file(s).getFileName().toString()).collect(Collectors.toSet());
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".json") && !wanted.contains(n))
                    .forEach(n -> stale.add(n + " (no longer generated)"));
        }
        assertThat(stale)
                .as("fixtures/sessions is stale; regenerate with "
                        + "./mvnw -pl events test -Dtest=FixturesTest -Dfixtures.write=true")
                .isEmpty();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void theJavaCodeSatisfiesEveryFixture(long seed) {
        ObjectNode f = fixture(seed);
        List<Event> log = events(f);
        SessionState all = Assembler.fold(log);
        long k = f.at("/resume/afterSeq").asLong();

        Assembler resumed = Assembler.from(SessionState.fromNode(f.at("/resume/state")));
        log.subList((int) k, log.size()).forEach(resumed::apply);
        assertThat(resumed.state().toJson()).isEqualTo(all.toJson());

        List<ObjectNode> frames = new ArrayList<>();
        f.at("/snapshot/frames").forEach(n -> frames.add((ObjectNode) n));
        SessionState joined = SnapshotParts.join(frames);
        assertThat(joined.toJson()).isEqualTo(f.at("/resume/state").toString());

        Assembler live = Assembler.from(joined);
        ClientRule rule = new ClientRule(joined.headSeq());
        for (JsonNode frame : f.at("/delivery/frames")) {
            for (JsonNode seq : frame)
                rule.hold((ObjectNode) log.get(seq.asInt() - 1).toNode());
            rule.drain(n -> live.apply(Event.fromJson(n.toString())));
        }
        assertThat(rule.last()).isEqualTo(log.size());
        assertThat(live.state().toJson()).isEqualTo(all.toJson());
    }

    static List<Event> events(ObjectNode fixture) {
        List<Event> log = new ArrayList<>();
        fixture.get("events").forEach(n -> log.add(Event.fromJson(n.toString())));
        return log;
    }

    static ObjectNode fixture(long seed) {
        Random rnd = new Random(seed);
        List<Event> log = RandomLog.generate(seed, 40 + rnd.nextInt(160));
        int n = log.size();
        int k = rnd.nextInt(n + 1);
        ObjectNode f = Json.object().put("seed", seed);
        ArrayNode events = f.putArray("events");
        log.forEach(e -> events.add(e.toNode()));
        f.set("state", Assembler.fold(log).toNode());
        SessionState prefix = Assembler.fold(log.subList(0, k));
        f.putObject("resume").put("afterSeq", k).set("state", prefix.toNode());
        ObjectNode snapshot = f.putObject("snapshot").put("maxBytes", SNAPSHOT_BYTES);
        ArrayNode frames = snapshot.putArray("frames");
        Frames.snapshots("hydrate-1", "s-1", prefix, SNAPSHOT_BYTES).forEach(s -> frames.add(Json.parseObject(s)));

        List<List<Long>> delivery = deliverySchedule(rnd, k, n);
        ObjectNode d = f.putObject("delivery");
        ArrayNode dFrames = d.putArray("frames");
        ArrayNode after = d.putArray("after");
        ClientRule rule = new ClientRule(k);
        for (List<Long> frame : delivery) {
            ArrayNode a = dFrames.addArray();
            frame.forEach(a::add);
            List<Long> applied = new ArrayList<>();
            for (long seq : frame) rule.hold((ObjectNode) log.get((int) seq - 1).toNode());
            rule.drain(e -> applied.add(e.get("seq").asLong()));
            ObjectNode step = after.addObject().put("last", rule.last());
            ArrayNode ap = step.putArray("applied");
            applied.forEach(ap::add);
            ArrayNode held = step.putArray("held");
            rule.held().forEach(held::add);
        }
        return f;
    }

    /**
     * Frames as a flaky fan-out delivers them from a snapshot at {@code k}: the events after it in
     * chunks, some chunks swapped or repeated later, and now and then events the snapshot covered.
     */
    static List<List<Long>> deliverySchedule(Random rnd, int k, int n) {
        List<List<Long>> chunks = new ArrayList<>();
        for (long s = k + 1; s <= n; ) {
            int size = 1 + rnd.nextInt(6);
            List<Long> c = new ArrayList<>();
            for (int i = 0; i < size && s <= n; i++) c.add(s++);
            chunks.add(c);
        }
        for (int i = 0; i + 1 < chunks.size(); i++) {
            if (rnd.nextInt(4) == 0) {
                List<Long> t = chunks.get(i);
                chunks.set(i, chunks.get(i + 1));
                chunks.set(i + 1, t);
                i++;
            }
        }
        int repeats = chunks.isEmpty() ? 0 : rnd.nextInt(1 + chunks.size() / 4);
        for (int r = 0; r < repeats; r++) {
            int from = rnd.nextInt(chunks.size());
            int to = from + 1 + rnd.nextInt(chunks.size() - from);
            chunks.add(to, List.copyOf(chunks.get(from)));
        }
        if (k > 0 && rnd.nextBoolean()) {
            TreeSet<Long> old = new TreeSet<>();
            for (int i = 0; i < 3; i++) old.add((long) (1 + rnd.nextInt(k)));
            chunks.add(rnd.nextInt(chunks.size() + 1), List.copyOf(old));
        }
        return chunks;
    }

    /** One top-level field per line and one event per line, so that diffs stay readable. */
    static String render(ObjectNode f) {
        StringBuilder sb = new StringBuilder("{\n");
        List<String> fields = new ArrayList<>();
        f.fieldNames().forEachRemaining(fields::add);
        for (int i = 0; i < fields.size(); i++) {
            String name = fields.get(i);
            JsonNode v = f.get(name);
            sb.append(Json.quote(name)).append(':');
            if (v.isArray()) {
                sb.append("[\n");
                for (int j = 0; j < v.size(); j++) {
                    sb.append(Json.write(v.get(j))).append(j + 1 < v.size() ? ",\n" : "\n");
                }
                sb.append(']');
            } else {
                sb.append(Json.write(v));
            }
            sb.append(i + 1 < fields.size() ? ",\n" : "\n");
        }
        return sb.append("}\n").toString();
    }
}
