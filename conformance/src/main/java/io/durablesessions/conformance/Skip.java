package io.durablesessions.conformance;

/** A case cannot run against this target (e.g. its token source cannot mint an expired token). */
final class Skip extends RuntimeException {
    Skip(String reason) {
        super(reason, null, false, false);
    }
}
