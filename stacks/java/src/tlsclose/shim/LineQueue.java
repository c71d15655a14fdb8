package tlsclose.shim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The lines of a stream read by a daemon thread, so that a wait for the
 * next line can be bounded by a deadline (a FileInputStream read cannot).
 *
 * <p>Gives {@link #next}: the next line without its newline, {@link #EOF}
 * once the stream ended (then always), or null when the deadline passed
 * first. A line longer than the limit is cut there and marked by
 * {@link #TOO_LONG}. Never loses a line: what arrived early waits here.
 */
final class LineQueue {
    static final String EOF = new String("<eof>");
    static final String TOO_LONG = new String("<line too long>");

    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private volatile boolean ended;

    LineQueue(InputStream in, String name, int maxLine) {
        Thread t = new Thread(() -> pump(in, maxLine), "lines-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void pump(InputStream in, int maxLine) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        lines.add(line.size() > maxLine ? TOO_LONG
                                : line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else if (line.size() <= maxLine) {
                        line.write(buf[i]);
                    }
                }
            }
        } catch (IOException e) {
            Output.note("reading " + Thread.currentThread().getName() + ": " + e.getMessage());
        }
        lines.add(EOF);
    }

    /** The next line, EOF, or null if the deadline passed (null deadline: wait for ever). */
    String next(Deadline dl) {
        if (ended) {
            return EOF;
        }
        String line;
        try {
            line = dl == null ? lines.take()
                    : lines.poll(Math.max(dl.millisLeft(), 0), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        if (line == EOF) {
            ended = true;
        }
        return line;
    }
}
