"""One run of the shim: what Python's ssl can do, the context, the
connections and the loop over the steps (docs/shim-protocol.md §6).

Needs: the parsed command line and the checked step script.
Gives: `check_capabilities(args, steps)` (skips before usage errors, both
before any IO) and `Run.execute(steps)` which prints one line per step and
returns the exit code; a run that ends early raises ShimExit.
Never: leaves a socket open or a connection without its graceful close.
"""
from __future__ import annotations

import socket
import ssl

from pyshim import steps as S
from pyshim.args import MAX_CONNECTIONS, Args
from pyshim.conn import Conn
from pyshim.protocol import EXIT_FAILURE, EXIT_SKIP, EXIT_TIMEOUT, EXIT_USAGE, Report, \
    ShimExit, StepDeadline, emit, emit_end, left, now
from pyshim.rawsock import Markers, Reset
from pyshim.script import calls_library

# The suites the mock peer knows (docs/peer.md): IANA name -> OpenSSL name.
TLS12_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
}
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                "TLS_CHACHA20_POLY1305_SHA256")
UNSUPPORTED = {
    "shutdown_quiet": "Python's ssl has no quiet shutdown (SSL_set_quiet_shutdown is not "
                      "exposed)",
    "get_error_after": "Python's ssl has no error query on a return value: a failed call "
                       "raises its exception at once",
    "keyupdate": "Python's ssl cannot request a key update (SSL_key_update is not exposed)",
    "session_resumable": "Python's ssl cannot tell whether a session is resumable "
                         "(SSLSession has no SSL_SESSION_is_resumable); only a resumption "
                         "attempt tells",
    "clear": "Python's ssl cannot reset an SSL object for another connection (SSL_clear is "
             "not exposed; an SSLSocket or SSLObject serves one connection)",
}
# set_option: what Python's ssl can switch on, per scope. Options live on the
# SSLContext, which every SSL object copies when it is made: the context
# scope sets them for later connections; the connection scope is the same
# setting made before the connection's SSL object does anything (the shim
# makes a new one from the context, as an application configures its
# context before wrapping).
OPTIONS = {
    "ignore_unexpected_eof": ("context", "connection"),
    "post_handshake_auth": ("context", "connection"),
}
OPTION_UNSUPPORTED = {
    "quiet_shutdown": "Python's ssl has no quiet shutdown (SSL_set_quiet_shutdown is not "
                      "exposed)",
}


def _skip(message: str, step: int = 0) -> ShimExit:
    return ShimExit(EXIT_SKIP, message, step)


def _check_run(args: Args) -> None:
    if args.session_in or args.session_out:
        raise _skip("Python's ssl cannot save or load a session (no i2d_SSL_SESSION)")
    if args.cipher and args.cipher not in (
            TLS13_SUITES if args.tls == "1.3" else (*TLS12_SUITES, *TLS12_SUITES.values())):
        raise _skip(f"--cipher {args.cipher}: not a TLS {args.tls} suite this shim knows")


def _check_option(st, fresh: bool) -> None:
    """A connection-scope option is set before its connection's SSL object
    made any call (fresh), or it cannot be set at all."""
    if st.option in OPTION_UNSUPPORTED:
        raise _skip(f"{st.where}: {OPTION_UNSUPPORTED[st.option]}", st.index)
    if st.scope == "connection" and not fresh:
        raise _skip(f"{st.where}: Python's ssl sets {st.option} on the SSLContext, which an "
                    "SSL object copies when it is made: not on a connection that is already "
                    "in use", st.index)


def _check_options(steps) -> None:
    fresh = True
    for st in steps:
        if st.op == "set_option":
            _check_option(st, fresh)
        elif st.op == "resume":
            fresh = True
        elif calls_library(st.op):
            fresh = False


def _check_step(args: Args, st) -> None:
    if st.op in UNSUPPORTED:
        raise _skip(f"{st.where}: {UNSUPPORTED[st.op]}", st.index)
    if st.until_blocked and args.io == "blocking":
        raise _skip(f"{st.where}: until_blocked needs --io nonblocking or memory "
                    "(a blocking write never reports a want)", st.index)
    if st.until_blocked and args.io == "memory":
        raise _skip(f"{st.where}: a MemoryBIO has no size limit, so SSLObject.write never "
                    "reports a want", st.index)


def _check_needs(args: Args, steps) -> None:
    conns = 1
    for st in steps:
        if st.op == "signal_peer" and args.marker_out < 0 and not args.serve:
            raise ShimExit(EXIT_USAGE, f"{st.where}: needs --marker-out", st.index)
        if st.op == "wait_peer" and args.marker_in < 0 and not args.serve:
            raise ShimExit(EXIT_USAGE, f"{st.where}: needs --marker-in", st.index)
        if st.op == "resume":
            conns += 1
            if conns > MAX_CONNECTIONS:
                raise ShimExit(EXIT_USAGE, f"{st.where}: at most {MAX_CONNECTIONS} "
                                           "connections", st.index)
            if conns > len(args.fds) and not args.connect:
                raise ShimExit(EXIT_USAGE, f"{st.where}: no --fd left for this connection "
                                           "(give one descriptor per connection)", st.index)


def check_capabilities(args: Args, steps) -> None:
    """All skips before all usage errors: a script this stack cannot run
    is a skip whatever else the command line lacks."""
    _check_run(args)
    for st in steps:
        _check_step(args, st)
    _check_options(steps)
    _check_needs(args, steps)


def make_context(args: Args) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if args.server else ssl.PROTOCOL_TLS_CLIENT)
    version = ssl.TLSVersion.TLSv1_3 if args.tls == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = version
    if args.server:
        ctx.load_cert_chain(args.cert, args.key)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if not args.suppress_ragged_eofs:
        # Python sets OP_IGNORE_UNEXPECTED_EOF on every context, which makes
        # OpenSSL report an EOF without close_notify as a clean close; the
        # strict entry takes it off so that truncation is visible.
        ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    if args.cipher and args.tls == "1.2":
        ctx.set_ciphers(TLS12_SUITES.get(args.cipher, args.cipher))
    return ctx


class Run:
    def __init__(self, args: Args, run_deadline: float, markers: Markers | None = None):
        """markers: in-band markers in persistent mode; else the pipes."""
        self.args = args
        self.run_deadline = run_deadline
        self.markers = markers or Markers(args.marker_in, args.marker_out)
        self.conns: list[Conn] = []
        self.cur: Conn | None = None
        self.fds_used = 0
        self.ctx = None
        self.patterns: dict[int, bytes] = {}

    def pattern(self, n: int) -> bytes:
        """The write buffer of size n (byte i is i & 0xff), the same object
        for every step of that size."""
        if n not in self.patterns:
            self.patterns[n] = (bytes(range(256)) * (n // 256 + 1))[:n]
        return self.patterns[n]

    def _next_socket(self, deadline: float) -> socket.socket:
        try:
            if self.args.connect:
                host, _, port = self.args.connect.rpartition(":")
                sock = socket.create_connection((host.strip("[]"), int(port)),
                                                timeout=max(left(deadline), 0.001))
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            fd = self.args.fds[self.fds_used]
            self.fds_used += 1
            sock = socket.socket(fileno=fd)
            if sock.type != socket.SOCK_STREAM:
                raise OSError(f"descriptor {fd} is not a stream socket")
            return sock
        except (OSError, ValueError) as exc:
            raise ShimExit(EXIT_FAILURE, f"connection {len(self.conns) + 1}: {exc}") from None

    def open_conn(self, deadline: float, session=None) -> Conn:
        conn = Conn(self._next_socket(deadline), self.args.io)
        self.conns.append(conn)
        self.cur = conn
        conn.session_offered = None if self.args.server else session
        conn.wrap(self.ctx, self.args.server, conn.session_offered,
                  self.args.suppress_ragged_eofs)
        return conn

    def set_option(self, option: str, scope: str) -> None:
        """On the context; for the connection scope, the current connection's
        SSL object (which has made no call yet: checked before any IO) is made
        again from it, and the context gets its old value back."""
        before = (self.ctx.options, self.ctx.post_handshake_auth)
        if option == "ignore_unexpected_eof":
            self.ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
        else:
            self.ctx.post_handshake_auth = True
        if scope == "context":
            return
        self.cur.rewrap(self.ctx, self.args.server, self.cur.session_offered,
                        self.args.suppress_ragged_eofs)
        self.ctx.options, self.ctx.post_handshake_auth = before

    def _setup(self) -> None:
        try:
            self.ctx = make_context(self.args)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ShimExit(EXIT_FAILURE, f"TLS context: {exc}") from None
        self.open_conn(self.run_deadline)

    def _one_step(self, st) -> None:
        rep = Report(st.index, st.op)
        deadline = min(now() + st.timeout_ms / 1000.0, self.run_deadline)
        start = now()
        try:
            S.STEPS[st.op](self, st, deadline, rep)
        except StepDeadline:
            rep.outcome, rep.ms = "error:timeout", (now() - start) * 1000.0
            emit(rep.line())
            which = "run" if deadline == self.run_deadline else "step"
            raise ShimExit(EXIT_TIMEOUT, f"{st.where}: {which} deadline passed",
                           st.index) from None
        except Reset:
            rep.outcome = "error:reset"
        except ShimExit as exc:
            raise ShimExit(exc.code, f"{st.where}: {exc.message}", st.index) from None
        pump = self.cur.pump if self.cur is not None else None
        if pump is not None and pump.sock_reset:
            rep.extras["transport"] = "reset"
        rep.ms = (now() - start) * 1000.0
        emit(rep.line())

    def _cleanup(self, deadline: float) -> None:
        for conn in self.conns:
            conn.close_at_end(deadline)
        self.conns.clear()

    def execute(self, steps) -> int:
        try:
            self._setup()
            for st in steps:
                self._one_step(st)
        except ShimExit:
            self._cleanup(now())
            raise
        self._cleanup(self.run_deadline)
        emit_end({"end": "ok"}, 0)
        return 0
