package tlsclose.shim;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import javax.net.ssl.SSLContext;

/**
 * The nonblocking IO mode: an SSLEngine whose input is whatever the
 * nonblocking SocketChannel has when the engine runs short
 * (BUFFER_UNDERFLOW), as an event loop reads it, and whose output goes to
 * the channel at once. A want_read waits in the Selector for the socket.
 */
final class NonblockingConn extends EngineConn {
    private NonblockingConn(EngineSocket sock, SSLContext ctx, Args a) {
        super(sock, newEngine(ctx, a));
    }

    static NonblockingConn open(SSLContext ctx, Args a, Deadline dl, boolean fixedSendBuffer)
            throws IOException, StepTimeout {
        return new NonblockingConn(EngineSocket.connect(a, dl, fixedSendBuffer), ctx, a);
    }

    @Override
    Fill fillInput() throws IOException {
        if (sockEof) {
            return Fill.EOF;
        }
        netIn.compact();
        int n;
        try {
            n = sock.read(netIn);
        } finally {
            netIn.flip();
        }
        if (n < 0) {
            sockEof = true;
            return Fill.EOF;
        }
        return n > 0 ? Fill.GOT : Fill.NONE;
    }

    @Override
    void waitInput(Deadline dl) throws IOException, StepTimeout {
        waitFor(SelectionKey.OP_READ, dl);
    }

    @Override
    byte[] takeHeld(int max) {
        return takeNetIn(max);
    }
}
