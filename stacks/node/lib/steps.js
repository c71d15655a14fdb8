'use strict';
/*
 * The steps of the script, one function each (docs/shim-protocol.md §2),
 * mapped onto Node's tls as an application uses it.
 *
 * Needs: the run (cell.js) with its current connection, the step, its
 * deadline and the Report to fill.
 * Gives: STEPS[op](cell, st, deadline, rep).
 * Never: decides whether an op is supported (capabilities.js did, before
 * any IO); calls read() without a size (Readable.read() with no size emits
 * 'end' by itself when it empties an ended stream, which would let timing
 * decide in which step the peer's closure shows).
 *
 * How a step's outcome is decided: by the events Node emitted, in order,
 * never by when they came. A call whose completion needs nothing from the
 * peer (end(), write()) is waited for until its callback, or until the send
 * path is stalled for good (kernel state, tcpstate.js), which is the only
 * way it can stay pending. What the peer sends is reported only by steps
 * that read (read, the waiting shutdown, close_transport's drain). Node
 * emits the readable side's 'end' by itself when an EOF finds nothing
 * buffered; the event is recorded, but only a step that reports it
 * (read: closed, the waiting shutdown: complete) makes it count for a later
 * close call's outcome.
 */
const { native, classify } = require('./outcome');
const { STALL_TICK_MS } = require('./conn');
const { until } = require('./wait');

function stream(cell, rep) {
  const state = cell.cur ? cell.cur.streamState() : null;
  if (state) rep.extras.stream = state;
}

/* The runner saw the socket reset where Node reported a plain end of the
 * stream (tcpstate.js probeEnd: libuv's POLLHUP short-circuit). The
 * outcome stays what Node said (docs/shim-protocol.md §3); the line says
 * what the runner saw in `transport` (cell.js adds it to every later line
 * of the connection too). */
function noteReset(rep) {
  rep.extras.transport = 'reset';
}

/* ---- handshake ------------------------------------------------------------ */

function handshakeDone(conn) {
  if (conn.secure || conn.handshakeError) return true;
  if (conn.tls && conn.tls.destroyed) return true;
  // Lets Node report a transport that ended during the handshake
  // (_tls_wrap.js onConnectEnd); read(0) consumes nothing.
  if (conn.tls && conn.tls.readableLength === 0) conn.tls.read(0);
  return false;
}

function handshakeOutcome(conn, rep) {
  if (conn.secure) {
    rep.native = native(null, null, conn.secureEvent);
    return 'ok';
  }
  const err = conn.handshakeError || (conn.tls && conn.tls.errored) || null;
  if (err) {
    rep.native = native(null, err, conn.handshakeErrorEvent || 'error');
    return classify('handshake', err, conn.tls);
  }
  rep.native = native(null, null, conn.tls && conn.tls.destroyed ? 'close' : null);
  return conn.tls && conn.tls.destroyed ? 'error:other' : 'want_read';
}

async function stepHandshake(cell, st, deadline, rep) {
  const conn = cell.cur;
  if (!conn.tls && !conn.startedTls) {
    conn.startedTls = true;
    cell.startTls(conn, cell.offerSession());
    rep.calls += 1;
  }
  if (!handshakeDone(conn)) rep.addWant('want_read');
  await conn.waitFor(() => handshakeDone(conn), deadline, { feed: true, nowait: st.nowait });
  rep.outcome = handshakeOutcome(conn, rep);
}

/* ---- read ------------------------------------------------------------------ */

/* What the readable side reports when it has no data: its end, an error
 * (each error once, in order), or that the TLS object is gone. */
function nonData(conn, rep) {
  if (conn.errors.length) {
    const err = conn.errors.shift();
    rep.native = native(null, err, 'error');
    return classify('read', err, conn.tls);
  }
  if (conn.endEmitted) {
    rep.native = native(null, null, 'end');
    if (conn.resetSeen()) noteReset(rep);
    conn.closureReported = true;
    return 'closed';
  }
  if (conn.gone()) {
    const err = conn.tls ? conn.tls.errored : null;
    rep.native = native(null, err, 'close');
    return err ? classify('read', err, null) : 'error:shut_down';
  }
  return null;
}

async function stepRead(cell, st, deadline, rep) {
  const conn = cell.cur;
  const s = conn.tls;
  let total = 0;
  let outcome = null;
  let waited = false;
  while (!outcome) {
    const buffered = s.readableLength;
    if (buffered > 0) {
      const n = st.bytes > 0 ? Math.min(st.bytes - total, buffered) : buffered;
      const chunk = s.read(n);
      rep.calls += 1;
      total += chunk ? chunk.length : 0;
      rep.native = native(chunk ? chunk.length : null, null, 'readable');
      const more = st.untilClose || (st.bytes > 0 && total < st.bytes);
      if (!more || st.nowait) outcome = `data:${total}`;
      continue;
    }
    outcome = nonData(conn, rep);
    if (outcome) break;
    if (waited && st.nowait) {
      rep.native = native(null, null, null);
      outcome = 'want_read';
      break;
    }
    rep.calls += 1;               // read(0) in readReady: asks, consumes nothing
    rep.addWant('want_read');
    await conn.waitInput(deadline, st.nowait);
    waited = true;
  }
  rep.bytes = total;
  rep.outcome = outcome;
}

/* ---- write ----------------------------------------------------------------- */

/* One write() and its callback. */
function startWrite(conn, buf, rep) {
  const w = { size: buf.length, done: false, err: null, ret: null };
  w.ret = conn.tls.write(buf, (err) => {
    w.done = true;
    w.err = err || null;
    conn.signal.wake();
  });
  rep.calls += 1;
  if (w.ret === false) rep.addWant('want_write');   // Node's backpressure signal
  return w;
}

function writeResult(conn, w, rep) {
  rep.native = native(w.ret, w.err, w.done ? 'callback' : null);
  if (!w.done) return 'want_write';
  if (w.err) return classify('write', w.err, conn.tls);
  return `ok:${w.size}`;
}

async function stepWrite(cell, st, deadline, rep) {
  const conn = cell.cur;
  if (st.untilBlocked) {
    await writeUntilBlocked(cell, st, deadline, rep);
    return;
  }
  // A write an earlier nowait step left pending completes by itself; a
  // step of the same size waits for it instead of writing again.
  let w = conn.pendingWrite;
  if (!w || w.done || w.size !== st.bytes) w = startWrite(conn, cell.pattern(st.bytes), rep);
  conn.pendingWrite = null;
  const stalled = () => st.nowait && conn.sendStalled();
  await conn.waitFor(() => w.done || stalled(), deadline,
    { tickMs: st.nowait ? STALL_TICK_MS : 0 });
  rep.outcome = writeResult(conn, w, rep);
  if (!w.done) conn.pendingWrite = w;
  if (w.done && !w.err) rep.bytes = w.size;
}

/* until_blocked: write blocks while Node takes them; when write() reports
 * backpressure, wait for 'drain' (progress: recorded as a want, go on) or
 * for the send path to stall for good (the outcome). */
async function writeUntilBlocked(cell, st, deadline, rep) {
  const conn = cell.cur;
  const buf = cell.pattern(st.bytes);
  const writes = [];
  let total = 0;
  const failed = () => writes.find((w) => w.done && w.err);
  for (;;) {
    const w = startWrite(conn, buf, rep);
    writes.push(w);
    if (w.ret) continue;
    const why = await conn.waitFor(() => failed() || (!conn.tls.writableNeedDrain && 'drain')
      || (conn.sendStalled() && 'stalled'), deadline, { tickMs: STALL_TICK_MS });
    if (why !== 'drain') break;
  }
  for (const w of writes) if (w.done && !w.err) total += w.size;
  rep.bytes = total;
  const bad = failed();
  const last = writes[writes.length - 1];
  rep.native = native(last.ret, bad ? bad.err : null, bad ? 'callback' : null);
  rep.outcome = bad ? classify('write', bad.err, conn.tls) : 'want_write';
  const pending = writes.filter((w) => !w.done);
  if (pending.length) conn.pendingWrite = pending[pending.length - 1];
}

/* ---- shutdown ---------------------------------------------------------------- */

/* The close call, end(): its callback (or 'finish') is the library's
 * answer. Pending only while the writes before it (or the close_notify
 * itself) cannot leave: want_write once that stall is for good. */
async function closeCall(cell, st, deadline, rep) {
  const conn = cell.cur;
  if (!conn.endCalled) {
    conn.callEnd();
    rep.calls += 1;
  }
  const stalled = () => st.nowait && conn.sendStalled();
  await conn.waitFor(() => conn.endResult !== undefined || conn.finished || stalled(), deadline,
    { tickMs: st.nowait ? STALL_TICK_MS : 0 });
  if (conn.endResult === undefined && !conn.finished) {
    rep.native = native(null, null, null);
    rep.addWant('want_write');
    rep.outcome = 'want_write';
    return;
  }
  const err = conn.endResult || null;
  rep.native = native(null, err, err ? 'callback' : 'finish');
  conn.endReported = true;
  if (err) rep.outcome = classify('shutdown', err, conn.tls);
  else rep.outcome = conn.peerClosedAtEnd ? 'complete' : 'sent';
  if (!err && conn.resetAtEnd) noteReset(rep);
}

/* A shutdown after end() completed: Node has no second close call. The
 * application's way to wait for the peer's close_notify is the readable
 * side's 'end' (read(0) lets it come without consuming data). Data that
 * arrives first stays unread and ends the wait (want_read: the closure
 * cannot complete until the application reads it). */
async function waitPeerClose(cell, st, deadline, rep) {
  const conn = cell.cur;
  rep.calls += 1;
  await conn.waitInput(deadline, st.nowait);
  if (conn.errors.length) {
    const err = conn.errors.shift();
    rep.native = native(null, err, 'error');
    rep.outcome = classify('shutdown', err, conn.tls);
  } else if (conn.endEmitted) {
    rep.native = native(null, null, 'end');
    if (conn.resetSeen()) noteReset(rep);
    conn.closureReported = true;
    rep.outcome = 'complete';
  } else if (conn.gone()) {
    const err = conn.tls ? conn.tls.errored : null;
    rep.native = native(null, err, 'close');
    rep.outcome = err ? classify('shutdown', err, null) : 'error:shut_down';
  } else {
    const unread = conn.tls.readableLength;
    rep.native = native(null, null, unread ? 'readable' : null);
    if (unread) rep.extras.unread = unread;
    rep.addWant('want_read');
    rep.outcome = 'want_read';
  }
}

async function stepShutdown(cell, st, deadline, rep) {
  const conn = cell.cur;
  if (conn.gone() && !conn.endCalled) {
    // end() on a destroyed stream: Node answers ERR_STREAM_DESTROYED.
    await closeCall(cell, st, deadline, rep);
  } else if (!conn.endCalled || !conn.endReported) {
    // The close call, or the rest of one a nowait step left pending.
    await closeCall(cell, st, deadline, rep);
  } else {
    await waitPeerClose(cell, st, deadline, rep);
  }
  stream(cell, rep);
}

function stepGetShutdown(cell, st, deadline, rep) {
  // Node has no shutdown flags; the stream state is not one (README).
  rep.outcome = 'unknown';
  stream(cell, rep);
}

/* ---- sessions -------------------------------------------------------------------- */

/* TLS 1.3 in nonblocking mode: the library takes tickets whenever they
 * arrive, without the application; the answer waits (within the step's
 * deadline) until the library delivered a session or reported the end of
 * its input (after which no ticket can come), so that it does not depend
 * on when the ticket came. In memory mode the application gives no input
 * here: the answer is what the library had. */
async function settleSession(cell, deadline) {
  const conn = cell.cur;
  if (cell.args.tls !== '1.3' || conn.memory || conn.session || !conn.tls) return;
  await conn.waitFor(() => conn.session || conn.endEmitted || conn.endProbe !== null
    || conn.lastError || conn.gone(), deadline);
}

async function stepSessionResumable(cell, st, deadline, rep) {
  await settleSession(cell, deadline);
  const resumable = Boolean(cell.cur.session);
  rep.extras.resumable = resumable;
  rep.outcome = resumable ? 'resumable' : 'not_resumable';
}

async function stepResume(cell, st, deadline, rep) {
  const prev = cell.cur;
  if (!prev.freed) {
    await settleSession(cell, deadline);
    cell.saveSession(prev.session);
  }
  const closed = await prev.closeTransport(deadline);
  rep.extras.drained = closed.drained || 0;
  const conn = await cell.openConn(deadline);
  conn.startedTls = true;
  cell.startTls(conn, cell.offerSession());
  rep.calls += 1;
  await conn.waitFor(() => handshakeDone(conn), deadline, { feed: true });
  rep.outcome = handshakeOutcome(conn, rep);
  if (rep.outcome !== 'ok') return;
  const reused = conn.tls.isSessionReused();
  rep.extras.reused = reused;
  rep.outcome = reused ? 'reused' : 'not_reused';
}

/* Memory mode only: destroy() frees the TLS object (TLSWrap::Destroy) and
 * ends the wire; the socket is the runner's and stays open. */
function stepFree(cell, st, deadline, rep) {
  const conn = cell.cur;
  cell.saveSession(conn.session);
  conn.freed = true;
  if (conn.tls) conn.tls.destroy();
  rep.outcome = 'ok';
}

/* ---- the transport ---------------------------------------------------------- */

async function stepCloseTransport(cell, st, deadline, rep) {
  const res = await cell.cur.closeTransport(deadline);
  rep.extras.drained = res.drained || 0;
  rep.outcome = res.reset ? 'error:reset' : 'ok';
}

async function stepPlaintextWrite(cell, st, deadline, rep) {
  const data = Buffer.from(st.text);
  rep.outcome = await cell.cur.link.plainWrite(data, deadline);
  if (rep.outcome === 'ok') {
    rep.bytes = data.length;
    rep.outcome = `ok:${data.length}`;
  }
}

async function stepPlaintextRead(cell, st, deadline, rep) {
  const conn = cell.cur;
  const link = conn.link;
  const want = Buffer.from(st.text);
  const parts = [];
  let got = 0;
  for (;;) {
    if (link.length) {
      const part = link.take(want.length - got);
      parts.push(part);
      got += part.length;
    }
    if (got >= want.length || link.eof) break;
    await until(conn.signal, () => link.length > 0 || link.eof, deadline);
  }
  const bytes = Buffer.concat(parts);
  rep.bytes = bytes.length;
  rep.extras.got = bytes.toString('utf8');
  if (link.reset && bytes.length < want.length) rep.outcome = 'error:reset';
  else if (bytes.length < want.length) rep.outcome = 'eof';
  else rep.outcome = bytes.equals(want) ? 'match' : 'mismatch';
}

/* ---- markers ------------------------------------------------------------------ */

function stepSignal(cell, st, deadline, rep) {
  cell.markers.send(st.marker);
  rep.outcome = 'ok';
}

async function stepWait(cell, st, deadline, rep) {
  await cell.markers.wait(st.marker, deadline);
  rep.outcome = 'ok';
}

const STEPS = {
  handshake: stepHandshake,
  write: stepWrite,
  read: stepRead,
  shutdown: stepShutdown,
  get_shutdown: stepGetShutdown,
  session_resumable: stepSessionResumable,
  resume: stepResume,
  free_without_shutdown: stepFree,
  close_transport: stepCloseTransport,
  plaintext_write: stepPlaintextWrite,
  plaintext_read: stepPlaintextRead,
  signal_peer: stepSignal,
  wait_peer: stepWait,
};

/* Steps that act on the TLS object need it: created by the first of them
 * (Node starts the handshake as soon as the object exists). */
const NEEDS_TLS = new Set(['write', 'read', 'shutdown', 'session_resumable',
  'free_without_shutdown']);

module.exports = { STEPS, NEEDS_TLS };
