package tlsclose.shim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's view of one TCP connection, from /proc/self/net/tcp and
 * tcp6 (Java has no TCP_INFO): the send queue (bytes written and not yet
 * acknowledged), the timer that is pending and when it expires (clock
 * ticks, counting down; it jumps up when the timer fires and is armed
 * again). Used by until_blocked to tell a stall that lasts from bytes
 * still in flight.
 */
record TcpState(long txQueue, int timer, long when) {
    /** Linux's timer code of the zero-window probe (ICSK_TIME_PROBE0 shows as 4). */
    private static final int PROBE0 = 4;

    /** Nothing in flight: all sent bytes acknowledged, what is queued waits for the
     * peer's window (the zero-window probe timer), or nothing is queued. */
    boolean nothingInFlight() {
        return txQueue == 0 || zeroWindow();
    }

    /** The persist timer: queued bytes wait for the peer to open its window. */
    boolean zeroWindow() {
        return timer == PROBE0;
    }

    /** The established connection between these local and remote ports, or null. */
    static TcpState of(int localPort, int remotePort) {
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    TcpState s = parse(line.trim().split("\\s+"), localPort, remotePort);
                    if (s != null) {
                        return s;
                    }
                }
            } catch (IOException | RuntimeException e) {
                Output.note(table + ": " + e.getMessage());
            }
        }
        return null;
    }

    private static TcpState parse(String[] f, int localPort, int remotePort) {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...
        if (f.length < 6 || !f[0].endsWith(":") || !f[3].equals("01")) {
            return null;
        }
        if (port(f[1]) != localPort || port(f[2]) != remotePort) {
            return null;
        }
        long tx = Long.parseLong(f[4].substring(0, f[4].indexOf(':')), 16);
        int tr = Integer.parseInt(f[5].substring(0, f[5].indexOf(':')), 16);
        long when = Long.parseLong(f[5].substring(f[5].indexOf(':') + 1), 16);
        return new TcpState(tx, tr, when);
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
    }
}
