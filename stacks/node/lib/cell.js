'use strict';
/*
 * One run of a step script (one cell): the TLS configuration, the
 * connections, the loop over the steps with their deadlines, the end line
 * and the cleanup (docs/shim-protocol.md §3, §6).
 *
 * Needs: the parsed command line, the checked steps, the marker channel
 * and a way to print lines (per-process: stdout; serve mode: the same).
 * Gives: new Cell(args, steps, markers).run() -> the exit code, after the
 * step lines and the end line were printed.
 * Never: shares anything with another cell: every run makes its own
 * SecureContext (client) or tls.Server (server: its own ticket keys and
 * session cache), its own sockets and sessions; leaves a socket open or a
 * timer running once run() returned.
 */
const fs = require('fs');
const tls = require('tls');
const { EXIT, ShimExit, StepDeadline, Reset, Report, now, writeLine, diag } =
  require('./protocol');
const { Signal } = require('./wait');
const { openSocket } = require('./transport');
const { Conn } = require('./conn');
const { STEPS, NEEDS_TLS } = require('./steps');
const { where } = require('./script');
const { opensslCipher } = require('./capabilities');

const PEM_LABEL = 'SSL SESSION PARAMETERS';
const MAX_EVENTS = 64;

function versionName(v) {
  return v === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
}

function pem(der) {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${PEM_LABEL}-----\n${b64}\n-----END ${PEM_LABEL}-----\n`;
}

/* A session file: PEM as OpenSSL's PEM_write_SSL_SESSION writes it (the
 * OpenSSL shim's files load here), or DER as Node's 'session' event gives it. */
function loadSession(path) {
  let data;
  try {
    data = fs.readFileSync(path);
  } catch (err) {
    throw new ShimExit(EXIT.FAILURE, `--session-in ${path}: ${err.message}`);
  }
  const text = data.toString('latin1');
  const m = new RegExp(`-----BEGIN ${PEM_LABEL}-----([^-]*)-----END ${PEM_LABEL}-----`)
    .exec(text);
  const der = m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : data;
  if (!der.length || der[0] !== 0x30) {
    throw new ShimExit(EXIT.FAILURE, `--session-in ${path}: not a TLS session (PEM or DER)`);
  }
  return der;
}

class Cell {
  constructor(args, steps, markers) {
    this.args = args;
    this.steps = steps;
    this.markers = markers;
    this.signal = markers.signal || new Signal();
    this.runDeadline = now() + args.deadlineMs;
    this.conns = [];
    this.cur = null;
    this.context = null;
    this.server = null;
    this.serverConn = null;
    this.saved = null;
    this.sessionIn = null;
    this.patterns = new Map();
    this.events = [];
    this.eventsDropped = 0;
    this.stepMark = 0;
  }

  /* ---- the library's configuration, fresh for this run ------------------- */

  credentials() {
    try {
      return { key: fs.readFileSync(this.args.key), cert: fs.readFileSync(this.args.cert) };
    } catch (err) {
      throw new ShimExit(EXIT.FAILURE, `credentials: ${err.message}`);
    }
  }

  tlsOptions() {
    const v = versionName(this.args.tls);
    const opts = { minVersion: v, maxVersion: v };
    if (this.args.cipher) opts.ciphers = opensslCipher(this.args.cipher);
    return opts;
  }

  configure() {
    try {
      if (this.args.role === 'client') {
        this.context = tls.createSecureContext(this.tlsOptions());
        if (this.args.sessionIn) this.sessionIn = loadSession(this.args.sessionIn);
        return;
      }
      this.server = tls.createServer({ ...this.tlsOptions(), ...this.credentials(),
        allowHalfOpen: true });
    } catch (err) {
      if (err instanceof ShimExit) throw err;
      throw new ShimExit(EXIT.FAILURE, `TLS configuration: ${err.message}`);
    }
    this.hookServer(this.server);
  }

  /* The server's events for the connection handshaking now (connections
   * of a run handshake one after the other). TLS 1.2 session IDs need an
   * application cache in Node (its SSL_CTX has no internal one): the
   * documented 'newSession'/'resumeSession' pair, a Map per run. */
  hookServer(server) {
    const cache = new Map();
    server.on('secureConnection', (sock) => {
      if (this.serverConn) this.serverConn.adoptServerSocket(sock);
    });
    server.on('tlsClientError', (err) => {
      if (this.serverConn && !this.serverConn.secure) {
        this.serverConn.onHandshakeError(err, 'tlsClientError');
      }
    });
    server.on('newSession', (id, data, done) => {
      cache.set(id.toString('hex'), data);
      done();
    });
    server.on('resumeSession', (id, done) => done(null, cache.get(id.toString('hex')) || null));
  }

  /* ---- sessions --------------------------------------------------------------- */

  offerSession() {
    if (this.args.role !== 'client') return null;
    return this.conns.length <= 1 ? this.sessionIn : this.saved;
  }

  saveSession(session) {
    if (this.args.role !== 'client' || !session) return;
    this.saved = session;
    this.writeSessionOut(session);
  }

  writeSessionOut(session) {
    if (!this.args.sessionOut || !session) return;
    try {
      fs.writeFileSync(this.args.sessionOut, pem(session), { mode: 0o600 });
    } catch (err) {
      diag(`--session-out ${this.args.sessionOut}: ${err.message}`);
    }
  }

  /* ---- connections -------------------------------------------------------------- */

  async openConn(deadline) {
    const sock = await openSocket(this.args, this.conns.length, deadline, this.signal);
    const conn = new Conn(this, this.conns.length, sock);
    this.conns.push(conn);
    this.cur = conn;
    return conn;
  }

  startTls(conn, session) {
    try {
      conn.start(session);
    } catch (err) {
      throw new ShimExit(EXIT.FAILURE, `TLS object: ${err.message}`);
    }
  }

  pattern(n) {
    if (!this.patterns.has(n)) {
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i += 1) buf[i] = i & 0xff;
      this.patterns.set(n, buf);
    }
    return this.patterns.get(n);
  }

  /* ---- the event log (library events between and during steps) ----------- */

  record(ev) {
    const last = this.events[this.events.length - 1];
    if (ev.ev === 'readable' && last && last.ev === 'readable' && last.conn === ev.conn
        && last.seq >= this.stepMark) {
      last.buffered = ev.buffered;
      return;
    }
    if (this.events.length >= MAX_EVENTS) {
      this.eventsDropped += 1;
      return;
    }
    this.events.push({ ...ev, seq: this.seq = (this.seq || 0) + 1 });
  }

  /* The events since the previous line: `when` says whether they happened
   * before this step began (between steps) or during it. */
  takeEvents(rep) {
    if (!this.events.length && !this.eventsDropped) return;
    rep.extras.events = this.events.map(({ seq, ...e }) =>
      ({ ...e, when: seq > this.stepMark ? 'during' : 'before' }));
    if (this.eventsDropped) rep.extras.events_dropped = this.eventsDropped;
    this.events = [];
    this.eventsDropped = 0;
  }

  /* ---- the steps ---------------------------------------------------------------- */

  async oneStep(st) {
    const rep = new Report(st.index, st.op);
    const deadline = Math.min(now() + st.timeoutMs, this.runDeadline);
    // Steps run from promise continuations, never inside a library event
    // listener: Node's TLS layer is not re-entrant (a TLS 1.3 client's
    // end() called inside the 'secureConnect' listener loses its Finished).
    // And no extra pass of the event loop between steps: the loop takes in
    // input only while a step waits, so quick steps see the same input
    // whatever the timing.
    this.stepMark = this.seq || 0;
    const start = now();
    try {
      if (NEEDS_TLS.has(st.op) && this.cur && !this.cur.tls && !this.cur.startedTls) {
        this.cur.startedTls = true;
        this.startTls(this.cur, this.offerSession());
      }
      await STEPS[st.op](this, st, deadline, rep);
      if (this.cur && !rep.outcome.startsWith('want_')) await this.cur.flush(deadline);
      if (this.cur && this.cur.resetSeen()) {
        rep.extras.transport = 'reset';
      }
    } catch (err) {
      if (err instanceof StepDeadline) {
        rep.outcome = 'error:timeout';
        rep.ms = now() - start;
        this.takeEvents(rep);
        writeLine(rep.line());
        const which = deadline === this.runDeadline ? 'run' : 'step';
        throw new ShimExit(EXIT.TIMEOUT, `${where(st)}: ${which} deadline passed`, st.index);
      }
      if (err instanceof Reset) rep.outcome = 'error:reset';
      else if (err instanceof ShimExit) {
        throw new ShimExit(err.code, `${where(st)}: ${err.message}`, st.index);
      } else throw err;
    }
    rep.ms = now() - start;
    this.takeEvents(rep);
    writeLine(rep.line());
  }

  async cleanup(deadline) {
    for (const conn of this.conns) await conn.closeAtEnd(deadline);
    this.conns = [];
    this.markers.close();
    this.server = null;
  }

  /* Prints the step lines and the end line; returns the exit code. */
  async run() {
    let code = EXIT.OK;
    let end = { end: 'ok' };
    try {
      this.configure();
      this.markers.start();
      await this.openConn(this.runDeadline);
      for (const st of this.steps) await this.oneStep(st);
      if (this.cur) this.writeSessionOut(this.cur.session);
    } catch (err) {
      if (!(err instanceof ShimExit)) {
        diag(err && err.stack ? err.stack : String(err));
        code = EXIT.FAILURE;
        end = { end: 'error', message: `shim failure: ${err && err.message}` };
      } else {
        diag(err.message);
        code = err.code;
        end = err.endLine();
      }
      await this.cleanup(now());
      return { code, end };
    }
    await this.cleanup(this.runDeadline);
    return { code, end };
  }
}

module.exports = { Cell };
