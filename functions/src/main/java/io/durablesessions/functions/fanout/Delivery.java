package io.durablesessions.functions.fanout;

import io.durablesessions.events.Frames;
import io.durablesessions.events.Limits;
import io.durablesessions.functions.auth.Capability;
import io.durablesessions.functions.auth.Principal;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.runtime.Sender;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.ConnectionStore.Subscriber;
import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * Posting one session's new events to its subscribers: the one implementation behind both the
 * Streams fan-out ({@link FanoutHandler}) and direct delivery from the append path
 * ({@link DirectDelivery}). Events are packed into as few frames as the message limit allows and
 * sent to each connection in seq order, to all connections concurrently (at most
 * {@value #MAX_CONCURRENT_POSTS} posts at once per invocation). Only entitled subscribers get
 * them; a 410 removes only the connection that is gone.
 */
public final class Delivery {
    static final int MAX_CONCURRENT_POSTS = 64;

    private final Services services;
    private final Presence presence;

    public Delivery(Services services) {
        this.services = services;
        this.presence = new Presence(services);
    }

    /** One stored event: its seq, its exact JSON text, and whether agents must obey it (control). */
    public record Item(long seq, String json, boolean control) {}

    /**
     * What a delivery did: the index of the first item that did not reach every subscriber it was
     * for ({@link Integer#MAX_VALUE}: all did), how many events were posted (summed over
     * connections), and how many connections were found gone.
     */
    public record Outcome(int firstFailed, long delivered, long gone) {
        public boolean complete() {
            return firstFailed == Integer.MAX_VALUE;
        }
    }

    /**
     * Whether any of {@code subscribers} is due any of {@code items}: an agent's control-only
     * subscription is due control events only. When none is, there is nothing to post or to wait for.
     */
    static boolean anyoneDue(List<Item> items, List<Subscriber> subscribers) {
        boolean control = items.stream().anyMatch(Item::control);
        return subscribers.stream().anyMatch(sub -> control || !sub.controlOnly());
    }

    /** Posts {@code items} (ascending seqs of one session) to the entitled ones of {@code subscribers}. */
    public Outcome deliver(String sessionId, List<Item> items, List<Subscriber> subscribers) {
        List<Subscriber> entitled = entitled(sessionId, subscribers);
        if (entitled.isEmpty() || items.isEmpty()) return new Outcome(Integer.MAX_VALUE, 0, 0);
        List<Integer> all = new ArrayList<>();
        List<Integer> control = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            all.add(i);
            if (items.get(i).control()) control.add(i);
        }
        List<Outgoing> everything = pack(sessionId, items, all);
        List<Outgoing> controlOnly = pack(sessionId, items, control);
        Semaphore posts = new Semaphore(MAX_CONCURRENT_POSTS);
        List<Supplier<Sent>> sends = new ArrayList<>();
        for (Subscriber sub : entitled) {
            List<Outgoing> frames = sub.controlOnly() ? controlOnly : everything;
            if (!frames.isEmpty()) sends.add(() -> sendAll(sub.connectionId(), frames, posts));
        }
        List<Sent> sent = new ArrayList<>(sends.size());
        if (sends.size() == 1) {
            sent.add(sends.get(0).get()); // one reader (a chat's one tab): no thread to hand the posts to
        } else {
            // the posts' spans (the AWS SDK's, when instrumented) are children of the caller's span
            try (ExecutorService pool = Context.taskWrapping(Executors.newVirtualThreadPerTaskExecutor())) {
                List<Future<Sent>> perConnection = new ArrayList<>();
                for (Supplier<Sent> send : sends) perConnection.add(pool.submit(send::get));
                for (Future<Sent> f : perConnection) sent.add(get(f));
            }
        }
        int firstFailed = Integer.MAX_VALUE;
        long delivered = 0;
        long gone = 0;
        for (Sent s : sent) {
            firstFailed = Math.min(firstFailed, s.firstFailed());
            delivered += s.events();
            if (s.gone()) gone++;
        }
        return new Outcome(firstFailed, delivered, gone);
    }

    /**
     * Only subscribers whose grant still covers the session and whose token is neither revoked nor
     * expired get its events; the others lose the subscription (a revocation takes effect at the
     * next delivery, within the revocation memory's bound). A connection whose token expired or was
     * revoked is closed as well: its client reconnects with a fresh token and resumes (a revoked one
     * is refused at the handshake).
     */
    List<Subscriber> entitled(String sessionId, List<Subscriber> subscribers) {
        if (subscribers.isEmpty()) return subscribers;
        Set<Principal> revoked = services.revocations()
                .revokedAmong(subscribers.stream()
                        .map(Subscriber::identity)
                        .distinct()
                        .toList());
        long now = services.clock().millis() / 1000;
        List<Subscriber> ok = new ArrayList<>(subscribers.size());
        for (Subscriber sub : subscribers) {
            boolean dead = sub.identity().isExpired(now) || revoked.contains(sub.identity());
            if (sub.identity().can(Capability.READ, sessionId) && !dead) {
                ok.add(sub);
            } else {
                services.connections().unsubscribe(sub.connectionId(), sessionId);
                if (dead) services.sender().close(sub.connectionId());
            }
        }
        return ok;
    }

    /** A frame to send and the index (in the items) of its first event. */
    private record Outgoing(String frame, int firstItem, int events) {}

    private record Sent(int firstFailed, long events, boolean gone) {}

    private static List<Outgoing> pack(String sessionId, List<Item> items, List<Integer> indexes) {
        List<String> jsons = indexes.stream().map(i -> items.get(i).json()).toList();
        return Frames.packEvents(sessionId, jsons, Limits.MAX_MESSAGE_BYTES).stream()
                .map(p -> new Outgoing(p.frame(), indexes.get(p.firstIndex()), p.count()))
                .toList();
    }

    /** Sends the frames in order; stops at the first that fails. */
    private Sent sendAll(String connectionId, List<Outgoing> frames, Semaphore posts) {
        long events = 0;
        for (Outgoing frame : frames) {
            Sender.Outcome outcome;
            posts.acquireUninterruptibly();
            try {
                outcome = services.sender().post(connectionId, frame.frame());
            } finally {
                posts.release();
            }
            if (outcome == Sender.Outcome.SENT) events += frame.events();
            if (outcome == Sender.Outcome.GONE) {
                presence.connectionGone(connectionId); // only the connection that is gone
                return new Sent(Integer.MAX_VALUE, events, true);
            }
            if (outcome == Sender.Outcome.FAILED) return new Sent(frame.firstItem(), events, false);
        }
        return new Sent(Integer.MAX_VALUE, events, false);
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
