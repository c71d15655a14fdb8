package tlsclose.shim;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The markers of signal_peer and wait_peer (docs/shim-protocol.md §2).
 *
 * <p>Per-process mode: the pipes --marker-out / --marker-in, one line
 * "NAME\n" per marker. Java cannot take a descriptor number, so the shim
 * opens the inherited pipe again through /proc/self/fd/N (Linux), which
 * gives a new descriptor of the same pipe. Serve mode: markers travel
 * in-band, {"marker": "NAME"} lines on stdout and stdin.
 *
 * <p>{@link #send} ends the run with exit 4 when the marker cannot be
 * written, the other side's end of the pipe closed (EPIPE) included, as
 * docs/shim-protocol.md §4 ("Markers") says. {@link #await} ends the run
 * with exit 4 when the channel closed or brought something else, and throws
 * StepTimeout at the deadline.
 */
abstract class Markers {
    abstract void send(String name) throws ShimExit;

    abstract void await(String name, Deadline dl) throws ShimExit, StepTimeout;

    static ShimExit wrong(String name, String got) {
        if (got == LineQueue.EOF) {
            return ShimExit.failure("marker '" + name + "': the marker channel closed");
        }
        if (got == LineQueue.TOO_LONG) {
            return ShimExit.failure("marker '" + name + "': the marker channel brought a line "
                    + "that is too long");
        }
        return ShimExit.failure("expected marker '" + name + "', got '" + got + "'");
    }

    /** Per-process mode: the two pipes. */
    static final class Pipes extends Markers {
        private final int inFd;
        private final int outFd;
        private OutputStream out;
        private LineQueue in;

        Pipes(int inFd, int outFd) {
            this.inFd = inFd;
            this.outFd = outFd;
        }

        @Override
        void send(String name) throws ShimExit {
            if (outFd < 0) {
                throw ShimExit.usage("marker '" + name + "': no marker pipe to write to "
                        + "(--marker-out)");
            }
            try {
                if (out == null) {
                    out = new FileOutputStream("/proc/self/fd/" + outFd, true);
                }
                out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw ShimExit.failure("marker write (--marker-out " + outFd + "): "
                        + e.getMessage());
            }
        }

        @Override
        void await(String name, Deadline dl) throws ShimExit, StepTimeout {
            if (inFd < 0) {
                throw ShimExit.usage("marker '" + name + "': no marker pipe to read from "
                        + "(--marker-in)");
            }
            if (in == null) {
                try {
                    in = new LineQueue(new FileInputStream("/proc/self/fd/" + inFd), "marker-in",
                            256);
                } catch (IOException e) {
                    throw ShimExit.failure("marker pipe (--marker-in " + inFd + "): "
                            + e.getMessage());
                }
            }
            String got = in.next(dl);
            if (got == null) {
                throw new StepTimeout("deadline passed waiting for marker '" + name + "'");
            }
            if (!got.equals(name) || got == LineQueue.EOF || got == LineQueue.TOO_LONG) {
                throw wrong(name, got);
            }
        }
    }

    /** Serve mode: in-band lines. */
    static final class InBand extends Markers {
        private final Output out;
        private final LineQueue stdin;

        InBand(Output out, LineQueue stdin) {
            this.out = out;
            this.stdin = stdin;
        }

        @Override
        void send(String name) {
            out.marker(name);
        }

        @Override
        void await(String name, Deadline dl) throws ShimExit, StepTimeout {
            String line = stdin.next(dl);
            if (line == null) {
                throw new StepTimeout("deadline passed waiting for marker '" + name + "'");
            }
            if (line == LineQueue.EOF || line == LineQueue.TOO_LONG) {
                throw wrong(name, line);
            }
            Object got;
            try {
                got = Json.parse(line);
            } catch (Json.Error e) {
                throw wrong(name, line);
            }
            if (!(got instanceof Map<?, ?> m) || m.size() != 1 || !name.equals(m.get("marker"))) {
                throw wrong(name, line);
            }
        }
    }
}
