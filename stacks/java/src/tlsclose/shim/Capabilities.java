package tlsclose.shim;

import java.util.List;

/**
 * What JSSE and this shim can do, decided before any IO
 * (docs/shim-protocol.md §6): every skip (exit 77) before every usage error
 * that depends on the command line (exit 2), so that a script this stack
 * cannot run is a skip whatever else the command line lacks.
 */
final class Capabilities {
    private Capabilities() {
    }

    static void check(Args a, List<Script.Step> steps, boolean serve) throws ShimExit {
        checkRun(a);
        for (Script.Step st : steps) {
            checkStep(a, st);
        }
        checkNeeds(a, steps, serve);
    }

    private static void checkRun(Args a) throws ShimExit {
        if (!a.fds.isEmpty()) {
            throw ShimExit.skip("Java cannot adopt an inherited socket descriptor: this shim "
                    + "opens its connections itself (transport = \"connect\", --connect)", 0);
        }
        if (a.sessionIn != null || a.sessionOut != null) {
            throw ShimExit.skip("JSSE cannot export or import a session (SSLSession has no "
                    + "serialized form): --session-in/--session-out", 0);
        }
        if (a.cipher != null && Tls.suite(a) == null) {
            throw ShimExit.skip("--cipher " + a.cipher + ": not a TLS " + a.tls
                    + " suite this shim knows", 0);
        }
    }

    private static void checkStep(Args a, Script.Step st) throws ShimExit {
        String why = switch (st.op) {
            case "shutdown_quiet" -> "JSSE has no quiet shutdown";
            case "get_error_after" -> "JSSE has no error query on a return value: a failed "
                    + "call throws its exception at once";
            case "shutdown_full" -> a.io.equals("blocking") ? null
                    : "SSLEngine has no call that closes both directions (closeOutbound "
                    + "only queues close_notify; nothing waits for the peer's)";
            case "keyupdate" -> keyUpdate(a, st);
            case "set_option" -> option(st);
            case "clear" -> "an SSLSocket or SSLEngine serves one connection: JSSE has no call "
                    + "that resets one for the next connection";
            case "session_resumable" -> a.server() && a.tls.equals("1.3")
                    ? "a JSSE TLS 1.3 server's tickets are stateless (jdk.tls.server"
                    + ".enableSessionTicketExtension): it keeps no session to ask about"
                    : null;
            case "write" -> st.untilBlocked && a.io.equals("blocking")
                    ? "until_blocked needs --io nonblocking or memory (a blocking write never "
                    + "reports a want)" : null;
            default -> null;
        };
        if (why != null) {
            throw ShimExit.skip(st.where() + ": " + why, st.index);
        }
    }

    /** No option of set_option has one JSSE call on a connection or a context. */
    private static String option(Script.Step st) {
        return switch (st.option) {
            case "ignore_unexpected_eof" -> "JSSE has no such option on a connection or a "
                    + "context: an SSLSocket reads a bare EOF as a close unless the JVM-wide "
                    + "system property com.sun.net.ssl.requireCloseNotify (read once, "
                    + "BaseSSLSocketImpl.requireCloseNotify) says otherwise, and an SSLEngine "
                    + "application reports the EOF itself with closeInbound()";
            case "post_handshake_auth" -> "JSSE 17 never offers post-handshake authentication "
                    + "(SSLExtension.POST_HANDSHAKE_AUTH is declared without a producer)";
            default -> "JSSE has no quiet shutdown";
        };
    }

    private static String keyUpdate(Args a, Script.Step st) {
        if (a.tls.equals("1.2")) {
            return "in TLS 1.2 JSSE's startHandshake()/beginHandshake() renegotiate instead "
                    + "of refusing a key update";
        }
        if (!st.requestPeer) {
            return "JSSE sends a KeyUpdate only from startHandshake()/beginHandshake(), always "
                    + "update_requested while reading is open (KeyUpdate "
                    + "KeyUpdateKickstartProducer); it cannot send update_not_requested";
        }
        return null;
    }

    private static void checkNeeds(Args a, List<Script.Step> steps, boolean serve)
            throws ShimExit {
        int conns = 1;
        for (Script.Step st : steps) {
            if (!serve && st.op.equals("signal_peer") && a.markerOut < 0) {
                throw new ShimExit(ShimExit.USAGE, st.where() + ": needs --marker-out", st.index);
            }
            if (!serve && st.op.equals("wait_peer") && a.markerIn < 0) {
                throw new ShimExit(ShimExit.USAGE, st.where() + ": needs --marker-in", st.index);
            }
            if (st.op.equals("resume") && ++conns > Args.MAX_CONNECTIONS) {
                throw new ShimExit(ShimExit.USAGE, st.where() + ": at most "
                        + Args.MAX_CONNECTIONS + " connections", st.index);
            }
        }
    }
}
