package tlsclose.shim;

import java.util.Arrays;
import java.util.List;

/**
 * tlsclose shim for Java's JSSE (docs/shim-protocol.md).
 *
 * <pre>
 * SHIM --version                  one JSON line, exit 0
 * SHIM --serve                    persistent mode: one cell per stdin request ({@link Server})
 * SHIM --role ... --script FILE   one cell per process
 * </pre>
 *
 * <p>Gives the hello line, one JSON line per step, the end line and the exit
 * codes (0, 2, 3, 4, 77) in the order §6 fixes: command line, hello, script
 * syntax, skips, usage, then the steps. README.md beside the sources maps
 * the protocol onto JSSE. Standard library only.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] argv) {
        // System.exit: the marker and watchdog threads are daemons, and a
        // dropped SSLSocket must not be finalized on the way out.
        System.exit(code(Arrays.asList(argv)));
    }

    static int code(List<String> argv) {
        if (argv.size() == 1 && argv.get(0).equals("--version")) {
            Output.version();
            return ShimExit.OK;
        }
        if (argv.size() == 1 && argv.get(0).equals("--serve")) {
            return Server.serve();
        }
        return perProcess(argv);
    }

    private static int perProcess(List<String> argv) {
        Output out = new Output(false, null);
        Args a;
        try {
            a = Args.parse(argv, false);
        } catch (ShimExit e) {
            out.end(e);
            return e.code;
        }
        Deadline run = Deadline.inMillis(a.deadlineMs);
        out.hello(a);
        ShimExit e = Cell.run(a, out, new Markers.Pipes(a.markerIn, a.markerOut), run,
                () -> Script.load(a.script));
        out.end(e);
        return e == null ? ShimExit.OK : e.code;
    }
}
