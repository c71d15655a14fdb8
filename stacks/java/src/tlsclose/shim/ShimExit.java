package tlsclose.shim;

/**
 * Ends a cell early (docs/shim-protocol.md §6): the end line, then the
 * exit code. {@code step} is the step to blame, 0 for the run as a whole
 * (a skip always names its step, 0 included).
 */
final class ShimExit extends Exception {
    private static final long serialVersionUID = 1L;

    static final int OK = 0;
    static final int USAGE = 2;
    static final int TIMEOUT = 3;
    static final int FAILURE = 4;
    static final int SKIP = 77;

    final int code;
    final int step;

    ShimExit(int code, String message, int step) {
        super(message);
        this.code = code;
        this.step = step;
    }

    ShimExit(int code, String message) {
        this(code, message, 0);
    }

    static ShimExit usage(String message) {
        return new ShimExit(USAGE, message);
    }

    static ShimExit failure(String message) {
        return new ShimExit(FAILURE, message);
    }

    static ShimExit skip(String message, int step) {
        return new ShimExit(SKIP, message, step);
    }

    /** The same exit with the step named in front of the message. */
    ShimExit at(Script.Step st) {
        return new ShimExit(code, st.where() + ": " + getMessage(), st.index);
    }

    String endKind() {
        return switch (code) {
            case TIMEOUT -> "timeout";
            case SKIP -> "skip";
            default -> "error";
        };
    }
}
