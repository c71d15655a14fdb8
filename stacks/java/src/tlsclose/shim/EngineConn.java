package tlsclose.shim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * An SSLEngine over a nonblocking SocketChannel: what the nonblocking and
 * memory IO modes share. The engine never touches the socket; the shim
 * moves bytes between the engine's buffers and the channel as an event
 * loop does, and a Selector bounds every wait by the step's deadline.
 *
 * <p>A "call" of the protocol is one attempt at the step's operation with
 * what is available now: it makes as many wrap, unwrap and delegated-task
 * calls as the engine asks for (the HandshakeStatus NEED_WRAP, NEED_UNWRAP
 * and NEED_TASK), and ends when the operation is done or cannot go on
 * without the socket. That is a want: want_read when unwrap reports
 * BUFFER_UNDERFLOW and nothing more has arrived, want_write when the
 * output buffer (one TLS packet, the size wrap demands) still holds bytes
 * the socket does not take (wrap's BUFFER_OVERFLOW). Without nowait the
 * shim then waits for the socket and tries again.
 *
 * <p>Transport EOF is told to the engine with closeInbound(), which throws
 * "closing inbound before receiving peer's close_notify" when the peer's
 * close_notify never came (SSLEngineImpl.closeInbound): that is truncation.
 * The subclasses decide how arriving bytes reach the engine:
 * {@link NonblockingConn} gives whatever the socket has, {@link MemoryConn}
 * one TLS record at a time.
 */
abstract class EngineConn extends Conn {
    enum Want {
        NONE(""), READ("want_read"), WRITE("want_write");

        final String label;

        Want(String label) {
            this.label = label;
        }
    }

    /** What giving input to the engine found. */
    enum Fill { GOT, NONE, EOF }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** The output buffer holds this many TLS packets: wrap needs room for one
     * (SSLEngineImpl.writeRecord: BUFFER_OVERFLOW below getPacketBufferSize). */
    private static final int OUT_PACKETS = 4;

    protected final EngineSocket sock;
    private SSLEngine engine;
    private SSLEngine retained;
    /** Bytes for unwrap, read mode (position..limit unread). */
    protected ByteBuffer netIn;
    /** wrap's output not yet on the socket, write mode; OUT_PACKETS packets. */
    private ByteBuffer netOut;
    /** unwrap's application output not yet taken by a read step, write mode. */
    private ByteBuffer appIn;
    /** The channel reported the peer's EOF. */
    protected boolean sockEof;
    private boolean eofTold;
    private boolean handshakeBegun;

    EngineConn(EngineSocket sock, SSLEngine engine) {
        this.sock = sock;
        this.engine = engine;
        SSLSession s = engine.getSession();
        netIn = ByteBuffer.allocate(s.getPacketBufferSize());
        netIn.flip();
        netOut = ByteBuffer.allocate(OUT_PACKETS * s.getPacketBufferSize());
        appIn = ByteBuffer.allocate(s.getApplicationBufferSize());
    }

    static SSLEngine newEngine(SSLContext ctx, Args a) {
        return Tls.engine(ctx, a);
    }

    // ---- the socket ------------------------------------------------------------

    protected void waitFor(int ops, Deadline dl) throws IOException, StepTimeout {
        sock.waitFor(ops, dl);
    }

    /** Sends what the engine wrote, as far as the socket takes it now; true once all is out. */
    private boolean flush() throws IOException {
        if (netOut.position() == 0) {
            return true;
        }
        if (transportClosed) {
            netOut.clear();         // the kernel would refuse it
            return true;
        }
        netOut.flip();
        try {
            sock.write(netOut);
        } finally {
            netOut.compact();
        }
        return netOut.position() == 0;
    }

    private void flushWait(Deadline dl) throws IOException, StepTimeout {
        while (!flush()) {
            waitFor(SelectionKey.OP_WRITE, dl);
        }
    }

    /** Gives the engine more input without waiting (netIn grows as needed). */
    abstract Fill fillInput() throws IOException;

    /** Waits until the socket has something (bytes or EOF) for fillInput. */
    abstract void waitInput(Deadline dl) throws IOException, StepTimeout;

    /** Memory mode, nowait: what already arrived is given at once. */
    void giveArrived() throws IOException {
    }

    /** Bytes the application holds that the engine never took (for plaintext_read). */
    abstract byte[] takeHeld(int max);

    /** Room for n more bytes in netIn (read mode). */
    protected void netInRoom(int n) {
        if (netIn.capacity() - netIn.remaining() >= n) {
            return;
        }
        ByteBuffer bigger = ByteBuffer.allocate(netIn.remaining() + n);
        bigger.put(netIn);
        bigger.flip();
        netIn = bigger;
    }

    // ---- engine calls -------------------------------------------------------------

    private SSLEngineResult wrap(ByteBuffer src, Output.Report rep) throws SSLException {
        rep.calls++;
        try {
            SSLEngineResult r = engine.wrap(src, netOut);
            rep.nativeResult = Outcomes.engine("wrap", r);
            return r;
        } catch (SSLException | RuntimeException e) {
            rep.nativeResult = Outcomes.threw("wrap", e);
            throw e;
        }
    }

    private SSLEngineResult unwrap(Output.Report rep) throws SSLException {
        rep.calls++;
        try {
            SSLEngineResult r = engine.unwrap(netIn, appIn);
            rep.nativeResult = Outcomes.engine("unwrap", r);
            return r;
        } catch (SSLException | RuntimeException e) {
            rep.nativeResult = Outcomes.threw("unwrap", e);
            throw e;
        }
    }

    private void runTasks() {
        Runnable t;
        while ((t = engine.getDelegatedTask()) != null) {
            t.run();
        }
    }

    /** Transport EOF, told to the engine once: closeInbound(). */
    private void tellEof(Output.Report rep) throws SSLException {
        if (eofTold) {
            return;
        }
        eofTold = true;
        rep.calls++;
        try {
            engine.closeInbound();
            rep.nativeResult = Outcomes.returned("closeInbound", null);
        } catch (SSLException | RuntimeException e) {
            rep.nativeResult = Outcomes.threw("closeInbound", e);
            throw e;
        }
    }

    /** Wraps what the engine wants to send (handshake messages, tickets,
     * KeyUpdates, alerts) until it wants nothing more; WRITE when the
     * output buffer cannot be emptied now. */
    private Want serviceWrap(Output.Report rep) throws SSLException, IOException {
        while (true) {
            HandshakeStatus hs = engine.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_TASK) {
                runTasks();
                continue;
            }
            if (hs != HandshakeStatus.NEED_WRAP) {
                return Want.NONE;
            }
            if (!room()) {
                return Want.WRITE;
            }
            SSLEngineResult r = wrap(EMPTY, rep);
            flush();
            if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                growNetOut();
                continue;
            }
            if (r.bytesProduced() == 0 && r.getStatus() != Status.OK) {
                return Want.NONE;       // CLOSED: nothing more will come out
            }
        }
    }

    /** Room in the output buffer for one more packet, after sending what the socket takes. */
    private boolean room() throws IOException {
        flush();
        return netOut.remaining() >= engine.getSession().getPacketBufferSize();
    }

    /** The engine's packets grew (SSLSessionImpl.expandBufferSizes): a bigger buffer. */
    private void growNetOut() {
        int need = OUT_PACKETS * engine.getSession().getPacketBufferSize();
        if (netOut.capacity() < need) {
            ByteBuffer bigger = ByteBuffer.allocate(need);
            netOut.flip();
            bigger.put(netOut);
            netOut = bigger;
        }
    }

    // ---- the loop of one step ---------------------------------------------------------

    private interface Attempt {
        Want run() throws SSLException, IOException;
    }

    /** Attempts until the op is done, waiting on wants unless nowait. */
    private void drive(Script.Step st, Deadline dl, Output.Report rep, boolean reading,
                       Attempt attempt) throws StepTimeout {
        try {
            while (true) {
                Want w = attempt.run();
                if (w == Want.NONE) {
                    if (!st.nowait) {
                        flushWait(dl);
                    }
                    return;
                }
                rep.want(w.label);
                if (st.nowait) {
                    rep.outcome = w.label;
                    if (w == Want.READ) {
                        giveArrived();
                    }
                    return;
                }
                if (w == Want.READ) {
                    waitInput(dl);
                } else {
                    waitFor(SelectionKey.OP_WRITE, dl);
                }
            }
        } catch (StepTimeout e) {
            throw timeout(rep, e.getMessage());
        } catch (SSLException e) {
            rep.outcome = Outcomes.of(e, reading);
            sendAlert(dl, rep);
        } catch (IOException e) {
            rep.outcome = Outcomes.isReset(e) ? "error:reset" : Outcomes.of(e, reading);
        }
    }

    /** After the engine failed: it may hold a fatal alert to send (the
     * SSLEngine class description: wrap until isOutboundDone). */
    private void sendAlert(Deadline dl, Output.Report rep) {
        Map<String, Object> failure = rep.nativeResult;
        int calls = rep.calls;
        try {
            if (serviceWrap(rep) == Want.NONE) {
                flushWait(dl);
            }
        } catch (IOException | StepTimeout | RuntimeException e) {
            Output.note("sending the alert after a failure: " + e.getMessage());
        }
        // The step's native answer stays the call that failed.
        rep.extras.put("alert_calls", rep.calls - calls);
        rep.nativeResult = failure;
        rep.calls = calls;
    }

    // ---- TLS ops ---------------------------------------------------------------------

    @Override
    void handshake(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        drive(st, dl, rep, false, () -> {
            if (!handshakeBegun) {
                handshakeBegun = true;
                engine.beginHandshake();
            }
            while (true) {
                switch (engine.getHandshakeStatus()) {
                    case NEED_TASK -> runTasks();
                    case NEED_WRAP -> {
                        Want w = serviceWrap(rep);
                        if (w != Want.NONE) {
                            return w;
                        }
                    }
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                        Want w = unwrapForHandshake(rep);
                        if (w != Want.NONE) {
                            return w;
                        }
                    }
                    default -> {
                        if (rep.outcome.isEmpty()) {
                            rep.outcome = "ok";
                        }
                        return Want.NONE;
                    }
                }
            }
        });
    }

    private Want unwrapForHandshake(Output.Report rep) throws SSLException, IOException {
        SSLEngineResult r = unwrap(rep);
        switch (r.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                return needInput(rep);
            }
            case BUFFER_OVERFLOW -> growAppIn();
            case CLOSED -> {
                // The engine closed during the handshake without an exception.
                rep.outcome = "error:other";
                return Want.NONE;
            }
            default -> {
            }
        }
        return Want.NONE;
    }

    /** After BUFFER_UNDERFLOW: more input, a want, or EOF told to the engine. */
    private Want needInput(Output.Report rep) throws SSLException, IOException {
        netInRoom(engine.getSession().getPacketBufferSize());
        Fill f = fillInput();
        if (f == Fill.GOT) {
            return Want.NONE;
        }
        if (f == Fill.NONE) {
            return Want.READ;
        }
        tellEof(rep);
        return Want.NONE;
    }

    private void growAppIn() {
        int need = engine.getSession().getApplicationBufferSize();
        if (appIn.capacity() - appIn.position() < need) {
            ByteBuffer bigger = ByteBuffer.allocate(appIn.position() + need);
            appIn.flip();
            bigger.put(appIn);
            appIn = bigger;
        }
    }

    private long takeApp(long max) {
        appIn.flip();
        int n = (int) Math.min(max, appIn.remaining());
        appIn.position(appIn.position() + n);
        appIn.compact();
        return n;
    }

    /** One read call: data (n > 0), the peer's close (-1), or a want. */
    private record ReadResult(Want want, long n) {
    }

    private ReadResult readOnce(long max, Output.Report rep) throws SSLException, IOException {
        while (true) {
            if (appIn.position() > 0) {
                return new ReadResult(Want.NONE, takeApp(max));
            }
            SSLEngineResult r = unwrap(rep);
            Want w = serviceWrap(rep);
            if (appIn.position() > 0) {
                return new ReadResult(Want.NONE, takeApp(max));
            }
            if (w != Want.NONE) {
                return new ReadResult(w, 0);
            }
            switch (r.getStatus()) {
                case CLOSED -> {
                    return new ReadResult(Want.NONE, -1);
                }
                case BUFFER_OVERFLOW -> growAppIn();
                case BUFFER_UNDERFLOW -> {
                    Want need = needInput(rep);
                    if (need != Want.NONE) {
                        return new ReadResult(need, 0);
                    }
                    if (eofTold && engine.isInboundDone()) {
                        return new ReadResult(Want.NONE, -1);
                    }
                }
                default -> {
                    if (r.bytesConsumed() == 0) {
                        Want need = needInput(rep);
                        if (need != Want.NONE) {
                            return new ReadResult(need, 0);
                        }
                    }
                }
            }
        }
    }

    @Override
    void read(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        long[] total = {0};
        drive(st, dl, rep, true, () -> {
            while (true) {
                long max = st.bytes < 0 ? Long.MAX_VALUE : st.bytes - total[0];
                ReadResult r = readOnce(max, rep);
                if (r.want() != Want.NONE) {
                    return r.want();
                }
                if (r.n() < 0) {
                    // Status.CLOSED: the engine's inbound is done (the peer's
                    // close_notify, or an EOF already reported).
                    rep.outcome = "closed";
                    peerClosed = true;
                    return Want.NONE;
                }
                total[0] += r.n();
                rep.bytes = total[0];
                boolean more = st.untilClose || (st.bytes >= 0 && total[0] < st.bytes);
                if (!more || st.nowait) {
                    rep.outcome = "data:" + total[0];
                    return Want.NONE;
                }
            }
        });
        rep.bytes = total[0];
    }

    /** Writes src through wrap until it is all taken; a want or the engine's refusal ends it. */
    private Want writeAttempt(ByteBuffer src, long[] written, Output.Report rep)
            throws SSLException, IOException {
        boolean first = true;
        while (src.hasRemaining() || first) {
            first = false;
            if (!room()) {
                return Want.WRITE;
            }
            int before = src.remaining();
            SSLEngineResult r = wrap(src, rep);
            written[0] += before - src.remaining();
            flush();
            switch (r.getStatus()) {
                case CLOSED -> {
                    rep.outcome = "error:shut_down";
                    return Want.NONE;
                }
                case BUFFER_OVERFLOW -> growNetOut();
                default -> {
                }
            }
            Want w = serviceWrap(rep);
            if (w != Want.NONE) {
                return w;
            }
        }
        rep.outcome = "ok:" + written[0];
        return Want.NONE;
    }

    @Override
    void write(Script.Step st, byte[] data, Deadline dl, Output.Report rep) throws StepTimeout {
        long[] written = {0};
        if (!st.untilBlocked) {
            ByteBuffer src = ByteBuffer.wrap(data);
            drive(st, dl, rep, false, () -> writeAttempt(src, written, rep));
            rep.bytes = written[0];
            return;
        }
        untilBlocked(data, dl, rep);
    }

    /** Blocks of data until a want_write that lasts (docs/shim-protocol.md §2,
     * {@link SendStall}). */
    private void untilBlocked(byte[] data, Deadline dl, Output.Report rep) throws StepTimeout {
        long[] written = {0};
        SendStall stall = new SendStall(sock, this::flush);
        ByteBuffer src = ByteBuffer.wrap(data);
        try {
            while (true) {
                if (!src.hasRemaining()) {
                    src = ByteBuffer.wrap(data);
                }
                rep.outcome = "";
                Want w = writeAttempt(src, written, rep);
                rep.bytes = written[0];
                if (w == Want.WRITE) {
                    rep.want(w.label);
                    if (stall.lasts(dl)) {
                        rep.outcome = w.label;
                        return;
                    }
                    continue;
                }
                if (!rep.outcome.startsWith("ok:")) {
                    return;
                }
                if (dl.passed()) {
                    throw new StepTimeout("the write never blocked");
                }
            }
        } catch (StepTimeout e) {
            throw timeout(rep, e.getMessage());
        } catch (SSLException e) {
            rep.outcome = Outcomes.of(e, false);
            sendAlert(dl, rep);
        } catch (IOException e) {
            rep.outcome = Outcomes.isReset(e) ? "error:reset" : Outcomes.of(e, false);
        }
    }

    @Override
    void shutdown(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        shutdowns++;
        boolean[] closed = {false};
        drive(st, dl, rep, false, () -> {
            if (!closed[0]) {
                // closeOutbound() queues close_notify (TransportContext
                // .closeOutbound -> closeNotify); wrap() produces it.
                closed[0] = true;
                rep.calls++;
                engine.closeOutbound();
                rep.nativeResult = Outcomes.returned("closeOutbound", null);
            }
            while (true) {
                if (!room()) {
                    return Want.WRITE;
                }
                if (engine.isOutboundDone()) {
                    rep.outcome = closedOutcome();
                    return Want.NONE;
                }
                SSLEngineResult r = wrap(EMPTY, rep);
                flush();
                if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                    growNetOut();
                } else if (r.bytesProduced() == 0 && !engine.isOutboundDone()) {
                    rep.outcome = "error:other";
                    return Want.NONE;
                }
            }
        });
    }

    @Override
    void shutdownFull(Script.Step st, Deadline dl, Output.Report rep) {
        throw new IllegalStateException("shutdown_full is a skip in this mode");
    }

    @Override
    void keyUpdate(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        boolean[] begun = {false};
        drive(st, dl, rep, false, () -> {
            if (!begun[0]) {
                // SSLEngineImpl.beginHandshake on a negotiated TLS 1.3
                // connection: TransportContext.kickstart sends
                // KeyUpdate(update_requested).
                begun[0] = true;
                rep.calls++;
                engine.beginHandshake();
                rep.nativeResult = Outcomes.returned("beginHandshake", null);
            }
            Want w = serviceWrap(rep);
            if (w == Want.NONE) {
                rep.outcome = "ok";
            }
            return w;
        });
    }

    // ---- the TLS object ---------------------------------------------------------------

    @Override
    SSLSession session() {
        return engine == null ? null : engine.getSession();
    }

    @Override
    void free() {
        retained = engine;
        engine = null;
    }

    @Override
    boolean tlsAlive() {
        return engine != null;
    }

    @Override
    Map<String, Object> stream() {
        if (engine == null) {
            return null;
        }
        Map<String, Object> s = Json.object();
        s.put("inbound_done", engine.isInboundDone());
        s.put("outbound_done", engine.isOutboundDone());
        return s;
    }

    // ---- the bare socket ----------------------------------------------------------------

    @Override
    TransportClose closeTransport(Deadline dl) throws StepTimeout {
        if (transportClosed) {
            return new TransportClose(0, false);
        }
        transportClosed = true;
        netOut.clear();
        sockEof = true;
        return sock.closeGraceful(dl);
    }

    @Override
    void plainWrite(byte[] data, Deadline dl) throws IOException, StepTimeout {
        flushWait(dl);
        sock.writeAll(data, dl);
    }

    @Override
    PlainRead plainRead(int n, Deadline dl) throws IOException, StepTimeout {
        ByteBuffer got = ByteBuffer.allocate(n);
        got.put(takeHeld(n));
        boolean eof = sock.readFully(got, dl);
        return new PlainRead(java.util.Arrays.copyOf(got.array(), got.position()), eof);
    }

    /** Takes up to max unread bytes of netIn. */
    protected byte[] takeNetIn(int max) {
        int n = Math.min(max, netIn.remaining());
        byte[] out = new byte[n];
        netIn.get(out);
        return out;
    }
}
