package tlsclose.shim;

/**
 * An absolute point in time on the monotonic clock, and the waits bounded
 * by it. A step's deadline is its timeout_ms cut to the run's deadline.
 */
final class Deadline {
    final long nanos;

    private Deadline(long nanos) {
        this.nanos = nanos;
    }

    static Deadline inMillis(long ms) {
        return new Deadline(System.nanoTime() + ms * 1_000_000L);
    }

    static Deadline now() {
        return new Deadline(System.nanoTime());
    }

    Deadline min(Deadline other) {
        return other.nanos - nanos < 0 ? other : this;
    }

    boolean passed() {
        return System.nanoTime() - nanos >= 0;
    }

    /** Milliseconds left, rounded up, never below 0. */
    long millisLeft() {
        long left = nanos - System.nanoTime();
        return left <= 0 ? 0 : (left + 999_999) / 1_000_000;
    }

    /** Milliseconds left for a call that takes 0 as "forever": at least 1. */
    int timeoutMillis() {
        long ms = millisLeft();
        return (int) Math.max(1, Math.min(ms, Integer.MAX_VALUE));
    }

    static double msSince(long startNanos) {
        return Math.round((System.nanoTime() - startNanos) / 10_000.0) / 100.0;
    }
}
