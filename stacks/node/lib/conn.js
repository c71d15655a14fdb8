'use strict';
/*
 * One connection of the stack under test: the socket, Node's TLSSocket and
 * what the library reported on it, in order.
 *
 * Needs: the run (cell.js: args, contexts, the tls.Server of a server run,
 * the event log, the Signal), the connection's socket.
 * Gives: Conn with start(session) (creates the TLS object: the library
 * starts its handshake at once), the library's reports as state (secure,
 * endEmitted, finished, errors, session, ...), waits that end on events
 * (waitFor, waitInput) and, in memory mode, feed the library one TLS record
 * at a time while they wait, and the transport operations of
 * close_transport in both modes.
 * Never: reads ahead for the library in memory mode (input is given only
 * inside a step that waits for it); consumes data outside a read step.
 *
 * IO modes (the shim's position, stacks/node/README.md):
 *   nonblocking  tls.connect({socket}) / tls.Server over the net.Socket of
 *                the descriptor: TLSWrap (src/crypto/crypto_tls.cc) sits on
 *                libuv's TCP handle, which reads whenever the event loop
 *                runs; the fd is O_NONBLOCK (libuv sets it).
 *   memory       the same calls over a Duplex (wire.js) that the runner
 *                feeds from the socket it owns (transport.js RawLink).
 */
const tls = require('tls');
const { now } = require('./protocol');
const { until, ticks } = require('./wait');
const { RawLink } = require('./transport');
const { makeWire } = require('./wire');
const tcp = require('./tcpstate');

const STALL_TICK_MS = 2;

class Conn {
  constructor(cell, index, sock) {
    this.cell = cell;
    this.index = index;
    this.memory = cell.args.io === 'memory';
    this.signal = cell.signal;
    this.sock = sock;
    this.ports = tcp.portsOf(sock);
    this.endProbe = null;      // what ended the transport (tcpstate.js probeEnd)
    this.link = this.memory ? new RawLink(sock, this.signal) : null;
    this.wire = null;
    this.tls = null;
    this.secure = false;
    this.handshakeError = null;
    this.endEmitted = false;
    this.finished = false;
    this.closed = false;
    this.endCalled = false;
    this.peerClosedAtEnd = false;
    this.closureReported = false; // a step reported the peer's closure (closed / complete)
    this.endResult = undefined;
    this.errors = [];          // library errors no step has reported yet
    this.lastError = null;
    this.session = null;       // client: the newest session the library delivered
    this.pendingWrite = null;  // a write a nowait step left pending
    this.transportClosed = false;
    this.freed = false;
    if (this.link) this.hookLink();
  }

  record(ev) {
    this.cell.record({ ...ev, conn: this.index + 1 });
  }

  hookLink() {
    const link = this.link;
    link.sock.once('end', () => this.record({ ev: 'tcp', what: 'eof', by: 'peer' }));
    link.sock.once('error', (err) => this.record({ ev: 'tcp', what: 'error', code: err.code }));
  }

  /* ---- creating the TLS object ------------------------------------------- */

  transport() {
    if (!this.memory) return this.sock;
    this.wire = makeWire(this.link, this.signal, (ev) => this.record(ev));
    return this.wire;
  }

  start(session) {
    const stream = this.transport();
    if (this.cell.args.role === 'client') {
      const opts = { socket: stream, secureContext: this.cell.context, rejectUnauthorized: false,
        allowHalfOpen: true };
      if (session) opts.session = session;
      this.tls = tls.connect(opts);
      this.hookTls(this.tls);
      this.tls.on('secureConnect', () => this.onSecure('secureConnect'));
      this.tls.on('session', (s) => {
        this.session = s;
        this.record({ ev: 'session' });
        this.signal.wake(true);
      });
    } else {
      // tls.Server's connection listener makes the TLSSocket and hands it
      // over at 'secureConnection' (cell.js routes the server's events here).
      this.cell.serverConn = this;
      this.cell.server.emit('connection', stream);
    }
  }

  /* Server: the TLSSocket the tls.Server made for this connection. */
  adoptServerSocket(sock) {
    this.tls = sock;
    this.hookTls(sock);
    this.onSecure('secureConnection');
  }

  onSecure(event) {
    this.secure = true;
    this.secureEvent = event;
    this.record({ ev: 'secure', event });
    this.signal.wake(true);
  }

  onHandshakeError(err, event) {
    this.handshakeError = err;
    this.handshakeErrorEvent = event;
    this.record({ ev: 'error', code: err.code || err.name, during: 'handshake' });
    this.signal.wake();
  }

  hookTls(sock) {
    const wake = () => this.signal.wake();
    sock.on('error', (err) => {
      if (!this.secure && this.cell.args.role === 'client') {
        this.onHandshakeError(err, 'error');
        return;
      }
      this.errors.push(err);
      this.lastError = err;
      this.record({ ev: 'error', code: err.code || err.name });
      wake();
    });
    sock.on('end', () => {
      this.endEmitted = true;
      const ev = { ev: 'end' };
      if (this.resetSeen()) ev.tcp = 'reset';
      this.record(ev);
      wake();
    });
    sock.on('finish', () => { this.finished = true; this.record({ ev: 'finish' }); wake(); });
    sock.on('close', () => { this.closed = true; this.record({ ev: 'close' }); wake(); });
    // A 'readable' listener keeps the stream paused (no 'data' flow): the
    // shim reads with read(n) inside steps, as a paused-mode application.
    sock.on('readable', () => {
      // A 'readable' with nothing buffered is the end of the stream: ask the
      // socket what ended it before Node may close it (tcpstate.js probeEnd).
      if (!this.memory && sock.readableLength === 0 && this.endProbe === null) {
        this.endProbe = tcp.probeEnd(this.sock);
        if (this.endProbe !== 'unknown') this.record({ ev: 'tcp', what: this.endProbe });
      }
      this.record({ ev: 'readable', buffered: sock.readableLength });
      wake();
    });
  }

  /* The TLS object can no longer do anything (destroyed, by Node or us). */
  gone() {
    return !this.tls || this.tls.destroyed;
  }

  /* ---- waiting -------------------------------------------------------------- */

  /* Memory mode: gives the library the next piece of input, EOF once
   * everything before it was given. False when there is nothing to give. */
  giveOne() {
    const wire = this.wire;
    if (!wire || wire.eofGiven || wire.destroyed) return false;
    const piece = this.link.nextPiece();
    if (piece) {
      wire.give(piece);
      return true;
    }
    if (this.link.eof && this.link.length === 0) {
      /* A reset ends the input like an EOF, as an application would take
       * it; the runner says it saw a reset in the line's `transport`. */
      wire.give(null);
      return true;
    }
    return false;
  }

  /* Can more input ever reach the library (memory mode)? */
  inputExhausted() {
    return !this.wire || this.wire.eofGiven || this.wire.destroyed;
  }

  /*
   * Waits until pred() holds, the deadline passes (StepDeadline) or, with
   * nowait, the library has had what it can get without waiting.
   * opts.feed (memory mode): give input record by record while waiting.
   * opts.tickMs: re-check on a timer (kernel state).
   * Returns pred()'s value (falsy only with nowait or when input ran out).
   */
  async waitFor(pred, deadline, opts = {}) {
    if (!this.memory || !opts.feed) {
      if (opts.nowait) {
        // One call and its answer, before the event loop turns again:
        // only what our own call scheduled (process.nextTick) runs first.
        await ticks();
        return pred();
      }
      return until(this.signal, pred, deadline, { tickMs: opts.tickMs });
    }
    for (;;) {
      const v = pred();
      if (v) return v;
      if (this.giveOne()) {
        await ticks();
        continue;
      }
      if (opts.nowait) return pred();
      if (this.inputExhausted()) return until(this.signal, pred, deadline, { tickMs: opts.tickMs });
      const seen = this.link.arrivals;
      await until(this.signal, () => pred() || this.link.arrivals !== seen, deadline,
        { tickMs: opts.tickMs });
    }
  }

  /* Memory mode: a completed step is over once its bytes are on the
   * socket (the wire's and the socket's write buffers are empty). */
  async flush(deadline) {
    if (!this.memory || this.link.closed || this.link.finSent) return;
    await until(this.signal, () => this.link.closed
      || ((!this.wire || this.wire.writableLength === 0) && this.sock.writableLength === 0),
    deadline, { tickMs: STALL_TICK_MS });
  }

  /* Something a read-like step can report: data buffered, the end of the
   * readable side, an error, or the TLS object gone. read(0) lets Node emit
   * 'end' when the stream ended with nothing buffered (it never consumes). */
  readReady() {
    const s = this.tls;
    if (this.gone() || this.errors.length || this.endEmitted) return true;
    if (s.readableLength > 0) return true;
    s.read(0);
    return false;
  }

  waitInput(deadline, nowait) {
    return this.waitFor(() => this.readReady(), deadline, { feed: true, nowait });
  }

  /* The send path cannot move without the peer (tcpstate.js). */
  sendStalled() {
    return tcp.sendStalled(this.sock, this.ports);
  }

  /* The runner saw the socket reset, whatever the library made of it. */
  resetSeen() {
    return this.memory ? this.link.reset : this.endProbe === 'reset';
  }

  /* ---- the close call ---------------------------------------------------- */

  /* end(): TLSWrap::DoShutdown sends close_notify and then shuts the
   * underlying stream down (a FIN on a socket). The peer's closure counts
   * for the outcome only if a step reported it before the call: Node emits
   * 'end' by itself when the EOF finds nothing buffered
   * (stream_base_commons.js onStreamRead: push(null), then read(0)), so the
   * event alone could come before or after the call by timing. */
  callEnd() {
    this.endCalled = true;
    this.resetAtEnd = this.resetSeen();
    this.peerClosedAtEnd = this.closureReported;
    this.tls.end((err) => {
      this.endResult = err || null;
      this.signal.wake();
    });
  }

  /* ---- the transport ------------------------------------------------------- */

  bytesFromPeer() {
    return this.sock.bytesRead || 0;
  }

  /* close_transport without TLS: FIN on the bare socket, read and discard
   * until the peer's EOF, close. Returns {drained, reset}. */
  async closeTransport(deadline) {
    if (this.transportClosed) return { drained: 0, reset: false, already: true };
    this.transportClosed = true;
    if (this.memory) {
      const res = await this.link.close(deadline);
      return res;
    }
    return this.closeSocketTransport(deadline);
  }

  /* Nonblocking mode: TLSWrap owns the descriptor's reads, so the bytes
   * "drained" pass through the TLS layer (which drops what follows a
   * close_notify, EOF included: TLSWrap::OnStreamRead returns at once once
   * eof_ is set). The FIN is the raw net.Socket's end() (its handle is the
   * TCP handle TLSWrap sits on); the peer's EOF is the readable side's end
   * while TLS still reports the transport, else the kernel's state. */
  async closeSocketTransport(deadline) {
    const sock = this.sock;
    if (sock.destroyed) return { drained: 0, reset: false, already: true };
    const before = this.bytesFromPeer();
    const tlsReported = Boolean(this.tls) && !this.tls.destroyed && !this.endEmitted;
    sock.end();
    const errorsBefore = this.errors.length;
    const eof = () => {
      if (sock.destroyed || this.closed) return true;
      if (this.errors.length > errorsBefore) return true;
      if (tlsReported) {
        const n = this.tls.readableLength;
        if (n > 0) this.tls.read(n);          // discard
        if (this.endEmitted) return true;
        this.tls.read(0);
        return false;
      }
      return tcp.peerFinSeen(this.ports);
    };
    let late = null;
    try {
      await until(this.signal, eof, deadline, { tickMs: tlsReported ? 0 : STALL_TICK_MS });
    } catch (err) {
      late = err;
    }
    const drained = Math.max(0, this.bytesFromPeer() - before);
    const reset = this.errors.slice(errorsBefore).some((e) => e.code === 'ECONNRESET')
      || this.resetSeen();
    this.destroyAll();
    if (late) throw late;
    return { drained, reset };
  }

  destroyAll() {
    if (this.tls && !this.tls.destroyed) this.tls.destroy();
    if (!this.sock.destroyed) this.sock.destroy();
  }

  /* End of run: the transport closed gracefully within the deadline,
   * without any TLS shutdown; nothing is left open. */
  async closeAtEnd(deadline) {
    try {
      await this.closeTransport(Math.max(deadline, now()));
    } catch (err) {
      // the run is over: only the descriptors matter now
    }
    this.destroyAll();
  }

  streamState() {
    const s = this.tls;
    if (!s) return null;
    return { writableEnded: s.writableEnded, writableFinished: s.writableFinished,
      readableEnded: s.readableEnded, destroyed: s.destroyed };
  }
}

module.exports = { Conn, STALL_TICK_MS };
