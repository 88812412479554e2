package io.durablesessions.lab.bench;

import io.durablesessions.client.DurableAgent;
import io.durablesessions.client.SessionSubscriber;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Json;
import io.durablesessions.local.EmbeddedStack;
import java.io.IOException;
import java.time.Duration;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the side-by-side benchmarks ({@link PeerBench}) drive, so that our stack and the peer are
 * measured by the same code: create a stream, append as an idempotent producer (from one or several
 * threads at once), and attach a live reader that reports each event's send stamp with its arrival
 * time. Ours are the Java SDK's {@link DurableAgent} and {@link SessionSubscriber}; the peer's are
 * {@link PeerClient} requests.
 */
interface BenchTarget extends AutoCloseable {
    /** The column header. */
    String label();

    /** What the column runs, for the table's note. */
    String describe();

    /** A new empty stream (session) named after {@code prefix}. */
    String createStream(String prefix);

    /**
     * An idempotent producer {@code producerId} appending to {@code stream}, with up to {@code inFlight} appends
     * on their way at once (its callers' threads: see {@link Producer#append}).
     */
    Producer producer(String stream, String producerId, int inFlight);

    /**
     * A live reader of {@code stream} from its start: {@code onEvent} gets the send stamp
     * ({@link System#nanoTime()}) each stamped event carries and the time it arrived, in stream order.
     */
    Reader reader(String stream, StampConsumer onEvent);

    /** Stops background work while other columns are measured (our stack: its stream pollers). */
    default void pause() {}

    /** Undoes {@link #pause()}. */
    default void resume() {}

    /** A reader that long-polls instead, or null when the target has no such read. */
    default Reader longPollReader(String stream, StampConsumer onEvent) {
        return null;
    }

    @Override
    void close();

    @FunctionalInterface
    interface StampConsumer {
        void accept(long sentNanos, long arrivedNanos);
    }

    interface Reader extends AutoCloseable {
        /** Completes when the reader is attached: what is appended from then on reaches it. */
        CompletableFuture<?> live();

        @Override
        void close();
    }

    interface Producer extends AutoCloseable {
        /**
         * Appends {@code events} events stamped {@code stampNanos} and returns once they are stored. Several
         * threads may call it at once: that is the producer's appends in flight, however it handles them.
         */
        void append(int events, long stampNanos);

        /**
         * Appends re-sent because they overtook an earlier one (the peer's pipelining; ours holds an append for its
         * predecessors, so only one that waited for them in vain is re-sent).
         */
        long gapRetries();

        /** Appends re-sent after a transient failure (contention, throttling, a lost answer). */
        long transientRetries();

        @Override
        void close();
    }

    // ------------------------------------------------------------------------------------------ ours

    /** Our embedded stack with {@code timing}, started now, driven by the Java SDK as in {@link Benchmarks}. */
    static BenchTarget ours(String label, EmbeddedStack.Timing timing, boolean directDelivery) {
        EmbeddedStack.Config base = EmbeddedStack.Config.defaults().withTiming(timing);
        EmbeddedStack.Config config = base.toBuilder()
                .features(base.features().withDirectDelivery(directDelivery))
                .build();
        EmbeddedStack stack = EmbeddedStack.start(config);
        return new BenchTarget() {
            @Override
            public String label() {
                return label;
            }

            @Override
            public String describe() {
                return label + ": the embedded stack (" + timing.describe() + ", direct delivery "
                        + (config.features().directDelivery() ? "on" : "off")
                        + "), Java SDK agents (DurableAgent over the "
                        + "WebSocket) and readers (SessionSubscriber)";
            }

            @Override
            public String createStream(String prefix) {
                return prefix + "-" + UUID.randomUUID(); // a session exists from its first append
            }

            @Override
            public void pause() {
                stack.fanout().stop(); // checkpoints survive: resume() continues where it stopped
            }

            @Override
            public void resume() {
                stack.fanout().start();
            }

            @Override
            public Producer producer(String stream, String producerId, int inFlight) {
                DurableAgent agent = SdkClients.agent(stack.webSocketUrl(), stream, producerId)
                        .epoch(0)
                        .maxInFlight(inFlight)
                        .connect();
                return new Producer() {
                    @Override
                    public void append(int events, long stampNanos) {
                        CompletableFuture<Boolean> last = null;
                        for (int i = 0; i < events; i++) {
                            var data = Json.object().put("name", "bench");
                            data.putObject("payload").put("t", stampNanos);
                            last = agent.append(EventType.CUSTOM, data);
                        }
                        if (last != null && !last.join()) throw new IllegalStateException("append not stored");
                    }

                    @Override
                    public long gapRetries() {
                        return 0;
                    }

                    @Override
                    public long transientRetries() {
                        return agent.retries();
                    }

                    @Override
                    public void close() {
                        agent.close();
                    }
                };
            }

            @Override
            public Reader reader(String stream, StampConsumer onEvent) {
                CompletableFuture<Void> live = new CompletableFuture<>();
                SessionSubscriber sub = SdkClients.reader(
                                stack.webSocketUrl(),
                                stream,
                                "reader-" + UUID.randomUUID(),
                                e -> {
                                    long arrived = System.nanoTime();
                                    var t = e.data().path("payload").path("t");
                                    if (t.isNumber())
                                        onEvent.accept(t.asLong(), arrived); // presence events carry no stamp
                                },
                                live)
                        .start();
                return new Reader() {
                    @Override
                    public CompletableFuture<?> live() {
                        return live;
                    }

                    @Override
                    public void close() {
                        sub.close();
                    }
                };
            }

            @Override
            public void close() {
                stack.close();
            }
        };
    }

    // ------------------------------------------------------------------------------------------ peer

    /** The Durable Streams reference server (file store or in memory), started now; its readers use SSE (or long-poll). */
    static BenchTarget peer(PeerServer.Installed installed, boolean fileStore) throws PeerServer.Unavailable {
        PeerServer server = PeerServer.start(installed, fileStore);
        PeerClient client = new PeerClient(server.baseUrl());
        return new BenchTarget() {
            @Override
            public String label() {
                return "Durable Streams reference server " + installed.version()
                        + (fileStore ? " (file store)" : " (in memory)");
            }

            @Override
            public String describe() {
                return "the peer" + (fileStore ? "" : " in memory") + ": " + PeerServer.PACKAGE + " "
                        + installed.version()
                        + " on node " + installed.node().strip()
                        + (fileStore
                                ? ", its file-backed store (each append written and fdatasync'ed to the stream's log file, then its "
                                        + "metadata committed to LMDB, before live readers are woken and the append answered) in a fresh temporary directory"
                                : ", its in-memory store (nothing durable)")
                        + ", loopback HTTP/1.1; producers POST with Producer-Id/Epoch/Seq, readers use SSE (`live=sse`) from offset -1";
            }

            @Override
            public String createStream(String prefix) {
                String stream = prefix + "-" + UUID.randomUUID();
                client.create(stream);
                return stream;
            }

            @Override
            public Producer producer(String stream, String producerId, int inFlight) {
                return new PeerProducer(client, stream, producerId);
            }

            @Override
            public Reader reader(String stream, StampConsumer onEvent) {
                return wrap(client.sse(stream, (m, nanos) -> {
                    if (m.path("t").isNumber()) onEvent.accept(m.path("t").asLong(), nanos);
                }));
            }

            @Override
            public Reader longPollReader(String stream, StampConsumer onEvent) {
                return wrap(client.longPoll(stream, "-1", (m, nanos) -> {
                    if (m.path("t").isNumber()) onEvent.accept(m.path("t").asLong(), nanos);
                }));
            }

            private Reader wrap(PeerClient.Reader r) {
                return new Reader() {
                    @Override
                    public CompletableFuture<?> live() {
                        return r.live;
                    }

                    @Override
                    public void close() {
                        r.close();
                    }
                };
            }

            @Override
            public void close() {
                client.close();
                server.close();
            }
        };
    }

    /**
     * The peer's idempotent producer with any number of appends in flight, as its own client does: each
     * append takes the next producer seq and is sent until stored; one that overtook an earlier seq (409
     * with Producer-Expected-Seq) waits until every earlier seq is stored and is sent again; transient
     * failures are re-sent with a short backoff.
     */
    final class PeerProducer implements Producer {
        private final PeerClient client;
        private final String stream;
        private final String producerId;
        private final AtomicLong next = new AtomicLong();
        private final AtomicLong gaps = new AtomicLong();
        private final AtomicLong retries = new AtomicLong();
        private final TreeSet<Long> storedAbove = new TreeSet<>(); // guarded by this
        private long storedThrough = -1; // every seq ≤ this is stored

        PeerProducer(PeerClient client, String stream, String producerId) {
            this.client = client;
            this.stream = stream;
            this.producerId = producerId;
        }

        @Override
        public void append(int events, long stampNanos) {
            long seq = next.getAndIncrement();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            StringBuilder body = new StringBuilder("[");
            for (int i = 0; i < events; i++)
                body.append(i == 0 ? "" : ",")
                        .append("{\"t\":")
                        .append(stampNanos)
                        .append('}');
            body.append(']');
            for (int attempt = 0; ; attempt++) {
                if (System.nanoTime() > deadline)
                    throw new IllegalStateException("producer seq " + seq + " not stored within 60 s");
                PeerClient.Answer a;
                try {
                    a = client.append(stream, producerId, seq, body.toString());
                } catch (IOException e) {
                    retries.incrementAndGet();
                    Benchmarks.sleep(Math.min(100, 5L * (attempt + 1)));
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                if (a.status() == 200 || a.status() == 204) {
                    stored(seq);
                    return;
                }
                if (a.status() == 409 && a.expectedSeq() >= 0 && a.expectedSeq() < seq) {
                    gaps.incrementAndGet();
                    awaitStoredBelow(seq, deadline);
                } else if (a.status() == 429 || a.status() >= 500) {
                    retries.incrementAndGet();
                    Benchmarks.sleep(Math.min(100, 5L * (attempt + 1)));
                } else {
                    throw new IllegalStateException("append of producer seq " + seq + " refused: HTTP " + a.status()
                            + " (expected seq " + a.expectedSeq() + ")");
                }
            }
        }

        private synchronized void stored(long seq) {
            if (seq <= storedThrough) return;
            storedAbove.add(seq);
            while (storedAbove.remove(storedThrough + 1)) storedThrough++;
            notifyAll();
        }

        private synchronized void awaitStoredBelow(long seq, long deadline) {
            while (storedThrough < seq - 1) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) throw new IllegalStateException("earlier seqs than " + seq + " not stored within 60 s");
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }

        @Override
        public long gapRetries() {
            return gaps.get();
        }

        @Override
        public long transientRetries() {
            return retries.get();
        }

        @Override
        public void close() {
            // the HTTP client is shared
        }
    }
}
