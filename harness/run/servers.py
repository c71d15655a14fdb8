"""Persistent mode: cells run through long-lived shim and peer servers
(docs/shim-protocol.md §8, docs/peer.md "Persistent mode").

Contract:
- `Server(argv, env)` starts `argv + ["--serve"]` in a process group of its
  own; `alive` tells whether it still runs; `kill()` kills its group and
  reaps it; `close()` ends it with EOF on its standard input (bounded) and
  kills it if it lingers. Every server a `Pool` started is reaped by
  `Pool.close()`, whatever happened.
- `run_served(peer, shim, request...)` runs one cell through a peer server
  and a shim server and returns a `CellRun` shaped like a per-process run:
  the peer's transcript without its `listen` event, the shim's lines
  without the in-band `{"marker": ...}` lines, each process's exit code
  from its end line, what each printed on standard error meanwhile. The
  harness forwards markers both ways. A server that dies during the cell
  is a crash (its signal) or an exit without an end line; a cell whose end
  lines do not arrive by its deadline plus GRACE_S gets its servers killed
  (`killed`), and the pool starts new ones for the next cell.
- `Pool` keeps sets of servers, one peer server and one shim server per
  stack in each; a cell leases a set (`lease`/`give_back`) and
  `Pool.servers(slot, ...)` returns live ones (restarting what died).
- A peer server gets a stall pipe (`Server(..., stall_pipe=True)`): the server
  inherits its read end, every cell's request names it with --stall-fd, and
  while the cell runs a stall watch (harness/run/stall.py) samples both
  servers with their forked cells and writes the notices (docs/peer.md
  "Stalls"). A notice left over from an earlier cell is dropped by the peer.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import random
import selectors
import signal
import socket
import subprocess
import threading
import time

from harness.run import stall
from harness.run.processes import GRACE_S, CellRun, ProcessResult, signal_name

CLOSE_WAIT_S = 2.0


class Server:
    def __init__(self, argv: list[str], env: dict | None, stall_pipe: bool = False):
        self.argv = argv + ["--serve"]
        # stall_fd: the descriptor number the server (and every cell) reads
        # notices from; stall_w: the harness's end, kept while the server runs.
        self.stall_fd: int | None = None
        self.stall_w: int | None = None
        keep = ()
        if stall_pipe:
            self.stall_fd, self.stall_w = os.pipe()
            os.set_blocking(self.stall_w, False)
            keep = (self.stall_fd,)
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=env, process_group=0, pass_fds=keep)
        except BaseException:
            self._close_stall()
            raise
        finally:
            if stall_pipe:
                os.close(self.stall_fd)     # the server's copy is the one that counts
        for stream in (self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
        self.pending = {"out": bytearray(), "err": bytearray()}

    def _close_stall(self) -> None:
        if self.stall_w is not None:
            os.close(self.stall_w)
            self.stall_w = None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, obj: dict) -> None:
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._close_pipes()
        self._close_stall()

    def close(self) -> None:
        if self.alive:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=CLOSE_WAIT_S)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def signal_name(self) -> str | None:
        return signal_name(self.proc.poll())


@dataclasses.dataclass
class _Side:
    """What one server said during the cell."""
    server: Server
    lines: list = dataclasses.field(default_factory=list)
    bad: list = dataclasses.field(default_factory=list)
    err: bytearray = dataclasses.field(default_factory=bytearray)
    end: dict | None = None
    gone: bool = False

    def result(self, argv: list[str], killed: bool) -> ProcessResult:
        if self.end is not None and self.end.get("exit") is not None:
            rc, sig = self.end["exit"], None
        elif self.end is not None and self.end.get("signal"):
            rc, sig = None, self.end["signal"]      # a cell's process crashed
        else:
            rc, sig = self.server.proc.poll(), self.server.signal_name()
        return ProcessResult(argv, rc, sig, self.lines, self.bad,
                             self.err.decode("utf-8", "replace"), killed)


def _lines(buf: bytearray, chunk: bytes) -> list[bytes]:
    buf.extend(chunk)
    *whole, rest = buf.split(b"\n")
    buf[:] = rest
    return whole


def _parse(raw: bytes) -> tuple[dict | None, str | None]:
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return None, None
    try:
        obj = json.loads(text)
    except ValueError:
        return None, text
    return (obj, None) if isinstance(obj, dict) else (None, text)


class _Cell:
    """The selector loop of one served cell."""

    def __init__(self, peer: Server, shim: Server, cell_id: str, cancel_fd: int | None):
        self.peer, self.shim = _Side(peer), _Side(shim)
        self.cell_id = cell_id
        self.port: int | None = None
        self.watch: stall.Watch | None = None
        self.sel = selectors.DefaultSelector()
        for side in (self.peer, self.shim):
            self.sel.register(side.server.proc.stdout, selectors.EVENT_READ, (side, "out"))
            self.sel.register(side.server.proc.stderr, selectors.EVENT_READ, (side, "err"))
        if cancel_fd is not None:
            self.sel.register(cancel_fd, selectors.EVENT_READ, (None, "cancel"))
        self.cancelled = False

    def close(self) -> None:
        self.sel.close()

    def _forward(self, to: _Side, name: str) -> None:
        if to.end is None and to.server.alive:
            try:
                to.server.send({"marker": name})
            except OSError:
                pass

    def _line(self, side: _Side, obj: dict) -> None:
        if self.watch is not None:
            (self.watch.peer_line if side is self.peer else self.watch.sut_line)(
                obj, time.monotonic())
        if side is self.peer:
            if obj.get("ev") == "listen" and self.port is None:
                self.port = obj.get("port")
                return
            if obj.get("ev") == "marker" and obj.get("dir") == "sent":
                self._forward(self.shim, str(obj.get("name")))
            if obj.get("ev") == "end" and obj.get("cell") == self.cell_id:
                side.end = obj
        else:
            if set(obj) == {"marker"}:
                self._forward(self.peer, str(obj["marker"]))
                return
            if "end" in obj and obj.get("cell") == self.cell_id:
                side.end = obj
        side.lines.append(obj)

    def _read(self, side: _Side, which: str) -> None:
        stream = side.server.proc.stdout if which == "out" else side.server.proc.stderr
        try:
            chunk = os.read(stream.fileno(), 65536)
        except BlockingIOError:
            return
        if not chunk:
            side.gone = True
            self.sel.unregister(stream)
            return
        if self.watch is not None:
            self.watch.output()
        if which == "err":
            side.err.extend(chunk)
            return
        for raw in _lines(side.server.pending["out"], chunk):
            obj, bad = _parse(raw)
            if obj is not None:
                self._line(side, obj)
            elif bad is not None:
                side.bad.append(bad)

    def pump(self, until, deadline: float) -> bool:
        """Reads until until() holds; False when the deadline passed first
        or a server died or the caller cancelled."""
        while not until():
            if any(s.gone and s.end is None for s in (self.peer, self.shim)) or self.cancelled:
                return False
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return False
            if self.watch is not None:
                left = min(left, self.watch.wait_s(now))
            for key, _ in self.sel.select(timeout=left):
                side, which = key.data
                if which == "cancel":
                    self.cancelled = True
                else:
                    self._read(side, which)
            if self.watch is not None:
                self.watch.tick(time.monotonic())
        return True

    def watch_stalls(self, script: object, deadline_ms: int, start: float) -> list[str]:
        """Arms the stall watch when the peer server has a stall pipe; the
        peer request's extra args."""
        if self.peer.server.stall_w is None:
            return []
        pids = [self.peer.server.proc.pid, self.shim.server.proc.pid]
        self.watch = stall.Watch(lambda: pids, lambda: {self.port} if self.port else None,
                                 stall.notifier(self.peer.server.stall_w),
                                 stall.Deadlines(script, deadline_ms, start))
        return ["--stall-fd", str(self.peer.server.stall_fd)]


def _died(side: _Side) -> bool:
    """A server whose output ended is dying on its own (a crash): wait for it
    briefly, so its own signal is what we report, not ours."""
    if side.gone:
        try:
            side.server.proc.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            return False
    return side.server.proc.poll() is not None


# Each served cell's peer listens on an address of its own in 127.0.0.0/8 (all
# of it is loopback on Linux). With one address for every cell, a port the
# previous owner had just closed could be bound again at once by another
# worker's peer, and a connection meant for the first (the hang-up below,
# made when the harness has not yet read the peer's end) would reach the
# second cell: seen once as a bogus first connection under load. The
# counter starts at a random place so that two harnesses on one machine
# (a ctest daemon and a run) do not walk the same addresses.
_ADDRESS_SPACE = 254 * 256 * 254
_addresses = itertools.count(random.randrange(_ADDRESS_SPACE))


def _cell_address() -> str:
    n = next(_addresses) % _ADDRESS_SPACE
    return f"127.{1 + n // (256 * 254)}.{n // 254 % 256}.{1 + n % 254}"


def _hang_up(host: str, port: int, connections: int) -> None:
    """Once the shim's cell ended, the peer may still wait in accept() for a
    connection the shim never opened (a skip decided before connecting, a
    run that ended before `resume`). Per process, the shim's exit would have
    closed those sockets and the peer would have seen their end at once; so
    the harness opens and closes them here. A connection the peer never
    accepts stays in its backlog and goes with its listener."""
    for _ in range(connections):
        try:
            with socket.create_connection((host, port), timeout=1) as sock:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            return


def run_served(peer: Server, shim: Server, cell_id: str, peer_args: list[str],
               peer_script: object, shim_args: list[str], shim_script: object,
               deadline_ms: int, cancel_fd: int | None = None,
               connections: int = 1) -> CellRun:
    start = time.monotonic()
    hard = start + deadline_ms / 1000.0 + GRACE_S
    loop = _Cell(peer, shim, cell_id, cancel_fd)
    killed = {"peer": False, "shim": False}
    host = _cell_address()
    try:
        stall_args = loop.watch_stalls(shim_script, deadline_ms, start)
        peer.send({"cell": cell_id, "args": peer_args + ["--listen", f"{host}:0"] + stall_args,
                   "script": peer_script})
        if loop.pump(lambda: loop.port is not None or loop.peer.end is not None, hard) \
                and loop.port is not None:
            shim.send({"cell": cell_id, "args": shim_args + ["--connect", f"{host}:{loop.port}"],
                       "script": shim_script})
            loop.pump(lambda: loop.shim.end is not None, hard)
            if loop.shim.end is not None and loop.peer.end is None:
                _hang_up(host, loop.port, connections)
            loop.pump(lambda: loop.peer.end is not None and loop.shim.end is not None, hard)
        elif loop.peer.end is not None:
            loop.shim.end = {"end": "error", "exit": 4,
                             "message": "not started: the peer ended before it listened"}
    except OSError as exc:           # a server that died under our write
        loop.shim.err.extend(f"harness: {exc}\n".encode())
    finally:
        loop.close()
    for name, side in (("peer", loop.peer), ("shim", loop.shim)):
        if side.end is None:
            killed[name] = not _died(side)
            side.server.kill()
    # The argv a reader needs: the server's, then the cell's request.
    return CellRun(loop.peer.result(peer.argv + peer_args, killed["peer"]),
                   loop.shim.result(shim.argv + shim_args, killed["shim"]),
                   (time.monotonic() - start) * 1000.0)


class Pool:
    """Sets of servers (a peer and a shim per stack), one set per running
    cell: a cell leases a set, uses it and gives it back, so a pool can
    outlive one run (the daemon keeps one for every request) and never has
    more sets than cells ran at once. close() reaps every server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle: list[dict[str, Server]] = []
        self.started: list[Server] = []

    def lease(self) -> dict[str, Server]:
        with self.lock:
            return self.idle.pop() if self.idle else {}

    def give_back(self, slot: dict[str, Server]) -> None:
        with self.lock:
            self.idle.append(slot)

    def _get(self, slot: dict[str, Server], key: str, argv: list[str],
             env: dict | None, stall_pipe: bool = False) -> Server:
        server = slot.get(key)
        if server is None or not server.alive:
            server = Server(argv, env, stall_pipe)
            slot[key] = server
            with self.lock:
                self.started.append(server)
        return server

    def servers(self, slot: dict[str, Server], peer_argv: list[str], stack_key: str,
                shim_argv: list[str], env: dict | None,
                shim_env: dict | None) -> tuple[Server, Server]:
        return (self._get(slot, "peer", peer_argv, env, stall_pipe=True),
                self._get(slot, "shim:" + stack_key, shim_argv, shim_env))

    def close(self) -> None:
        with self.lock:
            servers, self.started, self.idle = self.started, [], []
        for server in servers:
            server.close()
