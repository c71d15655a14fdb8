"""The bare socket and the marker pipes, outside TLS.

Needs: connected TCP sockets and pipe descriptors from the harness.
Gives: waits bounded by an absolute deadline (time.monotonic seconds),
reads and writes that never block past it, the graceful close (FIN, drain
until the peer's EOF, close) and the markers of docs/shim-protocol.md.
Never: sleeps, spins, or closes a socket with unread bytes in it without
trying to drain them first (that would turn the FIN into an RST).

Failures: StepDeadline when a deadline passes, Reset when the peer reset the
connection (ECONNRESET, EPIPE), ShimExit(4) for a marker pipe that closed or
brought another marker, ShimExit(2) for a marker step without its pipe.
"""
from __future__ import annotations

import errno as E
import fcntl
import json
import os
import select
import socket
import struct
import termios

from pyshim.protocol import EXIT_FAILURE, EXIT_USAGE, ShimExit, StepDeadline, emit, left

CHUNK = 16384
RESET_ERRNOS = (E.ECONNRESET, E.EPIPE)


class Reset(Exception):
    """The peer reset the connection."""


def wait_fd(fd: int, events: int, deadline: float) -> int:
    """Waits until fd is ready for events; returns the revents."""
    poller = select.poll()
    poller.register(fd, events)
    while True:
        ms = int(left(deadline) * 1000 + 0.999)
        ready = poller.poll(ms)
        if ready:
            return ready[0][1]
        if left(deadline) == 0.0:
            raise StepDeadline("deadline passed while waiting for the socket")


def _ioctl_int(fd: int, request: int) -> int:
    try:
        return struct.unpack("i", fcntl.ioctl(fd, request, b"\0\0\0\0"))[0]
    except OSError:
        return -1


def queued_in(fd: int) -> int:
    """Bytes waiting in the receive queue (SIOCINQ)."""
    return _ioctl_int(fd, termios.FIONREAD)


def queued_out(fd: int) -> int:
    """Bytes not yet acknowledged in the send queue (SIOCOUTQ)."""
    return _ioctl_int(fd, termios.TIOCOUTQ)


def writable_now(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(ev & select.POLLOUT for _, ev in poller.poll(0))


def recv_now(sock: socket.socket, cap: int) -> bytes | None:
    """What the socket has now (b'' at EOF), None if nothing yet."""
    try:
        return sock.recv(cap, socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError as exc:
        if exc.errno in RESET_ERRNOS:
            raise Reset("recv: the connection was reset") from None
        raise


def send_now(sock: socket.socket, data: bytes) -> int:
    """Sends what the socket takes now; returns the count (0 if none)."""
    try:
        return sock.send(data, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
    except (BlockingIOError, InterruptedError):
        return 0
    except OSError as exc:
        if exc.errno in RESET_ERRNOS:
            raise Reset("send: the connection was reset") from None
        raise


def read_some(sock: socket.socket, cap: int, deadline: float) -> bytes:
    """At least one byte, or b'' at EOF, waiting until the deadline."""
    while True:
        data = recv_now(sock, cap)
        if data is not None:
            return data
        wait_fd(sock.fileno(), select.POLLIN, deadline)


def write_all(sock: socket.socket, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        n = send_now(sock, view)
        view = view[n:]
        if view:
            wait_fd(sock.fileno(), select.POLLOUT, deadline)


def close_graceful(sock: socket.socket, deadline: float) -> tuple[int, bool]:
    """FIN, then read and discard until the peer's EOF, then close.
    Returns (bytes drained, whether the peer reset). A deadline that passes
    while draining still closes the socket, then raises StepDeadline."""
    drained, reset = 0, False
    try:
        sock.shutdown(socket.SHUT_WR)
        while True:
            data = read_some(sock, CHUNK, deadline)
            if not data:
                break
            drained += len(data)
    except Reset:
        reset = True
    except OSError as exc:
        reset = exc.errno in RESET_ERRNOS or exc.errno == E.ENOTCONN
    finally:
        sock.close()
    return drained, reset


class Markers:
    """The two marker pipes: one line `NAME\\n` per marker. In persistent
    mode (`inband`, a pyshim.serve.Lines reader of standard input) a marker
    is a JSON line {"marker": NAME} on standard output and on standard
    input instead."""

    def __init__(self, in_fd: int, out_fd: int, inband=None):
        self.in_fd, self.out_fd = in_fd, out_fd
        self.buf = b""
        self.inband = inband

    def send(self, name: str) -> None:
        if self.inband is not None:
            emit({"marker": name})
            return
        if self.out_fd < 0:
            raise ShimExit(EXIT_USAGE, f"marker '{name}': no marker pipe to write to "
                                       "(--marker-out)")
        try:
            os.write(self.out_fd, name.encode() + b"\n")
        except OSError as exc:
            raise ShimExit(EXIT_FAILURE, f"marker write: {exc.strerror}") from None

    def _next_line(self, name: str, deadline: float) -> str:
        while b"\n" not in self.buf:
            if len(self.buf) > 256:
                raise ShimExit(EXIT_FAILURE, "marker line too long")
            wait_fd(self.in_fd, select.POLLIN, deadline)
            try:
                chunk = os.read(self.in_fd, 256)
            except InterruptedError:
                continue
            except OSError as exc:
                raise ShimExit(EXIT_FAILURE, f"marker read: {exc.strerror}") from None
            if not chunk:
                raise ShimExit(EXIT_FAILURE,
                               f"marker '{name}': the other side closed its marker pipe")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def _next_inband(self, name: str, deadline: float) -> str:
        line = self.inband.next(deadline)
        if line is None:
            raise ShimExit(EXIT_FAILURE, f"marker '{name}': the marker channel (standard "
                                         "input) closed")
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not (isinstance(obj, dict) and set(obj) == {"marker"}
                and isinstance(obj["marker"], str)):
            raise ShimExit(EXIT_FAILURE, f"expected marker '{name}', got a line that is not "
                                         f"a marker: {line[:60]!r}")
        return obj["marker"]

    def wait(self, name: str, deadline: float) -> None:
        if self.inband is not None:
            got = self._next_inband(name, deadline)
            if got != name:
                raise ShimExit(EXIT_FAILURE, f"expected marker '{name}', got '{got}'")
            return
        if self.in_fd < 0:
            raise ShimExit(EXIT_USAGE, f"marker '{name}': no marker pipe to read from "
                                       "(--marker-in)")
        got = self._next_line(name, deadline)
        if got != name:
            raise ShimExit(EXIT_FAILURE, f"expected marker '{name}', got '{got}'")
