package io.durablesessions.client;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads; what {@code Thread.ofPlatform().daemon().name(…)} does on 21, for the SDK's Java 17 floor. */
final class Threads {
    private Threads() {}

    static ThreadFactory daemonFactory(String name) {
        return r -> unstarted(name, r);
    }

    static Thread unstarted(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Sleeps, keeping the interrupt flag; nothing for {@code ms} ≤ 0. */
    static void sleep(long ms) {
        if (ms <= 0) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
