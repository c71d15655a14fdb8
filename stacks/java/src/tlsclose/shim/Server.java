package tlsclose.shim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The persistent mode (`--serve`): cells one after the other, each from a
 * request line {"cell": ID, "args": [...], "script": [...]} on stdin, each
 * answered with exactly the lines of a per-process run whose end line adds
 * "exit" and "cell" (docs/shim-protocol.md, persistent mode). A bad request
 * gets an end line with exit 2 ("cell": null when it names no string id).
 * EOF on stdin ends the server with exit 0.
 *
 * <p>Every cell builds its own SSLContext, so its session caches and ticket
 * keys are new; only the parsed server key and certificate are shared
 * ({@link Tls.Credentials}). Java cannot fork, so a cell runs in the
 * server's JVM: a request that is not understood is that cell's exit 2,
 * an internal error its exit 4, and the server reads on. Markers travel
 * in-band ({@link Markers.InBand}); a marker line that arrives between
 * cells (the peer signalled after the cell ended) is noted and dropped.
 */
final class Server {
    private Server() {
    }

    private static final int MAX_REQUEST = 16 * 1024 * 1024;
    private static final int MAX_ARGS = 64;
    private static final Set<String> KEYS = Set.of("cell", "args", "script");

    static int serve() {
        LineQueue stdin = new LineQueue(System.in, "stdin", MAX_REQUEST);
        while (true) {
            String line = stdin.next(null);
            if (line == LineQueue.EOF) {
                return ShimExit.OK;
            }
            if (!line.isBlank()) {
                handle(line, stdin);
            }
        }
    }

    private static void handle(String line, LineQueue stdin) {
        Object req;
        try {
            req = line == LineQueue.TOO_LONG ? null : Json.parse(line);
        } catch (Json.Error e) {
            new Output(true, null).end(ShimExit.usage("request: not JSON: " + e.getMessage()));
            return;
        }
        if (!(req instanceof Map<?, ?> m)) {
            new Output(true, null).end(ShimExit.usage("request: expected a JSON object of at "
                    + "most " + MAX_REQUEST + " bytes"));
            return;
        }
        if (m.size() == 1 && m.containsKey("marker")) {
            Output.note("marker outside a cell dropped: " + line);
            return;
        }
        Output out = new Output(true, m.get("cell") instanceof String id ? id : null);
        List<String> argv;
        Args a;
        try {
            argv = request(m);
            a = Args.parse(argv, true);
        } catch (ShimExit e) {
            out.end(e);
            return;
        }
        Deadline run = Deadline.inMillis(a.deadlineMs);
        out.hello(a);
        ShimExit e = Cell.run(a, out, new Markers.InBand(out, stdin), run,
                () -> Script.of(m.get("script")));
        out.end(e);
    }

    private static List<String> request(Map<?, ?> m) throws ShimExit {
        for (Object k : m.keySet()) {
            if (!KEYS.contains(k)) {
                throw ShimExit.usage("request: unknown key '" + k + "'");
            }
        }
        for (String k : KEYS) {
            if (!m.containsKey(k)) {
                throw ShimExit.usage("request: key '" + k + "' is required");
            }
        }
        if (!(m.get("cell") instanceof String)) {
            throw ShimExit.usage("request: 'cell' must be a string");
        }
        if (!(m.get("args") instanceof List<?> list) || list.size() > MAX_ARGS) {
            throw ShimExit.usage("request: 'args' must be an array of at most " + MAX_ARGS
                    + " strings");
        }
        List<String> argv = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw ShimExit.usage("request: 'args' must be an array of strings");
            }
            argv.add(s);
        }
        return argv;
    }
}
