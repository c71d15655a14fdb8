package tlsclose.shim;

import java.io.IOException;
import java.util.Map;
import javax.net.ssl.SSLSession;

/**
 * One connection of the stack under test: the TLS object and its TCP
 * socket, in one of the three IO modes (docs/shim-protocol.md §4):
 * {@link BlockingConn} (SSLSocket), {@link NonblockingConn} and
 * {@link MemoryConn} (SSLEngine).
 *
 * <p>Each TLS op fills the step's report: the normalized outcome, the
 * calls, the wants, the native answer of the last call, the bytes. A
 * library call that meets the step's deadline throws {@link StepTimeout}
 * after setting the outcome error:timeout. The bare-socket operations keep
 * the TCP close graceful: FIN, read and discard until the peer's EOF, close.
 */
abstract class Conn {
    /** A read returned the peer's close (the library's report, whatever caused it). */
    boolean peerClosed;
    /** shutdown steps on this connection. */
    int shutdowns;
    /** The transport was closed (close_transport, resume). */
    boolean transportClosed;

    abstract void handshake(Script.Step st, Deadline dl, Output.Report rep)
            throws StepTimeout;

    abstract void read(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout;

    abstract void write(Script.Step st, byte[] data, Deadline dl, Output.Report rep)
            throws StepTimeout;

    abstract void shutdown(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout;

    /** shutdown_full: a bidirectional close in one call. */
    abstract void shutdownFull(Script.Step st, Deadline dl, Output.Report rep)
            throws StepTimeout;

    /** keyupdate with request_peer (JSSE has no other kind, see Capabilities). */
    abstract void keyUpdate(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout;

    /** The session of the connection, null once the TLS object is gone. */
    abstract SSLSession session();

    /** Drops the TLS object without any close call. */
    abstract void free();

    abstract boolean tlsAlive();

    /** The library's stream state for the step line, null without a TLS object. */
    abstract Map<String, Object> stream();

    /** Closes the socket without TLS: FIN, drain until EOF, close. */
    abstract TransportClose closeTransport(Deadline dl) throws StepTimeout;

    /** Memory and nonblocking modes: what the library wrote is sent first. */
    abstract void plainWrite(byte[] data, Deadline dl) throws IOException, StepTimeout;

    /** Exactly n bytes, fewer only at EOF; bytes the application holds come first. */
    abstract PlainRead plainRead(int n, Deadline dl) throws IOException, StepTimeout;

    /** The end of the run: the graceful close, whatever happens. */
    void closeAtEnd(Deadline dl) {
        try {
            closeTransport(dl);
        } catch (StepTimeout | RuntimeException e) {
            Output.note("closing the connection at the end: " + e.getMessage());
        }
    }

    record TransportClose(long drained, boolean reset) {
    }

    record PlainRead(byte[] data, boolean eof) {
    }

    /** The outcome of a shutdown call that returned normally. */
    String closedOutcome() {
        return peerClosed ? "complete" : "sent";
    }

    static StepTimeout timeout(Output.Report rep, String what) {
        rep.outcome = "error:timeout";
        return new StepTimeout(what);
    }
}
