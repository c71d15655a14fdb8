package tlsclose.shim;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a cell prints (docs/shim-protocol.md §3): the hello line, one line
 * per step as soon as it ends, the end line; in serve mode also the
 * in-band marker lines and the end line's "exit" and "cell".
 *
 * <p>Every line is one JSON object, written and flushed at once; standard
 * output carries nothing else. Diagnostics for people go to standard error
 * ({@link #note}).
 */
final class Output {
    static final String SHIM = "java";
    static final String API = "native";
    static final int MAX_WANTS = 64;

    private static final OutputStream STDOUT =
            new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);

    private final boolean serve;
    private final Object cell;

    /** cell: the request's id in serve mode, else unused. */
    Output(boolean serve, Object cell) {
        this.serve = serve;
        this.cell = cell;
    }

    static String library() {
        return "OpenJDK " + System.getProperty("java.runtime.version") + " JSSE";
    }

    static void line(Map<String, Object> obj) {
        byte[] bytes = (Json.write(obj) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (STDOUT) {
            try {
                STDOUT.write(bytes);
                STDOUT.flush();
            } catch (IOException e) {
                note("cannot write to standard output: " + e.getMessage());
            }
        }
    }

    static void note(String message) {
        System.err.println("shim-java: " + message);
        System.err.flush();
    }

    static void version() {
        Map<String, Object> v = Json.object();
        v.put("shim", SHIM);
        v.put("library", library());
        v.put("api", API);
        v.put("serve", true);
        line(v);
    }

    void hello(Args a) {
        Map<String, Object> h = Json.object();
        h.put("shim", SHIM);
        h.put("library", library());
        h.put("api", API);
        h.put("role", a.role);
        h.put("tls", a.tls);
        h.put("io", a.io);
        line(h);
    }

    /** Serve mode: signal_peer's marker, in-band, before the step's line. */
    void marker(String name) {
        Map<String, Object> m = Json.object();
        m.put("marker", name);
        line(m);
    }

    void step(Report rep) {
        line(rep.line());
    }

    /** The end line of a run that ended as exit says (null: it ran to its end). */
    void end(ShimExit exit) {
        Map<String, Object> e = Json.object();
        e.put("end", exit == null ? "ok" : exit.endKind());
        if (exit != null) {
            if (exit.step > 0 || exit.code == ShimExit.SKIP) {
                e.put("step", exit.step);
            }
            e.put("message", exit.getMessage());
            note(exit.getMessage());
        }
        if (serve) {
            e.put("exit", exit == null ? ShimExit.OK : exit.code);
            e.put("cell", cell);
        }
        line(e);
    }

    /** The line of one step (docs/shim-protocol.md §3). */
    static final class Report {
        final int step;
        final String op;
        String outcome = "";
        final List<String> wants = new ArrayList<>();
        int wantsDropped;
        int calls;
        Map<String, Object> nativeResult;
        long bytes;
        double ms;
        /** The library's stream state (not its shutdown flags): see README.md. */
        Map<String, Object> stream;
        final Map<String, Object> extras = new LinkedHashMap<>();

        Report(Script.Step st) {
            this.step = st.index;
            this.op = st.op;
        }

        void want(String want) {
            if (wants.size() < MAX_WANTS) {
                wants.add(want);
            } else {
                wantsDropped++;
            }
        }

        Map<String, Object> line() {
            Map<String, Object> out = Json.object();
            out.put("step", step);
            out.put("op", op);
            out.put("outcome", outcome);
            out.put("wants", wants);
            if (wantsDropped > 0) {
                out.put("wants_dropped", wantsDropped);
            }
            out.put("calls", calls);
            out.put("native", nativeResult);
            out.put("flags", null);
            out.put("bytes", bytes);
            out.put("ms", ms);
            if (stream != null) {
                out.put("stream", stream);
            }
            out.putAll(extras);
            return out;
        }
    }
}
