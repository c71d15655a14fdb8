package tlsclose.shim;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The step script (docs/shim-protocol.md §2), read and checked whole before
 * any byte is exchanged.
 *
 * <p>Gives {@link #load} (a file) and {@link #of} (the inline array of a
 * serve-mode request): the steps, or a usage error (exit 2) naming the step
 * and the field. Unknown ops and unknown fields are errors, so a typo never
 * passes silently. Never decides what this stack can do: {@link Capabilities}
 * does that afterwards.
 */
final class Script {
    private Script() {
    }

    static final int MAX_STEP_BYTES = 64 * 1024 * 1024;
    static final int MAX_TIMEOUT_MS = 3600000;
    static final int DEFAULT_TIMEOUT_MS = 5000;
    static final int MARKER_MAX = 63;

    /** One step. {@code bytes} is -1 when the step does not give it. */
    static final class Step {
        final int index;
        final String op;
        int timeoutMs = DEFAULT_TIMEOUT_MS;
        boolean nowait;
        int bytes = -1;
        boolean untilClose;
        boolean untilBlocked;
        boolean requestPeer;
        String marker;
        String text;
        /** set_option: the option's name and whether it is set on the context. */
        String option;
        boolean contextScope;

        Step(int index, String op) {
            this.index = index;
            this.op = op;
        }

        String where() {
            return "step " + index + " (" + op + ")";
        }
    }

    private enum Kind { BOOL, SIZE, COUNT, UNTIL, MARKER, TEXT, OPTION, SCOPE }

    /** The options of set_option (harness/base/vocabulary.py). */
    static final List<String> OPTIONS = List.of("ignore_unexpected_eof", "post_handshake_auth",
            "quiet_shutdown");

    private record OpSpec(Map<String, Kind> fields, boolean callsLibrary, List<String> required) {
    }

    private static final Map<String, Kind> NOWAIT = Map.of("nowait", Kind.BOOL);
    private static final Map<String, OpSpec> OPS = Map.ofEntries(
            Map.entry("handshake", new OpSpec(NOWAIT, true, List.of())),
            Map.entry("write", new OpSpec(Map.of("bytes", Kind.SIZE, "nowait", Kind.BOOL,
                    "until_blocked", Kind.BOOL), true, List.of("bytes"))),
            Map.entry("read", new OpSpec(Map.of("bytes", Kind.COUNT, "until", Kind.UNTIL,
                    "nowait", Kind.BOOL), true, List.of())),
            Map.entry("shutdown", new OpSpec(NOWAIT, true, List.of())),
            Map.entry("shutdown_quiet", new OpSpec(Map.of(), true, List.of())),
            Map.entry("shutdown_full", new OpSpec(NOWAIT, true, List.of())),
            Map.entry("get_shutdown", new OpSpec(Map.of(), false, List.of())),
            Map.entry("get_error_after", new OpSpec(Map.of(), false, List.of())),
            Map.entry("keyupdate", new OpSpec(Map.of("request_peer", Kind.BOOL), true, List.of())),
            Map.entry("close_transport", new OpSpec(Map.of(), false, List.of())),
            Map.entry("free_without_shutdown", new OpSpec(Map.of(), false, List.of())),
            Map.entry("session_resumable", new OpSpec(Map.of(), false, List.of())),
            Map.entry("resume", new OpSpec(Map.of(), false, List.of())),
            Map.entry("signal_peer", new OpSpec(Map.of("marker", Kind.MARKER), false,
                    List.of("marker"))),
            Map.entry("wait_peer", new OpSpec(Map.of("marker", Kind.MARKER), false,
                    List.of("marker"))),
            Map.entry("plaintext_write", new OpSpec(Map.of("text", Kind.TEXT), false,
                    List.of("text"))),
            Map.entry("plaintext_read", new OpSpec(Map.of("text", Kind.TEXT), false,
                    List.of("text"))),
            Map.entry("set_option", new OpSpec(Map.of("option", Kind.OPTION, "scope", Kind.SCOPE),
                    false, List.of("option"))),
            Map.entry("clear", new OpSpec(Map.of(), false, List.of())));

    static List<Step> load(String path) throws ShimExit {
        String text;
        try {
            text = Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw ShimExit.usage(path + ": " + e.getMessage());
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.Error e) {
            throw ShimExit.usage(path + ": not JSON: " + e.getMessage());
        }
        return of(root);
    }

    static List<Step> of(Object root) throws ShimExit {
        if (!(root instanceof List<?> list)) {
            throw ShimExit.usage("step script: expected a JSON array of steps");
        }
        if (list.isEmpty()) {
            throw ShimExit.usage("step script: no steps");
        }
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            steps.add(decode(list.get(i), i + 1));
        }
        checkSequence(steps);
        return steps;
    }

    static boolean callsLibrary(String op) {
        return OPS.get(op).callsLibrary();
    }

    private static Step decode(Object raw, int index) throws ShimExit {
        if (!(raw instanceof Map<?, ?> obj)) {
            throw ShimExit.usage("step " + index + ": expected an object");
        }
        Object op = obj.get("op");
        if (op == null) {
            throw ShimExit.usage("step " + index + ": field 'op' is required");
        }
        if (!(op instanceof String name)) {
            throw ShimExit.usage("step " + index + ": field 'op': expected a string");
        }
        OpSpec spec = OPS.get(name);
        if (spec == null) {
            throw ShimExit.usage("step " + index + ": unknown op '" + name + "'");
        }
        Step st = new Step(index, name);
        // Sorted, so that the same script always gets the same message.
        Set<String> fields = new TreeSet<>();
        for (Object k : obj.keySet()) {
            fields.add((String) k);
        }
        for (String field : fields) {
            Object v = obj.get(field);
            if (field.equals("op")) {
                continue;
            }
            if (field.equals("timeout_ms")) {
                st.timeoutMs = range(st, field, v, 1, MAX_TIMEOUT_MS);
            } else if (spec.fields().containsKey(field)) {
                set(st, field, spec.fields().get(field), v);
            } else {
                throw ShimExit.usage(st.where() + ": unknown field '" + field + "'");
            }
        }
        for (String field : spec.required()) {
            if (!obj.containsKey(field)) {
                throw ShimExit.usage(st.where() + ": field '" + field + "' is required");
            }
        }
        checkCombinations(st);
        return st;
    }

    private static void set(Step st, String field, Kind kind, Object v) throws ShimExit {
        switch (kind) {
            case BOOL -> {
                if (!(v instanceof Boolean b)) {
                    throw ShimExit.usage(st.where() + ": field '" + field
                            + "': expected true or false");
                }
                switch (field) {
                    case "nowait" -> st.nowait = b;
                    case "until_blocked" -> st.untilBlocked = b;
                    default -> st.requestPeer = b;
                }
            }
            case SIZE -> st.bytes = range(st, field, v, 0, MAX_STEP_BYTES);
            case COUNT -> st.bytes = range(st, field, v, 1, MAX_STEP_BYTES);
            case UNTIL -> {
                if (!"close".equals(string(st, field, v))) {
                    throw ShimExit.usage(st.where() + ": field 'until': only \"close\" is "
                            + "defined, got \"" + v + "\"");
                }
                st.untilClose = true;
            }
            case MARKER -> {
                String m = string(st, field, v);
                if (m.isEmpty() || m.getBytes(StandardCharsets.UTF_8).length > MARKER_MAX
                        || m.indexOf('\n') >= 0) {
                    throw ShimExit.usage(st.where() + ": field 'marker': required, 1-"
                            + MARKER_MAX + " bytes, no newline");
                }
                st.marker = m;
            }
            case TEXT -> {
                String t = string(st, field, v);
                if (t.isEmpty()) {
                    throw ShimExit.usage(st.where() + ": field 'text': a non-empty string is "
                            + "required");
                }
                st.text = t;
            }
            case OPTION -> {
                String o = string(st, field, v);
                if (!OPTIONS.contains(o)) {
                    throw ShimExit.usage(st.where() + ": field 'option': expected "
                            + "ignore_unexpected_eof, post_handshake_auth or quiet_shutdown, got \""
                            + o + "\"");
                }
                st.option = o;
            }
            case SCOPE -> {
                String sc = string(st, field, v);
                if (!sc.equals("connection") && !sc.equals("context")) {
                    throw ShimExit.usage(st.where() + ": field 'scope': expected connection or "
                            + "context, got \"" + sc + "\"");
                }
                st.contextScope = sc.equals("context");
            }
        }
    }

    private static String string(Step st, String field, Object v) throws ShimExit {
        if (!(v instanceof String s)) {
            throw ShimExit.usage(st.where() + ": field '" + field + "': expected a string");
        }
        return s;
    }

    /** An integral JSON number in range (a bool or 1.5 is not one). */
    private static int range(Step st, String field, Object v, int low, int high)
            throws ShimExit {
        if (!(v instanceof BigDecimal d)) {
            throw ShimExit.usage(st.where() + ": field '" + field + "': expected an integer");
        }
        BigDecimal n;
        try {
            n = new BigDecimal(d.toBigIntegerExact());
        } catch (ArithmeticException e) {
            throw ShimExit.usage(st.where() + ": field '" + field + "': expected an integer");
        }
        if (n.compareTo(BigDecimal.valueOf(low)) < 0 || n.compareTo(BigDecimal.valueOf(high)) > 0) {
            throw ShimExit.usage(st.where() + ": field '" + field + "': " + n.toPlainString()
                    + " is out of range " + low + ".." + high);
        }
        return n.intValueExact();
    }

    private static void checkCombinations(Step st) throws ShimExit {
        String w = st.where();
        if (st.op.equals("write") && st.untilBlocked && st.bytes == 0) {
            throw ShimExit.usage(w + ": 'until_blocked' needs 'bytes' of at least 1");
        }
        if (st.op.equals("write") && st.untilBlocked && st.nowait) {
            throw ShimExit.usage(w + ": 'until_blocked' and 'nowait' exclude each other");
        }
        if (st.op.equals("read") && st.untilClose && st.bytes >= 0) {
            throw ShimExit.usage(w + ": 'bytes' and 'until' exclude each other");
        }
        if (st.op.equals("read") && st.untilClose && st.nowait) {
            throw ShimExit.usage(w + ": 'until' and 'nowait' exclude each other");
        }
    }

    private static boolean needsTlsObject(Step st) {
        return switch (st.op) {
            case "get_shutdown", "get_error_after", "session_resumable",
                 "free_without_shutdown", "clear" -> true;
            case "set_option" -> !st.contextScope;
            default -> callsLibrary(st.op);
        };
    }

    /** After `clear` the object waits for the next connection: only the
     * queries that do no IO may look at it until a `resume` attaches it. */
    private static boolean allowedAfterClear(String op) {
        return op.equals("get_shutdown") || op.equals("session_resumable");
    }

    /** What a step needs must still exist; a resume brings a fresh TLS object and socket. */
    private static void checkSequence(List<Step> steps) throws ShimExit {
        int freedAt = 0;
        int closedAt = 0;
        int clearedAt = 0;
        for (int i = 0; i < steps.size(); i++) {
            Step st = steps.get(i);
            if (st.op.equals("get_error_after")
                    && (i == 0 || !callsLibrary(steps.get(i - 1).op))) {
                throw ShimExit.usage(st.where() + ": the previous step must call the library "
                        + "(handshake, write, read, shutdown*, keyupdate)");
            }
            if (freedAt > 0 && needsTlsObject(st)) {
                throw ShimExit.usage(st.where() + ": the TLS object was freed by step " + freedAt);
            }
            if (clearedAt > 0 && needsTlsObject(st) && !allowedAfterClear(st.op)) {
                throw ShimExit.usage(st.where() + ": the TLS object was cleared by step "
                        + clearedAt + " and waits for a resume");
            }
            if (closedAt > 0 && st.op.startsWith("plaintext_")) {
                throw ShimExit.usage(st.where() + ": the transport was closed by step "
                        + closedAt);
            }
            switch (st.op) {
                case "free_without_shutdown" -> freedAt = st.index;
                case "close_transport" -> closedAt = st.index;
                case "clear" -> clearedAt = st.index;
                case "resume" -> {
                    freedAt = 0;
                    closedAt = 0;
                    clearedAt = 0;
                }
                default -> {
                }
            }
        }
    }
}
