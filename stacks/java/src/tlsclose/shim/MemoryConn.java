package tlsclose.shim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import javax.net.ssl.SSLContext;

/**
 * The memory IO mode: the shim is the engine's only source of input and
 * gives it what arrived one TLS record at a time (at most 16 KiB per piece,
 * the record length from its 5-byte header), as docs/shim-protocol.md §4
 * describes for memory BIOs. Bytes after the last record the engine asked
 * for stay here, so plaintext_read gets them. At socket EOF, once
 * everything before it was given, the engine is told (closeInbound).
 * Output: the engine writes into one TLS packet's worth of buffer, which
 * the shim moves to the socket after every call; while the socket does not
 * take it, wrap reports BUFFER_OVERFLOW, i.e. want_write.
 */
final class MemoryConn extends EngineConn {
    private static final int HEADER = 5;
    private static final int PIECE = 16384;
    private static final int IN_CAP = 64 * 1024;

    /** Arrived from the socket, not yet given to the engine (read mode). */
    private final ByteBuffer inbuf = ByteBuffer.allocate(IN_CAP);
    /** Bytes of the current record still to give. */
    private int recLeft;

    private MemoryConn(EngineSocket sock, SSLContext ctx, Args a) {
        super(sock, newEngine(ctx, a));
        inbuf.flip();
    }

    static MemoryConn open(SSLContext ctx, Args a, Deadline dl, boolean fixedSendBuffer)
            throws IOException, StepTimeout {
        return new MemoryConn(EngineSocket.connect(a, dl, fixedSendBuffer), ctx, a);
    }

    /** What the socket has now, into inbuf. */
    private void readNow() throws IOException {
        if (sockEof || transportClosed || inbuf.remaining() == inbuf.capacity()) {
            return;
        }
        inbuf.compact();
        int n;
        try {
            n = sock.read(inbuf);
        } finally {
            inbuf.flip();
        }
        if (n < 0) {
            sockEof = true;
        }
    }

    /** The rest of the current record (at most PIECE bytes), or EOF once all was given. */
    private Fill givePiece() {
        if (transportClosed) {
            sockEof = true;
        }
        if (recLeft == 0 && inbuf.remaining() >= HEADER) {
            int p = inbuf.position();
            recLeft = HEADER + (((inbuf.get(p + 3) & 0xff) << 8) | (inbuf.get(p + 4) & 0xff));
        } else if (recLeft == 0 && sockEof) {
            recLeft = inbuf.remaining();        // a piece of a header before EOF
        }
        if (recLeft > 0 && inbuf.hasRemaining()) {
            int n = Math.min(Math.min(recLeft, inbuf.remaining()), PIECE);
            netInRoom(n);
            netIn.compact();
            ByteBuffer piece = inbuf.slice(inbuf.position(), n);
            netIn.put(piece);
            netIn.flip();
            inbuf.position(inbuf.position() + n);
            recLeft -= n;
            return Fill.GOT;
        }
        return !inbuf.hasRemaining() && sockEof ? Fill.EOF : Fill.NONE;
    }

    @Override
    Fill fillInput() throws IOException {
        readNow();
        return givePiece();
    }

    @Override
    void waitInput(Deadline dl) throws IOException, StepTimeout {
        if (transportClosed) {
            return;
        }
        waitFor(SelectionKey.OP_READ, dl);
        readNow();
    }

    @Override
    void giveArrived() throws IOException {
        readNow();
        givePiece();
    }

    @Override
    byte[] takeHeld(int max) {
        byte[] a = takeNetIn(max);
        int n = Math.min(max - a.length, inbuf.remaining());
        byte[] out = new byte[a.length + n];
        System.arraycopy(a, 0, out, 0, a.length);
        inbuf.get(out, a.length, n);
        return out;
    }
}
