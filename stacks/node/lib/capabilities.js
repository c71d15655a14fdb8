'use strict';
/*
 * What Node's tls cannot do (exit 77) and what a script needs from the
 * command line (exit 2), decided before any IO in the order of
 * docs/shim-protocol.md §6: every skip before every usage error.
 *
 * Needs: the parsed command line, the checked steps, whether the run is in
 * serve mode (markers in-band).
 * Gives: check(args, steps, serve) (throws ShimExit 77 or 2),
 * opensslCipher(name).
 * Never: opens anything.
 */
const { EXIT, ShimExit } = require('./protocol');
const { MAX_CONNECTIONS } = require('./args');
const { where } = require('./script');

/* The suites the mock peer knows (docs/peer.md): IANA name -> OpenSSL's. */
const TLS12_SUITES = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256'];

const BLOCKING = "Node's tls has no blocking call: every call returns at once and its result "
  + 'arrives as an event; awaiting that event is what the nonblocking mode does, so a blocking '
  + 'cell would repeat the nonblocking one under another name';
const UNSUPPORTED = {
  shutdown_quiet: "Node's tls has no quiet shutdown (SSL_set_quiet_shutdown is not exposed); "
    + 'destroy() closes the socket without any closure alert, which is not the same call',
  shutdown_full: "Node's tls has no bidirectional close in one call: end() sends close_notify "
    + "and returns; the peer's close_notify is the readable side's 'end'",
  get_error_after: "Node's tls has no error query on a return value: a failure is an 'error' "
    + 'event or a callback argument',
  keyupdate: "Node's tls cannot request a TLS 1.3 key update (SSL_key_update is not exposed; "
    + 'renegotiate() is TLS 1.2 renegotiation)',
  set_option: "Node's tls has none of these options: an EOF without close_notify is always "
    + "an 'error' (ECONNRESET), a client never offers post-handshake authentication, and there "
    + 'is no quiet shutdown',
  clear: "Node's tls cannot reset a TLSSocket for another connection (SSL_clear is not exposed)",
};
const SOCKET_MODE = {
  free_without_shutdown: "over a socket, Node cannot free the TLS object and keep the socket "
    + 'open: destroy() closes the descriptor (TLSWrap.close destroys the wrapped net.Socket)',
  plaintext_write: 'over a socket, the TLS layer owns the descriptor for the connection\'s '
    + 'lifetime, and end() already sent FIN; memory mode can do it',
  plaintext_read: 'over a socket, the TLS layer reads the descriptor and drops every byte after '
    + 'close_notify (TLSWrap::OnStreamRead); memory mode can do it',
};

function skip(message, step = 0) {
  return new ShimExit(EXIT.SKIP, message, step);
}

function opensslCipher(name) {
  return TLS12_SUITES[name] || name;
}

function checkRun(args) {
  if (args.io === 'blocking') throw skip(BLOCKING);
  if (args.cipher) {
    const known = args.tls === '1.3' ? TLS13_SUITES
      : [...Object.keys(TLS12_SUITES), ...Object.values(TLS12_SUITES)];
    if (!known.includes(args.cipher)) {
      throw skip(`--cipher ${args.cipher}: not a TLS ${args.tls} suite this shim knows`);
    }
  }
  if (args.role === 'server' && (args.sessionIn || args.sessionOut)) {
    throw skip('a Node server keeps its sessions in the process (ticket keys, the '
      + "'newSession' cache): there is no session file to read or write");
  }
}

function checkStep(args, st) {
  if (UNSUPPORTED[st.op]) throw skip(`${where(st)}: ${UNSUPPORTED[st.op]}`, st.index);
  if (args.io !== 'memory' && SOCKET_MODE[st.op]) {
    throw skip(`${where(st)}: ${SOCKET_MODE[st.op]}`, st.index);
  }
  if (st.op === 'session_resumable' && args.role === 'server') {
    throw skip(`${where(st)}: a Node server has no per-connection session to ask about `
      + '(TLS 1.3 and TLS 1.2 tickets are stateless)', st.index);
  }
}

function usage(st, message) {
  return new ShimExit(EXIT.USAGE, `${where(st)}: ${message}`, st.index);
}

function checkNeeds(args, steps, serve) {
  let conns = 1;
  for (const st of steps) {
    if (!serve && st.op === 'signal_peer' && args.markerOut < 0) {
      throw usage(st, 'needs --marker-out');
    }
    if (!serve && st.op === 'wait_peer' && args.markerIn < 0) throw usage(st, 'needs --marker-in');
    if (st.op === 'resume') {
      conns += 1;
      if (conns > MAX_CONNECTIONS) throw usage(st, `at most ${MAX_CONNECTIONS} connections`);
      if (!args.connect && conns > args.fds.length) {
        throw usage(st, 'no --fd left for this connection (give one descriptor per connection)');
      }
    }
  }
}

/* A Node server has no TLSSocket to call before its handshake: tls.Server
 * makes it and hands it over only at 'secureConnection'. So a library call
 * before the first handshake step (a shutdown before the handshake) is not
 * something a Node server application can do. */
const LIBRARY_OPS = ['write', 'read', 'shutdown', 'shutdown_quiet', 'shutdown_full', 'keyupdate'];

function checkServerBeforeHandshake(args, steps) {
  if (args.role !== 'server') return;
  for (const st of steps) {
    if (st.op === 'handshake') return;
    if (LIBRARY_OPS.includes(st.op)) {
      throw skip(`${where(st)}: a Node server has no TLSSocket before its handshake (tls.Server `
        + "hands it over at 'secureConnection'), so nothing can be called on it yet", st.index);
    }
  }
}

function check(args, steps, serve) {
  checkRun(args);
  for (const st of steps) checkStep(args, st);
  checkServerBeforeHandshake(args, steps);
  checkNeeds(args, steps, serve);
}

module.exports = { check, opensslCipher };
