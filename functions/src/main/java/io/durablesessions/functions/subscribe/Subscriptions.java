package io.durablesessions.functions.subscribe;

import io.durablesessions.events.ClientMessage.Subscribe;
import io.durablesessions.events.ClientMessage.Unsubscribe;
import io.durablesessions.events.ErrorCode;
import io.durablesessions.events.EventType;
import io.durablesessions.events.Frames;
import io.durablesessions.events.Json;
import io.durablesessions.events.Limits;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.functions.fanout.DirectDelivery;
import io.durablesessions.functions.presence.Presence;
import io.durablesessions.functions.runtime.Sender;
import io.durablesessions.functions.runtime.Services;
import io.durablesessions.functions.store.Budgets;
import io.durablesessions.functions.store.ConnectionStore.Connection;
import io.durablesessions.functions.store.EventPage;
import io.durablesessions.functions.store.Hydration;
import io.durablesessions.functions.store.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Subscribe = register, then catch up. The subscription row is written BEFORE the log is read,
 * so every event is either in the catch-up, in the live fan-out, or both; the client drops
 * duplicates by seq (docs/protocol.md §7).
 */
public final class Subscriptions {
    private static final int PAGE = 1000;

    private final Services services;
    private final Presence presence;
    private final DirectDelivery direct;

    public Subscriptions(Services services) {
        this.services = services;
        this.presence = new Presence(services);
        this.direct = new DirectDelivery(services);
    }

    public String subscribe(Subscribe s, Connection caller) {
        long head =
                s.afterSeq() != null && s.afterSeq() > 0 ? services.sessions().head(s.sessionId()) : 0;
        if (s.afterSeq() != null && s.afterSeq() > head) {
            // a client ahead of the log saw another incarnation of this id (erased and created again)
            throw new ProtocolException(
                    ErrorCode.INVALID_MESSAGE,
                    "afterSeq: " + s.afterSeq() + " is beyond the session's head " + head + "; hydrate instead",
                    Json.object().put("field", "afterSeq").put("headSeq", head));
        }
        ReadAllowance allowance = new ReadAllowance(caller);
        if (!allowance.available()) {
            throw new ProtocolException(
                    ErrorCode.RATE_LIMITED,
                    "this subject read more than " + services.limits().readBytesPerMinute()
                            + " bytes of catch-up in the last minute",
                    Json.object().put("retryAfterMs", allowance.retryAfterMillis()));
        }
        switch (services.connections()
                .subscribe(
                        caller.connectionId(),
                        s.sessionId(),
                        caller.identity(),
                        s.controlOnly(),
                        Limits.MAX_SUBSCRIPTIONS_PER_CONNECTION)) {
            case AT_CAP ->
                throw new ProtocolException(
                        ErrorCode.RATE_LIMITED,
                        "a connection subscribes to at most " + Limits.MAX_SUBSCRIPTIONS_PER_CONNECTION
                                + " sessions; unsubscribe first",
                        Json.object().put("limit", Limits.MAX_SUBSCRIPTIONS_PER_CONNECTION));
            case NOT_REGISTERED -> throw new ProtocolException(ErrorCode.UNAUTHORIZED, "connection is not registered");
            case ADDED, RENEWED -> {}
        }
        String answer;
        try {
            answer = s.hydrate() ? hydrate(s, caller, allowance) : catchUp(s, caller, allowance);
        } finally {
            allowance.settle();
        }
        // announced after the catch-up read, so the subscriber gets its own join once, live
        if (answer != null) direct.deliver(s.sessionId(), presence.attached(s.sessionId(), caller));
        return answer;
    }

    /**
     * The bytes a subject may be sent by catch-ups and hydrates per minute (docs/security.md: read
     * amplification). The budget is checked before the first frame, charged with what was sent every
     * {@value #CHARGE_EVERY} bytes and at the end, so a small subscribe costs two writes and a large one
     * stops (complete=false) once the subject's minute is spent.
     */
    private final class ReadAllowance {
        private static final long CHARGE_EVERY = 256 * 1024;
        private final Budgets.Budget budget;
        private long uncharged;

        ReadAllowance(Connection caller) {
            long perMinute = services.limits().readBytesPerMinute();
            this.budget = perMinute > 0 ? Budgets.readBytes(caller.principal(), perMinute) : null;
        }

        /** Whether the subject's budget for this minute is not yet spent. */
        boolean available() {
            return budget == null || services.budgets().spend(budget, 0);
        }

        /** Accounts for a frame about to be sent; false when the subject's budget for this minute is spent. */
        boolean cover(int bytes) {
            if (budget == null) return true;
            uncharged += bytes;
            if (uncharged < CHARGE_EVERY) return true;
            long charge = uncharged;
            uncharged = 0;
            return services.budgets().spend(budget, charge);
        }

        /** Charges what was sent since the last charge (done when the subscribe ends). */
        void settle() {
            if (budget != null && uncharged > 0) services.budgets().spend(budget, uncharged);
            uncharged = 0;
        }

        long retryAfterMillis() {
            return budget == null ? 0 : services.budgets().retryAfterMillis(budget);
        }
    }

    private String hydrate(Subscribe s, Connection caller, ReadAllowance allowance) {
        Hydration h = services.sessions().hydrate(s.sessionId());
        List<String> frames = Frames.snapshots(s.requestId(), s.sessionId(), h.state(), Limits.MAX_MESSAGE_BYTES);
        // a snapshot is sent whole: it is charged as it goes and may take the subject past its budget once
        for (String frame : frames) {
            allowance.cover(utf8(frame));
            if (!send(caller, frame)) return null;
        }
        return Frames.subscribed(s.requestId(), s.sessionId(), h.state().headSeq(), true);
    }

    private String catchUp(Subscribe s, Connection caller, ReadAllowance allowance) {
        long after = s.afterSeq();
        int sent = 0;
        EventPage page;
        do {
            page = services.sessions().readAfter(s.sessionId(), after, PAGE);
            List<StoredEvent> events = page.events().stream()
                    .filter(e -> !s.controlOnly() || isControl(e.json()))
                    .toList();
            List<String> jsons = events.stream().map(StoredEvent::json).toList();
            for (Frames.Packed packed : Frames.packEvents(s.sessionId(), jsons, Limits.MAX_MESSAGE_BYTES)) {
                if (!allowance.cover(utf8(packed.frame()))) {
                    // the subject's read budget ran out: what was sent stands; the client continues later
                    return Frames.subscribed(s.requestId(), s.sessionId(), after, false);
                }
                if (!send(caller, packed.frame())) return null;
                after = events.get(packed.firstIndex() + packed.count() - 1).seq();
            }
            after = page.lastSeq(after);
            sent += page.events().size();
        } while (page.more() && sent < Limits.MAX_CATCH_UP_EVENTS);
        // complete=false: more events remain; the client subscribes again from the last seq it applied
        return Frames.subscribed(s.requestId(), s.sessionId(), after, !page.more());
    }

    private static int utf8(String frame) {
        return frame.getBytes(StandardCharsets.UTF_8).length;
    }

    public String unsubscribe(Unsubscribe u, Connection caller) {
        services.connections().unsubscribe(caller.connectionId(), u.sessionId());
        return Frames.unsubscribed(u.requestId(), u.sessionId());
    }

    /** Whether a stored event is one an agent must obey (cheap: reads only its type). */
    public static boolean isControl(String eventJson) {
        return EventType.fromWire(Json.parseObject(eventJson).path("type").asText())
                .map(EventType::isControl)
                .orElse(false);
    }

    private boolean send(Connection caller, String frame) {
        Sender.Outcome outcome = services.sender().post(caller.connectionId(), frame);
        if (outcome == Sender.Outcome.GONE) {
            presence.connectionGone(caller.connectionId());
            return false;
        }
        if (outcome == Sender.Outcome.FAILED) {
            throw new IllegalStateException("catch-up delivery failed; the client should subscribe again");
        }
        return true;
    }
}
