"""Memory mode: the application moves the bytes between Python's
ssl.MemoryBIO pair and the socket (docs/shim-protocol.md §4, `memory`).

Needs: the connection's socket (O_NONBLOCK, ours) and the two MemoryBIOs
the SSLObject reads from (`incoming`) and writes to (`outgoing`).
Gives: after a call, `pump_out` sends what the library wrote as far as the
socket takes it now; on want_read, `feed` gives the library the next piece
of input, one TLS record (at most 16 KiB) at a time, waiting for the socket
when nothing is there, and EOF once everything before it was given;
`flush` waits until all output is on the socket. Bytes after the last
record the library asked for stay here for plaintext_read (`take_input`).
Never: gives the library more than it asked for, waits past a deadline.

A MemoryBIO has no size limit, so the library never reports want_write in
this mode; the pump's own buffer is the only thing that waits for the
socket. A reset is what an application makes of it, not a failure: input
ends (EOF after what arrived before), output is dropped, `sock_reset` says
so (the step line's "transport": "reset"). Failures: StepDeadline.
"""
from __future__ import annotations

import select
import ssl

from pyshim.rawsock import Reset, recv_now, send_now, wait_fd

HEADER = 5
CHUNK = 16384
IN_CAP = 64 * 1024
SEND_CHUNK = 64 * 1024   # a bounded copy per send, however much is pending


class MemoryPump:
    def __init__(self, sock, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO):
        self.sock = sock               # None once the transport is closed
        self.incoming, self.outgoing = incoming, outgoing
        self.inbuf = bytearray()       # arrived, not yet given
        self.rec_left = 0              # bytes of the current record still to give
        self.sock_eof = self.eof_given = self.sock_reset = False
        self.outbuf = bytearray()      # written by the library, not yet sent
        self.taken = 0

    def detach_socket(self) -> None:
        """The transport was closed: no more input than what arrived,
        output for it is dropped as the kernel would refuse it."""
        self.sock = None
        self.sock_eof = True
        self.outbuf.clear()

    def pending_input(self) -> int:
        return self.incoming.pending

    def _reset(self) -> None:
        self.sock_reset = self.sock_eof = True
        self.outbuf.clear()

    def pump_out(self) -> None:
        self.outbuf += self.outgoing.read()
        if self.sock is None or self.sock_reset:
            self.outbuf.clear()
        while self.outbuf:
            try:
                n = send_now(self.sock, bytes(self.outbuf[:SEND_CHUNK]))
            except Reset:
                self._reset()
                return
            if n == 0:
                return
            del self.outbuf[:n]

    def read_now(self) -> None:
        if self.sock is None or self.sock_eof or len(self.inbuf) >= IN_CAP:
            return
        try:
            data = recv_now(self.sock, IN_CAP - len(self.inbuf))
        except Reset:
            self._reset()
            return
        if data == b"":
            self.sock_eof = True
        elif data:
            self.inbuf += data

    def give_piece(self) -> bool:
        """Gives the rest of the current record (at most CHUNK bytes), or
        EOF once everything before it was given. Record by record, because
        whatever follows the TLS stream must stay here."""
        if self.sock is None:
            self.sock_eof = True
        if self.rec_left == 0 and len(self.inbuf) >= HEADER:
            self.rec_left = HEADER + int.from_bytes(self.inbuf[3:5], "big")
        elif self.rec_left == 0 and self.sock_eof:
            self.rec_left = len(self.inbuf)   # a piece of a header before EOF
        if self.rec_left and self.inbuf:
            n = min(self.rec_left, len(self.inbuf), CHUNK)
            self.incoming.write(bytes(self.inbuf[:n]))
            del self.inbuf[:n]
            self.rec_left -= n
            return True
        if not self.inbuf and self.sock_eof and not self.eof_given:
            self.incoming.write_eof()
            self.eof_given = True
            return True
        return False

    def _wait_socket(self, deadline: float) -> None:
        events = select.POLLIN | (select.POLLOUT if self.outbuf else 0)
        revents = wait_fd(self.sock.fileno(), events, deadline)
        if revents & select.POLLOUT:
            self.pump_out()
        if revents & (select.POLLIN | select.POLLHUP | select.POLLERR):
            self.read_now()

    def feed(self, deadline: float) -> bool:
        """After want_read: True once the library got something new; False
        when nothing can ever come (EOF given) or it is not reading what it
        has (a stale want after a fatal error)."""
        if self.pending_input() > 0:
            return False
        while True:
            if self.give_piece():
                return True
            if self.eof_given:
                return False
            self._wait_socket(deadline)

    def flush(self, deadline: float) -> None:
        while True:
            self.pump_out()
            if not self.outbuf:
                return
            wait_fd(self.sock.fileno(), select.POLLOUT, deadline)

    def take_input(self, n: int) -> bytes:
        data = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        return data
