package tlsclose.shim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;

/**
 * The steps of the script, one method each (docs/shim-protocol.md §2).
 *
 * <p>Gives {@link #run}: the outcome, bytes and extras land in the report.
 * The TLS ops belong to the connection's IO mode ({@link Conn}); the ones
 * here work on the cell (markers, resumption, the session cache) or the
 * bare socket. A deadline throws {@link StepTimeout}; a failure of the
 * shim itself throws ShimExit. Never decides whether an op is supported:
 * {@link Capabilities} did that before any IO.
 */
final class Steps {
    private Steps() {
    }

    static void run(Cell cell, Script.Step st, Deadline dl, Output.Report rep)
            throws StepTimeout, ShimExit {
        Conn c = cell.cur;
        switch (st.op) {
            case "handshake" -> c.handshake(st, dl, rep);
            case "read" -> c.read(st, dl, rep);
            case "write" -> c.write(st, cell.pattern(st.bytes), dl, rep);
            case "shutdown" -> c.shutdown(st, dl, rep);
            case "shutdown_full" -> c.shutdownFull(st, dl, rep);
            case "keyupdate" -> c.keyUpdate(st, dl, rep);
            // JSSE keeps close_notify sent/received to itself (README.md):
            // the stream state is in the line's "stream" field instead.
            case "get_shutdown" -> rep.outcome = "unknown";
            case "close_transport" -> closeTransport(c, dl, rep);
            case "free_without_shutdown" -> free(cell, rep);
            case "session_resumable" -> sessionResumable(cell, rep);
            case "resume" -> resume(cell, st, dl, rep);
            case "signal_peer" -> signalPeer(cell, st, rep);
            case "wait_peer" -> {
                cell.markers.await(st.marker, dl);
                rep.outcome = "ok";
            }
            case "plaintext_write" -> plaintextWrite(c, st, dl, rep);
            case "plaintext_read" -> plaintextRead(c, st, dl, rep);
            // Capabilities made set_option and clear skips (77) before any IO.
            default -> throw ShimExit.failure("no step function for " + st.op);
        }
    }

    private static void closeTransport(Conn c, Deadline dl, Output.Report rep)
            throws StepTimeout {
        Conn.TransportClose tc = c.closeTransport(dl);
        rep.extras.put("drained", tc.drained());
        rep.outcome = tc.reset() ? "error:reset" : "ok";
    }

    /** The session stays in the context's cache (JSSE stores it there when
     * it is made); the TLS object is dropped without a close call. */
    private static void free(Cell cell, Output.Report rep) {
        cell.saved = cell.cur.session();
        cell.cur.free();
        rep.outcome = "ok";
    }

    /** Client: the context's client cache holds a valid session for the
     * peer's host and port that the next connection can offer. In TLS 1.3
     * that is a session a NewSessionTicket made: the handshake's own
     * session is cached too but carries no ticket, so it does not count
     * (README.md, "Resumption"). Server (TLS 1.2): the connection's session
     * is valid and in the server's session-ID cache. */
    private static void sessionResumable(Cell cell, Output.Report rep) {
        boolean yes;
        if (cell.args.server()) {
            SSLSession own = cell.cur.session();
            yes = own != null && own.isValid() && own.getId().length > 0
                    && cell.ctx.getServerSessionContext().getSession(own.getId()) != null;
        } else {
            yes = !Resumption.offerable(cell.ctx.getClientSessionContext(), cell.args,
                    cell.args.tls.equals("1.3") ? cell.cur.session() : null).isEmpty();
        }
        rep.extras.put("resumable", yes);
        rep.outcome = yes ? "resumable" : "not_resumable";
    }

    private static void resume(Cell cell, Script.Step st, Deadline dl, Output.Report rep)
            throws StepTimeout, ShimExit {
        Conn prev = cell.cur;
        if (prev.tlsAlive()) {
            cell.saved = prev.session();
        }
        Conn.TransportClose tc = prev.closeTransport(dl);
        rep.extras.put("drained", tc.drained());
        SSLSessionContext cache = cell.args.server() ? cell.ctx.getServerSessionContext()
                : cell.ctx.getClientSessionContext();
        List<SSLSession> cached = Resumption.held(cache);
        Conn next = cell.openConn(dl);
        next.handshake(st, dl, rep);
        if (!rep.outcome.equals("ok")) {
            return;
        }
        boolean reused = Resumption.reused(cell.saved, cached, next.session());
        rep.extras.put("reused", reused);
        rep.outcome = reused ? "reused" : "not_reused";
    }

    private static void signalPeer(Cell cell, Script.Step st, Output.Report rep)
            throws ShimExit {
        cell.markers.send(st.marker);
        rep.outcome = "ok";
    }

    private static void plaintextWrite(Conn c, Script.Step st, Deadline dl, Output.Report rep)
            throws StepTimeout {
        byte[] data = st.text.getBytes(StandardCharsets.UTF_8);
        try {
            c.plainWrite(data, dl);
            rep.bytes = data.length;
            rep.outcome = "ok:" + data.length;
        } catch (IOException e) {
            rep.outcome = Outcomes.isReset(e) ? "error:reset" : "error:other";
            Output.note(st.where() + ": " + e);
        }
    }

    private static void plaintextRead(Conn c, Script.Step st, Deadline dl, Output.Report rep)
            throws StepTimeout {
        byte[] want = st.text.getBytes(StandardCharsets.UTF_8);
        try {
            Conn.PlainRead got = c.plainRead(want.length, dl);
            rep.bytes = got.data().length;
            rep.extras.put("got", new String(got.data(), StandardCharsets.UTF_8));
            rep.outcome = got.eof() ? "eof" : Arrays.equals(got.data(), want) ? "match"
                    : "mismatch";
        } catch (IOException e) {
            rep.outcome = Outcomes.isReset(e) ? "error:reset" : "error:other";
            Output.note(st.where() + ": " + e);
        }
    }
}
