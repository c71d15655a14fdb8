package tlsclose.shim;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;

/**
 * One run of a step script: the cell's SSLContext, its connections, the
 * loop over the steps and the graceful close of every socket on every path
 * (docs/shim-protocol.md §6). The same code serves a per-process run and
 * one request of serve mode: everything a cell makes lives in this object
 * and goes with it.
 */
final class Cell {
    final Args args;
    final Markers markers;
    private final Output out;
    private final Deadline runDeadline;
    SSLContext ctx;
    Conn cur;
    /** The session saved by free_without_shutdown or the last resume. */
    SSLSession saved;
    private final List<Conn> conns = new ArrayList<>();
    private final Map<Integer, byte[]> patterns = new HashMap<>();
    /** The script fills the send path (until_blocked): see EngineConn.untilBlocked. */
    private boolean fixedSendBuffer;

    Cell(Args args, Output out, Markers markers, Deadline runDeadline) {
        this.args = args;
        this.out = out;
        this.markers = markers;
        this.runDeadline = runDeadline;
    }

    /** The whole cell after the hello line: script checks, then the steps. */
    static ShimExit run(Args a, Output out, Markers markers, Deadline runDeadline,
                        ScriptSource source) {
        Cell cell = new Cell(a, out, markers, runDeadline);
        try {
            List<Script.Step> steps = source.load();
            Capabilities.check(a, steps, markers instanceof Markers.InBand);
            cell.execute(steps);
            return null;
        } catch (ShimExit e) {
            return e;
        } catch (RuntimeException | Error e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            Output.note(trace.toString());
            return ShimExit.failure("internal error: " + e);
        }
    }

    interface ScriptSource {
        List<Script.Step> load() throws ShimExit;
    }

    /** The write buffer of size n (byte i is i & 0xff), the same array for every step of that size. */
    byte[] pattern(int n) {
        return patterns.computeIfAbsent(n, size -> {
            byte[] p = new byte[size];
            for (int i = 0; i < size; i++) {
                p[i] = (byte) i;
            }
            return p;
        });
    }

    Conn openConn(Deadline dl) throws ShimExit, StepTimeout {
        Conn c;
        try {
            c = switch (args.io) {
                case "blocking" -> BlockingConn.open(ctx, args, dl);
                case "nonblocking" -> NonblockingConn.open(ctx, args, dl, fixedSendBuffer);
                default -> MemoryConn.open(ctx, args, dl, fixedSendBuffer);
            };
        } catch (IOException e) {
            throw ShimExit.failure("connection " + (conns.size() + 1) + " to "
                    + args.connectHost + ":" + args.connectPort + ": " + e);
        }
        conns.add(c);
        cur = c;
        return c;
    }

    private void execute(List<Script.Step> steps) throws ShimExit {
        fixedSendBuffer = steps.stream().anyMatch(st -> st.untilBlocked);
        try {
            ctx = Tls.context(args);
            try {
                openConn(runDeadline);
            } catch (StepTimeout e) {
                throw ShimExit.failure("connection 1: the run's deadline passed while connecting");
            }
            for (Script.Step st : steps) {
                oneStep(st);
            }
        } catch (ShimExit | RuntimeException e) {
            cleanup(Deadline.now());
            throw e;
        }
        cleanup(runDeadline);
    }

    private void oneStep(Script.Step st) throws ShimExit {
        Output.Report rep = new Output.Report(st);
        Deadline dl = Deadline.inMillis(st.timeoutMs).min(runDeadline);
        long start = System.nanoTime();
        try {
            Steps.run(this, st, dl, rep);
        } catch (StepTimeout e) {
            rep.outcome = "error:timeout";
            finishLine(rep, start);
            String which = dl == runDeadline ? "run" : "step";
            throw new ShimExit(ShimExit.TIMEOUT, st.where() + ": " + which
                    + " deadline passed (" + e.getMessage() + ")", st.index);
        } catch (ShimExit e) {
            throw e.at(st);
        }
        finishLine(rep, start);
    }

    private void finishLine(Output.Report rep, long start) {
        rep.ms = Deadline.msSince(start);
        if (cur != null && cur.tlsAlive()) {
            rep.stream = cur.stream();
        }
        out.step(rep);
    }

    private void cleanup(Deadline dl) {
        for (Conn c : conns) {
            c.closeAtEnd(dl);
        }
    }
}
