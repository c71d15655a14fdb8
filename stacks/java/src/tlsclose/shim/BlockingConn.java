package tlsclose.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * The blocking IO mode: an SSLSocket layered over the shim's own connected
 * java.net.Socket with autoClose false, as an application that owns its
 * transport creates it (SSLSocketFactory.createSocket(socket, host, port,
 * false)). JSSE then never shuts down or closes the TCP connection itself
 * (SSLSocketImpl: every super.shutdownOutput / shutdownInput / close is
 * guarded by "autoClose || !isLayered()"), so the TCP close stays the
 * script's (close_transport) and the end of the run's.
 *
 * <p>Calls: handshake -> startHandshake(); read -> getInputStream().read;
 * write -> getOutputStream().write; shutdown -> shutdownOutput() the first
 * time on a connection (close_notify, reads go on), close() afterwards;
 * shutdown_full -> close(); keyupdate -> startHandshake() on a TLS 1.3
 * connection. Reads are bounded by SO_TIMEOUT set to the time left; Java
 * has no send timeout, so a watchdog closes the socket if a call is still
 * blocked shortly after the deadline (the run then ends with exit 3).
 */
final class BlockingConn extends Conn {
    private static final ScheduledThreadPoolExecutor WATCHDOG = new ScheduledThreadPoolExecutor(1,
            r -> {
                Thread t = new Thread(r, "watchdog");
                t.setDaemon(true);
                return t;
            });

    static {
        // A cancelled watch leaves the queue at once, not at its time: a
        // serve-mode process makes many.
        WATCHDOG.setRemoveOnCancelPolicy(true);
    }
    /** How long after a deadline the watchdog lets SO_TIMEOUT end a call first. */
    private static final long WATCHDOG_GRACE_MS = 200;
    private static final int CHUNK = 16384;

    private final Socket tcp;
    private final InputStream rawIn;
    private final OutputStream rawOut;
    private SSLSocket ssl;
    private InputStream in;
    private OutputStream out;
    /** A freed SSLSocket stays referenced: BaseSSLSocketImpl.finalize() calls close(). */
    private SSLSocket retained;
    /** A call that runs the handshake returned: getSession() no longer starts one. */
    private boolean negotiated;

    private BlockingConn(Socket tcp, SSLSocket ssl) throws IOException {
        this.tcp = tcp;
        this.rawIn = tcp.getInputStream();
        this.rawOut = tcp.getOutputStream();
        this.ssl = ssl;
        this.in = ssl.getInputStream();
        this.out = ssl.getOutputStream();
    }

    static BlockingConn open(SSLContext ctx, Args a, Deadline dl) throws IOException {
        Socket tcp = new Socket();
        try {
            tcp.setTcpNoDelay(true);
            tcp.connect(new InetSocketAddress(a.connectHost, a.connectPort), dl.timeoutMillis());
            SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(tcp, a.connectHost,
                    a.connectPort, false);
            ssl.setUseClientMode(!a.server());
            ssl.setSSLParameters(Tls.parameters(a, ssl.getSSLParameters()));
            return new BlockingConn(tcp, ssl);
        } catch (IOException | RuntimeException e) {
            tcp.close();
            throw e;
        }
    }

    // ---- one library call ---------------------------------------------------

    private interface IoCall {
        long run() throws IOException;
    }

    /** The count a call returned, or null when it threw (then rep holds why). */
    private Long call(String name, Deadline dl, Output.Report rep, boolean reading, boolean hasRet,
                      IoCall fn) throws StepTimeout {
        AtomicBoolean fired = new AtomicBoolean();
        ScheduledFuture<?> dog = WATCHDOG.schedule(() -> {
            fired.set(true);
            closeQuietly();
        }, dl.millisLeft() + WATCHDOG_GRACE_MS, TimeUnit.MILLISECONDS);
        rep.calls++;
        try {
            tcp.setSoTimeout(dl.timeoutMillis());
            long v = fn.run();
            negotiated |= !name.equals("shutdownOutput") && !name.equals("close");
            rep.nativeResult = Outcomes.returned(name, hasRet ? v : null);
            if (dl.passed()) {
                // close() swallows its own SocketTimeoutException.
                throw timeout(rep, name + "() returned after the deadline");
            }
            return v;
        } catch (IOException | RuntimeException e) {
            rep.nativeResult = Outcomes.threw(name, e);
            if (fired.get() || e instanceof SocketTimeoutException) {
                throw timeout(rep, "the library call (" + name + ") met the deadline");
            }
            rep.outcome = Outcomes.of(e, reading);
            return null;
        } finally {
            dog.cancel(false);
        }
    }

    private void closeQuietly() {
        try {
            tcp.close();
        } catch (IOException e) {
            Output.note("closing the socket: " + e.getMessage());
        }
    }

    // ---- TLS ops ----------------------------------------------------------------

    @Override
    void handshake(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        if (call("startHandshake", dl, rep, false, false, () -> {
            ssl.startHandshake();
            return 0;
        }) != null) {
            rep.outcome = "ok";
        }
    }

    @Override
    void keyUpdate(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        // SSLSocketImpl.startHandshake -> TransportContext.kickstart: on a
        // negotiated TLS 1.3 connection a PostHandshakeContext, whose
        // kickstart sends KeyUpdate(update_requested) (KeyUpdate
        // KeyUpdateKickstartProducer).
        handshake(st, dl, rep);
    }

    @Override
    void read(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        byte[] buf = new byte[CHUNK];
        long total = 0;
        while (true) {
            int want = st.bytes < 0 ? CHUNK : (int) Math.min(CHUNK, st.bytes - total);
            Long n = call("read", dl, rep, true, true, () -> in.read(buf, 0, want));
            if (n == null) {
                break;
            }
            if (n < 0) {
                // InputStream end of stream: JSSE's answer for the peer's
                // close_notify, and also for a bare EOF (README.md).
                rep.outcome = "closed";
                peerClosed = true;
                break;
            }
            total += n;
            rep.bytes = total;
            boolean more = st.untilClose || (st.bytes >= 0 && total < st.bytes);
            if (!more || st.nowait) {
                rep.outcome = "data:" + total;
                break;
            }
        }
        rep.bytes = total;
    }

    @Override
    void write(Script.Step st, byte[] data, Deadline dl, Output.Report rep) throws StepTimeout {
        if (call("write", dl, rep, false, false, () -> {
            out.write(data, 0, data.length);
            return data.length;
        }) != null) {
            rep.bytes = data.length;
            rep.outcome = "ok:" + data.length;
        }
    }

    @Override
    void shutdown(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        shutdowns++;
        if (shutdowns == 1) {
            closeCall("shutdownOutput", dl, rep);
        } else {
            closeCall("close", dl, rep);
        }
    }

    @Override
    void shutdownFull(Script.Step st, Deadline dl, Output.Report rep) throws StepTimeout {
        shutdowns++;
        closeCall("close", dl, rep);
    }

    /** shutdownOutput() or close(): both return nothing, so only a read
     * that already returned the peer's close can make the outcome complete. */
    private void closeCall(String name, Deadline dl, Output.Report rep) throws StepTimeout {
        if (call(name, dl, rep, false, false, () -> {
            if (name.equals("close")) {
                ssl.close();
            } else {
                ssl.shutdownOutput();
            }
            return 0;
        }) != null) {
            rep.outcome = closedOutcome();
        }
    }

    // ---- the TLS object ------------------------------------------------------------

    /** SSLSocket.getSession() starts the handshake when none was made
     * (SSLSocketImpl.getSession -> ensureNegotiated): before one, there is
     * no session to report. */
    @Override
    SSLSession session() {
        return ssl == null || !negotiated ? null : ssl.getSession();
    }

    @Override
    void free() {
        retained = ssl;
        ssl = null;
        in = null;
        out = null;
    }

    @Override
    boolean tlsAlive() {
        return ssl != null;
    }

    @Override
    Map<String, Object> stream() {
        if (ssl == null) {
            return null;
        }
        Map<String, Object> s = Json.object();
        s.put("input_shutdown", ssl.isInputShutdown());
        s.put("output_shutdown", ssl.isOutputShutdown());
        s.put("closed", ssl.isClosed());
        return s;
    }

    // ---- the bare socket -------------------------------------------------------------

    @Override
    TransportClose closeTransport(Deadline dl) throws StepTimeout {
        if (transportClosed) {
            return new TransportClose(0, false);
        }
        transportClosed = true;
        long drained = 0;
        try {
            tcp.shutdownOutput();
            tcp.setSoTimeout(dl.timeoutMillis());
            byte[] buf = new byte[CHUNK];
            while (true) {
                int n = rawIn.read(buf);
                if (n < 0) {
                    return new TransportClose(drained, false);
                }
                drained += n;
            }
        } catch (SocketTimeoutException e) {
            throw new StepTimeout("deadline passed while draining");
        } catch (IOException e) {
            return new TransportClose(drained, Outcomes.isReset(e)
                    || String.valueOf(e.getMessage()).contains("not connected"));
        } finally {
            closeQuietly();
        }
    }

    @Override
    void plainWrite(byte[] data, Deadline dl) throws IOException, StepTimeout {
        AtomicBoolean fired = new AtomicBoolean();
        ScheduledFuture<?> dog = WATCHDOG.schedule(() -> {
            fired.set(true);
            closeQuietly();
        }, dl.millisLeft(), TimeUnit.MILLISECONDS);
        try {
            rawOut.write(data);
            rawOut.flush();
        } catch (IOException e) {
            if (fired.get()) {
                throw new StepTimeout("deadline passed writing to the socket");
            }
            throw e;
        } finally {
            dog.cancel(false);
        }
    }

    @Override
    PlainRead plainRead(int n, Deadline dl) throws IOException, StepTimeout {
        byte[] got = new byte[n];
        int have = 0;
        try {
            while (have < n) {
                tcp.setSoTimeout(dl.timeoutMillis());
                int r = rawIn.read(got, have, n - have);
                if (r < 0) {
                    return new PlainRead(java.util.Arrays.copyOf(got, have), true);
                }
                have += r;
            }
        } catch (SocketTimeoutException e) {
            throw new StepTimeout("deadline passed reading from the socket");
        }
        return new PlainRead(got, false);
    }
}
