package io.durablesessions.local.apigateway;

import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * A line per WebSocket message and HTTP API request the emulator served: transport, route,
 * session, the seqs an ack names (or the error code), and how long the handler took. Fields are
 * picked out of the JSON bodies with a few {@code indexOf}s, not parsed, so logging stays cheap.
 */
public interface RequestLog {
    /**
     * @param route    the WebSocket route key, or {@code METHOD /path} for HTTP
     * @param request  the message or request body (may be null)
     * @param status   HTTP status, 0 for a WebSocket message
     * @param response the answer body (may be null)
     */
    void served(String transport, String route, String request, int status, String response, long nanos);

    RequestLog OFF = (transport, route, request, status, response, nanos) -> {};

    /**
     * Prints to {@code out}, e.g. {@code 12:00:01.234 ws   append     demo        seq 5-7        3 ms}, and
     * the trace id when the request names a {@code traceparent} (docs/observability.md).
     */
    static RequestLog printingTo(PrintStream out) {
        DateTimeFormatter time = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
        return (transport, route, request, status, response, nanos) -> {
            String session = request != null ? field(request, "sessionId") : pathSession(route);
            String outcome = outcome(status, response);
            out.printf(
                    "%s %-4s %-32s %-24s %-18s %5d ms%s%n",
                    LocalTime.now().format(time),
                    transport,
                    route,
                    session == null ? "-" : session,
                    outcome,
                    nanos / 1_000_000,
                    trace(request));
        };
    }

    /** {@code "  trace <32 hex>"} of a request's {@code traceparent}, or nothing. */
    static String trace(String request) {
        String tp = field(request, "traceparent");
        return tp == null || tp.length() != 55 ? "" : "  trace " + tp.substring(3, 35);
    }

    private static String outcome(int status, String response) {
        String code = field(response, "code");
        String prefix = status > 0 ? status + " " : "";
        if (code != null) return prefix + code;
        String first = number(response, "firstSeq"), last = number(response, "lastSeq");
        if (first != null && last != null) {
            String dup = response.contains("\"duplicate\":true") ? " dup" : "";
            return prefix + "seq " + (first.equals(last) ? first : first + "-" + last) + dup;
        }
        String head = number(response, "headSeq");
        if (head != null) return prefix + "head " + head;
        String type = status == 0 ? field(response, "type") : null; // a WebSocket answer's frame type
        return (prefix + (type == null ? "" : type)).trim();
    }

    /** {@code id} of {@code METHOD /…/sessions/id/…}, or null. */
    static String pathSession(String route) {
        int i = route.indexOf("/sessions/");
        if (i < 0) return null;
        int start = i + "/sessions/".length(), end = route.indexOf('/', start);
        return end < 0 ? route.substring(start) : route.substring(start, end);
    }

    /** The string value of the first {@code "name":"…"} in a JSON text, or null. */
    static String field(String json, String name) {
        if (json == null) return null;
        int i = json.indexOf("\"" + name + "\"");
        if (i < 0) return null;
        int colon = json.indexOf(':', i + name.length() + 2);
        if (colon < 0) return null;
        int start = colon + 1;
        while (start < json.length() && json.charAt(start) == ' ') start++;
        if (start >= json.length() || json.charAt(start) != '"') return null;
        int end = json.indexOf('"', start + 1);
        return end < 0 || end - start > 130 ? null : json.substring(start + 1, end);
    }

    /** The digits of the first {@code "name":123} in a JSON text, or null. */
    static String number(String json, String name) {
        if (json == null) return null;
        int i = json.indexOf("\"" + name + "\"");
        if (i < 0) return null;
        int colon = json.indexOf(':', i + name.length() + 2);
        if (colon < 0) return null;
        int start = colon + 1;
        while (start < json.length() && json.charAt(start) == ' ') start++;
        int end = start;
        while (end < json.length() && Character.isDigit(json.charAt(end))) end++;
        return end == start ? null : json.substring(start, end);
    }
}
