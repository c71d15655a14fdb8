"""One connection of the stack under test: the socket, Python's TLS object
and the IO-mode loop around single library calls (docs/shim-protocol.md §4).

Needs: a connected TCP socket (ours: this module closes it), the shim's
SSLContext, the IO mode.
Gives: `Conn.call(fn, kind, deadline, nowait, rep)` makes one library call
at a time and does what an application in the mode does next; the bare
socket operations (close_transport, plaintext) and the end-of-run close.
Never: loops without waiting, waits past the deadline it is given.

How each mode maps onto Python's ssl:
  blocking     an ssl.SSLSocket in timeout mode: before each call
               settimeout(time left). A socket without a timeout cannot be
               bounded: _ssl.c repeats SSL_read/SSL_do_handshake on a
               WANT_READ from SO_RCVTIMEO instead of returning. Python's own
               wait inside the call is the blocking call; its TimeoutError is
               the step deadline.
  nonblocking  SSLSocket.setblocking(False): SSLWantReadError /
               SSLWantWriteError are the wants; we poll the socket and
               repeat the same call.
  memory       ssl.SSLObject over two ssl.MemoryBIOs (memio.MemoryPump).

The SSLSocket works on a duplicate of our descriptor, so that the bare
socket stays ours: closing the transport closes both, and the TLS object
(which SSL_free would end) lives on until the end of the run.
"""
from __future__ import annotations

import gc
import os
import select
import socket
import ssl

from pyshim import outcome as O
from pyshim.memio import MemoryPump
from pyshim.protocol import Report, StepDeadline, check_deadline, left
from pyshim.rawsock import Reset, close_graceful, queued_in, queued_out, read_some, \
    wait_fd, write_all, writable_now

MIN_TIMEOUT_S = 0.001   # settimeout(0) would mean nonblocking


class Conn:
    def __init__(self, sock: socket.socket, io: str):
        self.raw = sock                 # None once the transport is closed
        self.io = io
        self.tls = None                 # SSLSocket / SSLObject; None once freed
        self.pump: MemoryPump | None = None
        self.session = None             # the newest session seen (client)
        self.shut_down = False
        self.peer_closed = False        # a read reported the peer's close
        self.session_offered = None     # client: the session wrap() offered

    # ---- setup -----------------------------------------------------------

    def wrap(self, ctx: ssl.SSLContext, server: bool, session, suppress_ragged: bool) -> None:
        kwargs = {} if server else {"session": session}
        if self.io == "memory":
            self.raw.setblocking(False)
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = ctx.wrap_bio(incoming, outgoing, server_side=server, **kwargs)
            self.pump = MemoryPump(self.raw, incoming, outgoing)
            return
        dup = socket.socket(fileno=os.dup(self.raw.fileno()))
        self.tls = ctx.wrap_socket(dup, server_side=server, do_handshake_on_connect=False,
                                   suppress_ragged_eofs=suppress_ragged, **kwargs)
        if self.io == "nonblocking":
            self.tls.setblocking(False)

    def rewrap(self, ctx: ssl.SSLContext, server: bool, session, suppress_ragged: bool) -> None:
        """A new TLS object from the context for this connection, before the
        old one made any call (its duplicate descriptor is closed first)."""
        self._release_dup()
        self.tls = None
        self.wrap(ctx, server, session, suppress_ragged)

    # ---- one library call and the mode's loop ------------------------------

    def _one(self, fn, kind: str, rep: Report) -> O.Call:
        try:
            value, exc = fn(), None
        except Exception as caught:     # every library failure is data here
            value, exc = None, caught
        call = O.classify(kind, value, exc)
        del exc
        rep.calls += 1
        rep.native = call.native
        if call.want:
            rep.add_want(call.want)
        self._remember_session()
        if call.outcome == "closed":
            self.peer_closed = True
        if call.timed_out:
            raise StepDeadline("the library call met the deadline")
        return call

    def _remember_session(self) -> None:
        """SSLSocket.session is None once unwrap() has finished, so the
        newest session is kept as an application that wants to resume
        would keep it."""
        try:
            session = self.tls.session if self.tls is not None else None
        except (ValueError, AttributeError):
            session = None
        if session is not None:
            self.session = session

    def call(self, fn, kind: str, deadline: float, nowait: bool, rep: Report) -> O.Call:
        if self.io == "memory":
            return self._memory_loop(fn, kind, deadline, nowait, rep)
        return self._socket_loop(fn, kind, deadline, nowait, rep)

    def _stale(self, want: str, inq: int, outq: int) -> bool:
        """A want the socket cannot satisfy (the library asks to read while
        bytes it never touched wait, or to write while the socket takes data
        and it wrote nothing): after a fatal error OpenSSL's answer is stale
        and polling again would spin."""
        fd = self.raw.fileno()
        if want == "want_read":
            now_in = queued_in(fd)
            return now_in > 0 and now_in == inq
        return queued_out(fd) == outq and writable_now(fd)

    def _socket_loop(self, fn, kind, deadline, nowait, rep) -> O.Call:
        stale_before = False
        while True:
            if self.io == "blocking" and self._tls_socket_open():
                self.tls.settimeout(max(left(deadline), MIN_TIMEOUT_S))
            fd = self.raw.fileno() if self.raw is not None else -1
            inq, outq = (queued_in(fd), queued_out(fd)) if fd >= 0 else (-1, -1)
            call = self._one(fn, kind, rep)
            if call.want is None or nowait or fd < 0:
                return call
            check_deadline(deadline, "while the library wanted to " + call.want[5:])
            # A want is stale only when two calls in a row left the socket as
            # they found it: the first may just have raced the socket (space
            # freed, bytes arrived between the call and the look), the second
            # met a socket that was ready when it began.
            stale = self._stale(call.want, inq, outq)
            if stale and stale_before:
                return call
            stale_before = stale
            wait_fd(fd, select.POLLOUT if call.want == "want_write" else select.POLLIN,
                    deadline)

    def _memory_loop(self, fn, kind, deadline, nowait, rep) -> O.Call:
        while True:
            call = self._one(fn, kind, rep)
            self.pump.pump_out()
            if call.want is None:
                return call
            if nowait:
                # What already arrived is given now, so the next call sees
                # it as a readable socket would show it.
                if call.want == "want_read":
                    self.pump.read_now()
                    self.pump.give_piece()
                return call
            if call.want == "want_write" or not self.pump.feed(deadline):
                return call

    def flush(self, deadline: float) -> None:
        """Memory mode: a completed step is over once its bytes are out."""
        if self.pump is not None:
            self.pump.flush(deadline)

    # ---- the TLS object ---------------------------------------------------------

    def _tls_socket_open(self) -> bool:
        return isinstance(self.tls, ssl.SSLSocket) and self.tls.fileno() >= 0

    def _release_dup(self) -> None:
        """Closes the SSLSocket's descriptor without touching its TLS
        object: library calls afterwards meet a closed descriptor."""
        if self._tls_socket_open():
            os.close(self.tls.detach())

    def free_tls(self) -> None:
        """Drops the TLS object without any shutdown; CPython frees the SSL
        object (SSL_free) when the last reference goes."""
        self._release_dup()
        self.tls = None
        gc.collect()

    # ---- the bare socket -----------------------------------------------------

    def close_transport(self, deadline: float) -> tuple[int, bool]:
        if self.raw is None:
            return 0, False
        sock, self.raw = self.raw, None
        if self.pump is not None:
            self.pump.detach_socket()
        try:
            return close_graceful(sock, deadline)
        finally:
            self._release_dup()

    def plain_write(self, data: bytes, deadline: float) -> None:
        self.flush(deadline)
        write_all(self.raw, data, deadline)

    def plain_read(self, n: int, deadline: float) -> tuple[bytes, bool]:
        """Exactly n bytes, fewer only at EOF (then the flag is True). Bytes
        the memory pump holds come first."""
        got = self.pump.take_input(n) if self.pump is not None else b""
        while len(got) < n:
            data = read_some(self.raw, n - len(got), deadline)
            if not data:
                return got, True
            got += data
        return got, False

    def close_at_end(self, deadline: float) -> None:
        try:
            self.close_transport(deadline)
        except (StepDeadline, Reset, OSError):
            pass
        self.tls = None
