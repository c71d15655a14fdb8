package tlsclose.shim;

import java.io.IOException;

/**
 * until_blocked's "stalled for good" (docs/shim-protocol.md §2) without
 * TCP_INFO or SO_MEMINFO, which Java lacks: the shim reads the kernel's view
 * of the connection from /proc/net/tcp (TcpState).
 *
 * <p>After a want_write: {@link #settle} waits until nothing is in flight
 * (the kernel holds what it has behind the peer's zero window, the persist
 * timer is on, or holds nothing) or the socket takes more. A stall lasts
 * when the kernel then takes nothing (full) or took nothing since the
 * previous want, behind a zero window, and {@link #windowStaysShut}: the
 * peer answered PROBES zero-window probes without opening its window.
 *
 * <p>Two things observed on Linux loopback make the probes necessary: an
 * autotuned send buffer grows after a refused write at the next ACK
 * (tcp_new_space -> tcp_sndbuf_expand), so the connection of an
 * until_blocked script gets a fixed SO_SNDBUF (EngineSocket.FIXED_SNDBUF);
 * and the first probe's answer still opens the window by what the peer's
 * buffer has left, an answer that can arrive just after the timer is seen
 * armed again. After that the peer's buffer is full: until the next probe,
 * at least twice as far away, only the peer reading opens the window.
 */
final class SendStall {
    private static final int PROBES = 2;

    interface Flush {
        /** Sends pending output as far as the socket takes it now. */
        void run() throws IOException;
    }

    private final EngineSocket sock;
    private final Flush flush;
    private long mark = -1;

    SendStall(EngineSocket sock, Flush flush) {
        this.sock = sock;
        this.flush = flush;
    }

    /** Called at a want_write: true when the stall lasts, false to write on. */
    boolean lasts(Deadline dl) throws IOException, StepTimeout {
        long before = sock.accepted();
        TcpState s = settle(dl);
        if (sock.accepted() != before) {
            return false;               // the kernel took more meanwhile
        }
        flush.run();
        boolean full = sock.accepted() == before;
        boolean zeroWindow = s == null || s.zeroWindow();
        boolean stalled = zeroWindow && (full || sock.accepted() == mark)
                && windowStaysShut(s, dl);
        mark = sock.accepted();
        return stalled;
    }

    private TcpState settle(Deadline dl) throws IOException, StepTimeout {
        long before = sock.accepted();
        while (true) {
            TcpState s = sock.state();
            if (s == null || s.nothingInFlight() || sock.accepted() != before) {
                return s;
            }
            if (dl.passed()) {
                throw new StepTimeout("deadline passed with data in flight");
            }
            sock.tick(dl);
            flush.run();
        }
    }

    /** The persist timer fired and was armed again (its expiry jumps up)
     * PROBES times while the socket took nothing, a write tried each tick. */
    private boolean windowStaysShut(TcpState s, Deadline dl) throws IOException, StepTimeout {
        if (s == null) {
            return true;
        }
        long before = sock.accepted();
        long when = s.when();
        int probes = 0;
        while (true) {
            if (dl.passed()) {
                throw new StepTimeout("deadline passed waiting for a zero-window probe");
            }
            sock.tick(dl);
            flush.run();
            TcpState now = sock.state();
            if (sock.accepted() != before || now == null || !now.zeroWindow()) {
                return false;
            }
            if (now.when() > when && ++probes == PROBES) {
                return true;
            }
            when = now.when();
        }
    }
}
