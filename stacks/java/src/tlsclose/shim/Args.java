package tlsclose.shim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The command line of one cell (docs/shim-protocol.md §1), and the same
 * arguments as a serve-mode request gives them.
 *
 * <p>Gives {@link #parse}: the arguments, or a usage error (exit 2) naming
 * the argument. In serve mode the transport is always --connect and the
 * script and marker pipes are not arguments (serve-mode draft, "Requests").
 * Never opens anything: descriptors, files and sockets are the cell's
 * business.
 */
final class Args {
    static final int DEFAULT_DEADLINE_MS = 10000;
    static final int MAX_DEADLINE_MS = 3600000;
    static final int MAX_CONNECTIONS = 4;

    String role;
    String tls;
    String io;
    List<Integer> fds = new ArrayList<>();
    String connectHost;
    int connectPort = -1;
    String cert;
    String key;
    String script;
    String cipher;
    String sessionIn;
    String sessionOut;
    int markerIn = -1;
    int markerOut = -1;
    int deadlineMs = DEFAULT_DEADLINE_MS;

    boolean server() {
        return "server".equals(role);
    }

    boolean connect() {
        return connectHost != null;
    }

    private static final List<String> OPTIONS = Arrays.asList("--role", "--tls", "--io", "--fd",
            "--connect", "--cert", "--key", "--script", "--cipher", "--session-in",
            "--session-out", "--marker-in", "--marker-out", "--deadline-ms");
    /** Not arguments of a serve-mode request: the request carries them itself. */
    private static final List<String> NOT_IN_SERVE = Arrays.asList("--script", "--fd",
            "--marker-in", "--marker-out");
    private static final Pattern INT = Pattern.compile("-?[0-9]{1,10}");

    static Args parse(List<String> argv, boolean serve) throws ShimExit {
        Args a = new Args();
        for (int i = 0; i < argv.size(); i += 2) {
            String opt = argv.get(i);
            if (!OPTIONS.contains(opt)) {
                throw ShimExit.usage("unknown argument '" + opt + "'");
            }
            if (serve && NOT_IN_SERVE.contains(opt)) {
                throw ShimExit.usage(opt + " is not an argument of a serve-mode request "
                        + "(the request carries the script; markers travel in-band; "
                        + "every connection is --connect)");
            }
            if (i + 1 >= argv.size()) {
                throw ShimExit.usage(opt + " needs a value");
            }
            a.set(opt, argv.get(i + 1));
        }
        a.checkComplete(serve);
        return a;
    }

    private void set(String opt, String val) throws ShimExit {
        switch (opt) {
            case "--role" -> role = choice(opt, val, "client", "server");
            case "--tls" -> tls = choice(opt, val, "1.2", "1.3");
            case "--io" -> io = choice(opt, val, "blocking", "nonblocking", "memory");
            case "--fd" -> fds = fds(val);
            case "--connect" -> address(val);
            case "--cert" -> cert = val;
            case "--key" -> key = val;
            case "--script" -> script = val;
            case "--cipher" -> cipher = val;
            case "--session-in" -> sessionIn = val;
            case "--session-out" -> sessionOut = val;
            case "--marker-in" -> markerIn = integer(opt, val, 0, 65535);
            case "--marker-out" -> markerOut = integer(opt, val, 0, 65535);
            case "--deadline-ms" -> deadlineMs = integer(opt, val, 1, MAX_DEADLINE_MS);
            default -> throw ShimExit.usage("unknown argument '" + opt + "'");
        }
    }

    private static String choice(String opt, String val, String... allowed) throws ShimExit {
        for (String c : allowed) {
            if (c.equals(val)) {
                return val;
            }
        }
        throw ShimExit.usage(opt + ": '" + val + "' is not one of " + String.join(", ", allowed));
    }

    static int integer(String opt, String val, int low, int high) throws ShimExit {
        if (!INT.matcher(val).matches()) {
            throw ShimExit.usage(opt + ": '" + val + "' is not an integer in " + low + ".." + high);
        }
        long n = Long.parseLong(val);
        if (n < low || n > high) {
            throw ShimExit.usage(opt + ": '" + val + "' is not an integer in " + low + ".." + high);
        }
        return (int) n;
    }

    private static List<Integer> fds(String val) throws ShimExit {
        String[] parts = val.split(",", -1);
        if (parts.length > MAX_CONNECTIONS) {
            throw ShimExit.usage("--fd: '" + val + "' must list 1 to " + MAX_CONNECTIONS
                    + " descriptors");
        }
        List<Integer> out = new ArrayList<>();
        for (String p : parts) {
            out.add(integer("--fd", p, 0, 65535));
        }
        return out;
    }

    private void address(String val) throws ShimExit {
        int colon = val.lastIndexOf(':');
        String host = colon > 0 ? val.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || colon == val.length() - 1) {
            throw ShimExit.usage("--connect: '" + val + "' is not HOST:PORT");
        }
        connectPort = integer("--connect", val.substring(colon + 1), 1, 65535);
        connectHost = host;
    }

    /** After the loop, so the message names the first missing argument. */
    private void checkComplete(boolean serve) throws ShimExit {
        if (role == null) {
            throw ShimExit.usage("--role is required (client or server)");
        }
        if (tls == null) {
            throw ShimExit.usage("--tls is required (1.2 or 1.3)");
        }
        if (io == null) {
            throw ShimExit.usage("--io is required (blocking, nonblocking or memory)");
        }
        if (!fds.isEmpty() && connect()) {
            throw ShimExit.usage("--fd and --connect exclude each other");
        }
        if (fds.isEmpty() && !connect()) {
            throw ShimExit.usage(serve ? "--connect is required in serve mode"
                    : "one of --fd or --connect is required");
        }
        if (!serve && script == null) {
            throw ShimExit.usage("--script is required");
        }
        if (cert == null || key == null) {
            throw ShimExit.usage("--cert and --key are required");
        }
    }
}
