package io.durablesessions.functions.store;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Appends to one session from one process take turns: each attempt (read the head, commit)
 * runs while holding the session's turn, so writers in the same process queue instead of losing
 * optimistic races to each other and paying a read and a cancelled transaction per lost race.
 *
 * <p>Only an optimisation: correctness rests on the conditional transaction, which still decides
 * between processes (two Lambda containers, or a Lambda and a sweeper). A Lambda container runs one
 * invocation at a time, so there this is uncontended; it matters where one process serves many
 * writers at once (the local stack). Entries live only while someone holds or waits for a turn.
 */
final class SessionTurns {

    private final ConcurrentHashMap<String, Turn> turns = new ConcurrentHashMap<>();

    /** Blocks until it is this caller's turn on the session; close the turn to pass it on. */
    Turn take(String sessionId) {
        Turn turn = turns.compute(sessionId, (id, t) -> t == null ? new Turn(id) : t.join());
        turn.lock.lock();
        return turn;
    }

    /** How many sessions have a turn held or awaited (tests check that entries go away). */
    int active() {
        return turns.size();
    }

    final class Turn implements AutoCloseable {
        private final String sessionId;
        private final ReentrantLock lock = new ReentrantLock();
        /** Holders and waiters; changed only inside the map's atomic compute for this key. */
        private int users = 1;

        private Turn(String sessionId) {
            this.sessionId = sessionId;
        }

        private Turn join() {
            users++;
            return this;
        }

        @Override
        public void close() {
            lock.unlock();
            turns.computeIfPresent(sessionId, (id, t) -> --t.users == 0 ? null : t);
        }
    }
}
