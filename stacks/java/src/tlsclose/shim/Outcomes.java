package tlsclose.shim;

import java.io.EOFException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * How JSSE's answers become normalized outcomes (docs/shim-protocol.md §5)
 * and the step line's {@code native} object.
 *
 * <p>JSSE reports failures as exceptions without error codes. The one
 * structured part is the alert: every fatal condition is raised through
 * sun.security.ssl.Alert.createSSLException, whose message is
 * "(DESCRIPTION) REASON", DESCRIPTION being the RFC name of the alert that
 * was received ("Received fatal alert: ...") or sent. Transport failures
 * are java.net exceptions whose messages ("Connection reset", "Broken
 * pipe") are the JDK's fixed texts. Both are matched here, nowhere else.
 */
final class Outcomes {
    private Outcomes() {
    }

    private static final Pattern ALERT = Pattern.compile("^\\(([a-z0-9_]+)\\) (.*)$",
            Pattern.DOTALL);
    private static final Pattern UNKNOWN_ALERT =
            Pattern.compile("Unknown alert description \\((-?[0-9]+)\\)");
    /** Alerts JSSE sends for a record or message it cannot parse or decrypt. */
    private static final Set<String> DECODE_ALERTS = Set.of("bad_record_mac", "decode_error",
            "record_overflow", "decrypt_error");
    /** java.net / SSLSocketImpl texts of a call refused on a closed socket or direction. */
    private static final List<String> SHUT_DOWN_TEXTS = List.of(
            "Connection or outbound has closed", "Connection or inbound has closed",
            "Socket output is already shutdown", "Socket input is already shutdown",
            "Socket is closed", "Socket has been closed or broken", "Socket closed");

    /** The outcome of a call that threw e; reading: the call was a read of application data. */
    static String of(Throwable e, boolean reading) {
        if (e instanceof SocketTimeoutException) {
            return "error:timeout";
        }
        if (isReset(e)) {
            return "error:reset";
        }
        String msg = String.valueOf(e.getMessage());
        if (e instanceof SSLException) {
            return ssl(e, msg, reading);
        }
        if (e instanceof EOFException) {
            return reading ? "truncated" : "error:unexpected_eof";
        }
        if (e instanceof ClosedChannelException) {
            return "error:other";
        }
        if (e instanceof SocketException && SHUT_DOWN_TEXTS.stream().anyMatch(msg::startsWith)) {
            return "error:shut_down";
        }
        return "error:other";
    }

    private static String ssl(Throwable e, String msg, boolean reading) {
        // SSLEngineImpl.closeInbound / SSLSocketImpl.shutdownInput without the
        // peer's close_notify; SSLSocketImpl.handleEOF with requireCloseNotify.
        if (msg.startsWith("closing inbound before receiving peer's close_notify")
                || msg.startsWith("Remote host terminated the connection")) {
            return reading ? "truncated" : "error:unexpected_eof";
        }
        if (msg.startsWith("Remote host terminated the handshake")) {
            return "error:unexpected_eof";
        }
        // A call after a fatal error repeats the reason it closed for.
        if (msg.startsWith("Connection has closed:") && e.getCause() != null) {
            return of(e.getCause(), reading);
        }
        Matcher m = ALERT.matcher(msg);
        if (!m.matches()) {
            return e.getCause() != null && e.getCause() != e ? of(e.getCause(), reading)
                    : "error:protocol";
        }
        String description = m.group(1);
        String reason = m.group(2);
        Matcher unknown = UNKNOWN_ALERT.matcher(reason);
        if (unknown.find()) {
            return "error:alert:" + (Integer.parseInt(unknown.group(1)) & 0xff);
        }
        // Alert.AlertConsumer: "Received fatal alert: NAME", and a fatal-level
        // user_canceled raised as "Received fatal close_notify alert".
        if (reason.startsWith("Received fatal")) {
            return "error:alert:" + description;
        }
        if (DECODE_ALERTS.contains(description) || reason.startsWith("Invalid Alert message")) {
            return "error:decode";
        }
        return "error:protocol";
    }

    static boolean isReset(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SSLException) {
                continue;
            }
            String msg = String.valueOf(c.getMessage());
            if (msg.startsWith("Connection reset") || msg.startsWith("Broken pipe")) {
                return true;
            }
        }
        return false;
    }

    // ---- native --------------------------------------------------------------

    /** A call that returned: ret is its count (null for calls without one). */
    static Map<String, Object> returned(String call, Long ret) {
        Map<String, Object> n = Json.object();
        n.put("ret", ret);
        n.put("error", "");
        n.put("queue", List.of());
        n.put("errno", 0);
        n.put("call", call);
        return n;
    }

    /** A call that threw: error is the exception, queue its cause chain (at most 4). */
    static Map<String, Object> threw(String call, Throwable e) {
        Map<String, Object> n = Json.object();
        n.put("ret", null);
        n.put("error", describe(e));
        List<Object> chain = new ArrayList<>();
        for (Throwable c = e.getCause(); c != null && chain.size() < 4;
                c = c.getCause() == c ? null : c.getCause()) {
            chain.add(describe(c));
        }
        n.put("queue", chain);
        n.put("errno", 0);
        n.put("call", call);
        return n;
    }

    /** An SSLEngine wrap or unwrap: ret is the application bytes it took or gave. */
    static Map<String, Object> engine(String call, SSLEngineResult r) {
        boolean wrap = call.equals("wrap");
        Map<String, Object> n = returned(call, (long) (wrap ? r.bytesConsumed()
                : r.bytesProduced()));
        if (r.getStatus() != SSLEngineResult.Status.OK) {
            n.put("error", r.getStatus().name());
        }
        n.put("status", r.getStatus().name());
        n.put("handshake_status", r.getHandshakeStatus().name());
        n.put("net_bytes", (long) (wrap ? r.bytesProduced() : r.bytesConsumed()));
        return n;
    }

    static String describe(Throwable e) {
        String name = e.getClass().getSimpleName();
        return e.getMessage() == null ? name : name + ": " + e.getMessage();
    }
}
