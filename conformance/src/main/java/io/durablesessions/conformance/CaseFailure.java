package io.durablesessions.conformance;

/** A step did not get what the case expects; the message says what was expected and what came. */
final class CaseFailure extends RuntimeException {
    CaseFailure(String message) {
        super(message, null, false, false);
    }
}
