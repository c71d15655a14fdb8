package tlsclose.shim;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * The TCP side of the SSLEngine modes: a nonblocking SocketChannel whose
 * every wait goes through a Selector bounded by a deadline, the count of
 * bytes the kernel took, and the graceful close (FIN, read and discard
 * until the peer's EOF, close).
 *
 * <p>Never blocks past a deadline; a wait that meets it throws StepTimeout.
 */
final class EngineSocket {
    /** The send buffer of a connection whose script uses until_blocked (SendStall). */
    static final int FIXED_SNDBUF = 64 * 1024;
    /** The tick of SendStall's waits, cut short by the socket's writability. */
    private static final int TICK_MS = 2;

    private final SocketChannel ch;
    private final Selector sel;
    private final SelectionKey key;
    /** Every byte the kernel took from us. */
    private long accepted;
    private boolean closed;

    private EngineSocket(SocketChannel ch, Selector sel, SelectionKey key) {
        this.ch = ch;
        this.sel = sel;
        this.key = key;
    }

    /** fixedSendBuffer: set SO_SNDBUF, which stops Linux from resizing it. */
    static EngineSocket connect(Args a, Deadline dl, boolean fixedSendBuffer)
            throws IOException, StepTimeout {
        SocketChannel ch = SocketChannel.open();
        Selector sel = null;
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (fixedSendBuffer) {
                ch.setOption(StandardSocketOptions.SO_SNDBUF, FIXED_SNDBUF);
            }
            sel = Selector.open();
            EngineSocket s = new EngineSocket(ch, sel, ch.register(sel, 0));
            if (!ch.connect(new InetSocketAddress(a.connectHost, a.connectPort))) {
                s.waitFor(SelectionKey.OP_CONNECT, dl);
                ch.finishConnect();
            }
            return s;
        } catch (IOException | StepTimeout | RuntimeException e) {
            ch.close();
            if (sel != null) {
                sel.close();
            }
            throw e;
        }
    }

    boolean closed() {
        return closed;
    }

    long accepted() {
        return accepted;
    }

    /** Waits until the socket is ready for ops (SelectionKey.OP_*). */
    void waitFor(int ops, Deadline dl) throws IOException, StepTimeout {
        key.interestOps(ops);
        try {
            while (true) {
                if (dl.passed()) {
                    throw new StepTimeout("deadline passed while waiting for the socket");
                }
                int n = sel.select(dl.timeoutMillis());
                sel.selectedKeys().clear();
                if (n > 0) {
                    return;
                }
            }
        } finally {
            key.interestOps(0);
        }
    }

    /** One short wait that the socket's writability ends early. */
    void tick(Deadline dl) throws IOException {
        key.interestOps(SelectionKey.OP_WRITE);
        sel.select(Math.min(TICK_MS, dl.timeoutMillis()));
        sel.selectedKeys().clear();
        key.interestOps(0);
    }

    /** What the kernel takes of b now. */
    int write(ByteBuffer b) throws IOException {
        int n = ch.write(b);
        accepted += n;
        return n;
    }

    /** What arrived now: a count, 0 when nothing, -1 at EOF. */
    int read(ByteBuffer b) throws IOException {
        return ch.read(b);
    }

    void writeAll(byte[] data, Deadline dl) throws IOException, StepTimeout {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            write(b);
            if (b.hasRemaining()) {
                waitFor(SelectionKey.OP_WRITE, dl);
            }
        }
    }

    /** Fills b, fewer bytes only at EOF (then true). */
    boolean readFully(ByteBuffer b, Deadline dl) throws IOException, StepTimeout {
        while (b.hasRemaining()) {
            int r = ch.read(b);
            if (r < 0) {
                return true;
            }
            if (r == 0) {
                waitFor(SelectionKey.OP_READ, dl);
            }
        }
        return false;
    }

    /** The kernel's view of the connection (/proc/net/tcp), or null. */
    TcpState state() throws IOException {
        return TcpState.of(((InetSocketAddress) ch.getLocalAddress()).getPort(),
                ((InetSocketAddress) ch.getRemoteAddress()).getPort());
    }

    /** FIN, read and discard until the peer's EOF, close; a deadline still closes. */
    Conn.TransportClose closeGraceful(Deadline dl) throws StepTimeout {
        closed = true;
        long drained = 0;
        ByteBuffer buf = ByteBuffer.allocate(16384);
        try {
            ch.shutdownOutput();
            while (true) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    return new Conn.TransportClose(drained, false);
                }
                if (n == 0) {
                    waitFor(SelectionKey.OP_READ, dl);
                }
                drained += n;
            }
        } catch (IOException e) {
            return new Conn.TransportClose(drained, Outcomes.isReset(e)
                    || String.valueOf(e.getMessage()).contains("not connected"));
        } finally {
            try {
                ch.close();
                sel.close();
            } catch (IOException e) {
                Output.note("closing the socket: " + e.getMessage());
            }
        }
    }
}
