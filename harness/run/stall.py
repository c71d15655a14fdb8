"""Stalls: a cell in which neither side can go on without the other
(docs/performance.md "Stalls", docs/peer.md "Stalls").

The mock peer waits for the SUT inside an action with a timeout (a
close_notify, an EOF, a marker) while the SUT waits inside a library call
for the peer. Nothing can happen until the peer's timeout passes. The
harness sees that state from outside and tells the peer at once, through a
pipe the peer polls beside its socket (--stall-fd); the peer ends its wait
as the timeout would, so what happens stays the same and only the time
changes. The SUT is never told anything.

Contract:
- `still(a, b)`: the cell stood still from sample a to sample b (each from
  `read_threads`): the same threads, every one asleep (state S) in both,
  none scheduled in between (its scheduler counters unchanged).
- `read_threads(roots)`: every thread of the root processes and of all
  their descendants (a server's forked cell), from /proc; None when a
  process or thread came or went while reading.
- `cell_queued(ports)`: whether anything is queued, or a handshake under
  way, on a loopback TCP connection with an end on one of these ports (the
  kernel's sock_diag over netlink); None when it cannot tell.
- `Watch`: fed by a cell's loop (`output`, `peer_line`/`sut_line` or
  `peer_bytes`/`sut_bytes`, `tick`; `wait_s` says how long the loop may
  sleep before the next sample). It calls notify(t0_ms, t1_ms) once per
  still period when the cell stood still for WINDOW_S from t0 to t1
  (CLOCK_MONOTONIC ms) with nothing queued, and the peer's current action
  would time out before the SUT's current step does; a new notice needs a
  new still period (something ran, printed or was queued first).
- Never a retry, never a wait: a sample reads a few small files.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import time
from typing import Callable, Iterable

from harness.base import vocabulary as V

# How often a running cell is sampled. A sample reads two small /proc files
# per thread (about 0.1 ms per thread); every 50 ms that stays a small share
# of a core even for a runtime with a dozen threads, and a notice comes at
# most one interval after the window is full. A cell that ends sooner is
# never sampled at all.
SAMPLE_S = 0.05

# How long the cell must stand still before the peer is told. A thread that
# wakes from a timer is scheduled, which changes its counters, so a stack
# that sleeps on a timer shorter than the window is never cut short: GnuTLS
# waits RTT + 60 ms for a TLS 1.3 session ticket after a blocking client
# handshake, four times shorter than this. A longer timer inside a library
# would be cut short; the step and action deadlines, the timers the scripts
# set, are compared below instead.
WINDOW_S = 0.25

# The deadlines of the current action and step are known from the lines
# that start them, as read by the harness; a line is read a little after it
# was printed. A notice goes out only if the peer's deadline comes before
# the SUT's earliest possible one by more than this.
CLOCK_SLACK_S = 0.1

# docs/peer.md: an action without timeout_ms has 5000 ms.
ACTION_TIMEOUT_MS = 5000

Threads = dict  # (pid, tid) -> (state, scheduler counters)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _counters(task: str) -> str:
    """What changes whenever the thread is scheduled: schedstat (time on the
    CPU, time waiting for it, times scheduled), else the context switches."""
    try:
        return _read(task + "/schedstat")
    except FileNotFoundError:
        status = _read(task + "/status")
        return " ".join(line for line in status.splitlines() if "ctxt_switches" in line)


def read_threads(roots: Iterable[int], proc: str = "/proc") -> Threads | None:
    threads: Threads = {}
    todo, seen = list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for tid in os.listdir(f"{proc}/{pid}/task"):
                task = f"{proc}/{pid}/task/{tid}"
                # The state follows the command name, which may hold ") ".
                state = _read(task + "/stat").rsplit(")", 1)[1].split()[0]
                threads[(pid, int(tid))] = (state, _counters(task))
                todo.extend(int(c) for c in _read(task + "/children").split())
        except (OSError, IndexError, ValueError):
            return None
    return threads


def still(a: Threads | None, b: Threads | None) -> bool:
    if not a or not b or a.keys() != b.keys():
        return False
    return all(a[k][0] == "S" and b[k] == a[k] for k in a)


# ---- the cell's connections: sock_diag (linux/inet_diag.h) ----

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_HEADER = struct.Struct("=IHHII")
_REQUEST = struct.Struct("=BBBBI48x")    # inet_diag_req_v2, no socket id
# Every TCP state but TIME_WAIT (6), CLOSE (7) and LISTEN (10), which hold
# no data; a connection in the accept queue is ESTABLISHED already.
_STATES = sum(1 << s for s in (1, 2, 3, 4, 5, 8, 9, 11, 12))
_HANDSHAKE_STATES = (2, 3, 12)           # SYN_SENT, SYN_RECV, NEW_SYN_RECV
_NETLINK_TIMEOUT_S = 1.0


def _loopback(family: int, addr: bytes) -> bool:
    if family == socket.AF_INET:
        return addr[0] == 127
    return addr == bytes(15) + b"\1" or (addr[:12] == bytes(10) + b"\xff\xff" and addr[12] == 127)


def _diag_messages(family: int):
    """(state, sport, dport, src, dst, rqueue, wqueue) of every TCP socket of
    this family in _STATES."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(_NETLINK_TIMEOUT_S)
        body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, _STATES)
        nl.send(_HEADER.pack(_HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY,
                             _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0) + body)
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off + _HEADER.size <= len(data):
                length, kind = _HEADER.unpack_from(data, off)[:2]
                if kind == _NLMSG_DONE:
                    return
                if kind == _NLMSG_ERROR or length < _HEADER.size:
                    raise OSError("sock_diag: error reply")
                m = off + _HEADER.size         # inet_diag_msg
                sport, dport = struct.unpack_from(">HH", data, m + 4)
                rq, wq = struct.unpack_from("=II", data, m + 56)
                yield (data[m + 1], sport, dport, data[m + 8:m + 24], data[m + 24:m + 40],
                       rq, wq)
                off += (length + 3) & ~3


def cell_queued(ports: set[int]) -> bool | None:
    try:
        for family in (socket.AF_INET, socket.AF_INET6):
            for state, sport, dport, src, dst, rq, wq in _diag_messages(family):
                if (sport in ports or dport in ports) and _loopback(family, src) \
                        and _loopback(family, dst) and (rq or wq or state in _HANDSHAKE_STATES):
                    return True
    except (OSError, struct.error):
        return None
    return False


# ---- when each side's wait ends by itself ----

class Deadlines:
    """The peer's current action deadline (at the latest) and the SUT's
    current step deadline (at the earliest), from the lines that start
    them: the peer's `action` event, the shim's hello and step lines
    (docs/peer.md, docs/shim-protocol.md §2-3). `started`: a moment before
    either process started (their run deadlines count from their start)."""

    def __init__(self, sut_steps: object, deadline_ms: int, started: float):
        self.steps = sut_steps if isinstance(sut_steps, list) else None
        self.run_s = deadline_ms / 1000.0
        self.sut_run_end = started + self.run_s        # the earliest it can be
        self.peer_run_end: float | None = None          # the latest it can be
        self.peer_end: float | None = None
        self.sut_end: float | None = None

    def peer_line(self, obj: dict, now: float) -> None:
        if self.peer_run_end is None:
            self.peer_run_end = now + self.run_s
        if obj.get("ev") == "action":
            ms = obj.get("timeout_ms", ACTION_TIMEOUT_MS)
            self.peer_end = now + (ms if isinstance(ms, int) else ACTION_TIMEOUT_MS) / 1000.0
        elif obj.get("ev") == "end":
            self.peer_end = None

    def sut_line(self, obj: dict, now: float) -> None:
        if "end" in obj:
            self.sut_end = None
        elif "shim" in obj:
            self.sut_end = self._step_end(1, now)
        elif isinstance(obj.get("step"), int):
            self.sut_end = self._step_end(obj["step"] + 1, now)

    def _step_end(self, n: int, now: float) -> float | None:
        """The earliest end of step n, begun at about `now`; after the last
        step the shim closes the connection within its run deadline."""
        if self.steps is None or n < 1:
            return None
        if n > len(self.steps):
            return self.sut_run_end
        step = self.steps[n - 1]
        ms = step.get("timeout_ms", V.DEFAULT_STEP_TIMEOUT_MS) if isinstance(step, dict) else None
        if not isinstance(ms, int):
            return None
        return now - CLOCK_SLACK_S + ms / 1000.0

    def peer_first(self) -> bool:
        """The peer's wait would end before the SUT's: telling it now
        changes nothing but the time."""
        if self.peer_end is None or self.sut_end is None:
            return False
        peer = min(self.peer_end, self.peer_run_end)
        return peer < min(self.sut_end, self.sut_run_end)


class _Lines:
    """Complete JSON object lines out of a byte stream; only lines that hold
    one of `words` are parsed (a bulk transfer logs a line per record)."""

    def __init__(self, *words: bytes):
        self.rest = b""
        self.words = words

    def feed(self, chunk: bytes) -> list[dict]:
        *whole, self.rest = (self.rest + chunk).split(b"\n")
        out = []
        for raw in whole:
            if self.words and not any(w in raw for w in self.words):
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out


class Watch:
    def __init__(self, roots: Callable[[], list[int]], ports: Callable[[], set[int] | None],
                 notify: Callable[[int, int], None], deadlines: Deadlines, *,
                 threads=read_threads, queued=cell_queued, clock=time.monotonic):
        self.roots, self.ports, self.notify = roots, ports, notify
        self.deadlines = deadlines
        self.threads, self.queued, self.clock = threads, queued, clock
        self.next_at = clock() + SAMPLE_S
        self.last: Threads | None = None
        self.since: float | None = None     # first sample of the still period
        self.told = False
        # The peer's first line starts its clock; its action and end events
        # start and end its waits.
        self.peer_text = _Lines(b'"start"', b'"listen"', b'"action"', b'"end"')
        self.sut_text = _Lines()

    def wait_s(self, now: float) -> float:
        return max(0.0, self.next_at - now)

    def output(self) -> None:
        """A process wrote something: whatever stood still moved."""
        self.last, self.since, self.told = None, None, False

    def peer_line(self, obj: dict, now: float) -> None:
        self.deadlines.peer_line(obj, now)

    def sut_line(self, obj: dict, now: float) -> None:
        self.deadlines.sut_line(obj, now)

    def peer_bytes(self, chunk: bytes, now: float) -> None:
        for obj in self.peer_text.feed(chunk):
            self.deadlines.peer_line(obj, now)

    def sut_bytes(self, chunk: bytes, now: float) -> None:
        for obj in self.sut_text.feed(chunk):
            self.deadlines.sut_line(obj, now)

    def tick(self, now: float) -> None:
        if now < self.next_at:
            return
        at = self.clock()                  # before reading: the earliest it can mean
        self.next_at = at + SAMPLE_S
        threads = self.threads(self.roots())
        prev, self.last = self.last, threads
        if not still(prev, threads):
            self.since, self.told = (at if threads else None), False
            return
        if self.told or at - self.since < WINDOW_S or not self.deadlines.peer_first():
            return
        ports = self.ports()
        if not ports or self.queued(ports) is not False:
            self.since = at                # bytes on their way: a new window
            return
        self.told = True
        self.notify(int(self.since * 1000), int(at * 1000))


def notifier(fd: int) -> Callable[[int, int], None]:
    """Writes a notice line on the peer's stall pipe without ever waiting:
    a full pipe (a peer that reads none) drops the notice."""
    def notify(t0_ms: int, t1_ms: int) -> None:
        try:
            os.write(fd, f"{t0_ms} {t1_ms}\n".encode())
        except (BlockingIOError, BrokenPipeError):
            pass
    return notify
