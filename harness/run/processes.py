"""Run one cell: the mock peer and one shim, connected over loopback TCP.

The harness makes the TCP connections itself before either process starts
(listen on 127.0.0.1 port 0, connect, accept), so there is no readiness race
and no port to guess: each process inherits its end with --fd. Two pipes carry
markers between the processes. Both processes get a deadline on their command
line and end by themselves; the harness kills what is still running a grace
period later and reports it as a timeout. Every child is reaped on every path.
While the cell runs, a stall watch (harness/run/stall.py) samples both
processes and tells the peer through a third pipe (--stall-fd) when the cell
stands still, so that a mutual wait ends at once instead of at the peer's
timeout.
"""
from __future__ import annotations

import dataclasses
import json
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from typing import Sequence

from harness.run import stall

GRACE_S = 1.0


@dataclasses.dataclass
class ProcessResult:
    """What one child printed and how it ended."""
    argv: list[str]
    returncode: int | None        # None: killed by us at the deadline
    signal: str | None            # name of the signal that ended it, if any
    lines: list[dict]             # the JSON lines of stdout, in order
    bad_lines: list[str]          # stdout lines that were not JSON objects
    stderr: str
    killed: bool                  # we had to kill it after the deadline


@dataclasses.dataclass
class CellRun:
    peer: ProcessResult
    sut: ProcessResult
    duration_ms: float


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected loopback TCP pair with TCP_NODELAY on both ends."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        a = socket.create_connection(lst.getsockname())
        b, _ = lst.accept()
    for s in (a, b):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return a, b


def parse_lines(text: str) -> tuple[list[dict], list[str]]:
    good, bad = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        (good if isinstance(obj, dict) else bad).append(obj if isinstance(obj, dict) else line)
    return good, bad


def signal_name(rc: int | None) -> str | None:
    """The name of the signal a return code says killed the process, if any."""
    if rc is not None and rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"
    return None


def _collect_all(procs: list[subprocess.Popen], argvs: list[list[str]],
                 deadline: float, cancel_fd: int | None = None,
                 watch: stall.Watch | None = None) -> list[ProcessResult]:
    """Reads every child's stdout and stderr at once until all have ended.

    Reading them together matters: a child blocked on a full pipe while we
    wait for the other one would turn into a false timeout. cancel_fd, when
    it becomes readable, ends the wait like the deadline does (the caller
    was interrupted and must not wait for the children's own deadlines).
    watch (procs[0] the peer, procs[1] the SUT) sees all output and samples
    between reads until the deadline.
    """
    bufs = {}
    sel = selectors.DefaultSelector()
    for i, p in enumerate(procs):
        for name, stream in (("out", p.stdout), ("err", p.stderr)):
            os.set_blocking(stream.fileno(), False)
            sel.register(stream, selectors.EVENT_READ, (i, name))
            bufs[(i, name)] = bytearray()
    streams = len(bufs)
    if cancel_fd is not None:
        sel.register(cancel_fd, selectors.EVENT_READ, "cancel")
    killed = [False] * len(procs)
    draining = False
    try:
        while streams:
            left = deadline - time.monotonic()
            if left <= 0:
                if draining:
                    # A grandchild still holds a pipe open: stop reading.
                    break
                for i, p in enumerate(procs):
                    if p.poll() is None:
                        p.kill()
                        killed[i] = True
                # Drain what is left, for a bounded time.
                deadline, draining = time.monotonic() + GRACE_S, True
                continue
            timeout = min(left, 3600)
            if watch is not None and not draining:
                timeout = min(timeout, watch.wait_s(time.monotonic()))
            for key, _ in sel.select(timeout=timeout):
                if key.data == "cancel":
                    sel.unregister(key.fileobj)
                    deadline = time.monotonic()
                    continue
                chunk = os.read(key.fileobj.fileno(), 65536)
                if chunk:
                    bufs[key.data].extend(chunk)
                    if watch is not None:
                        _watch_output(watch, key.data, chunk)
                else:
                    sel.unregister(key.fileobj)
                    streams -= 1
            if watch is not None and not draining:
                watch.tick(time.monotonic())
    finally:
        sel.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
            p.stderr.close()
    results = []
    for i, p in enumerate(procs):
        good, bad = parse_lines(bufs[(i, "out")].decode("utf-8", "replace"))
        results.append(ProcessResult(argvs[i], p.returncode, signal_name(p.returncode), good,
                                     bad, bufs[(i, "err")].decode("utf-8", "replace"),
                                     killed[i]))
    return results


def _watch_output(watch: stall.Watch, stream: tuple[int, str], chunk: bytes) -> None:
    watch.output()
    if stream == (0, "out"):
        watch.peer_bytes(chunk, time.monotonic())
    elif stream == (1, "out"):
        watch.sut_bytes(chunk, time.monotonic())


def _listener(backlog: int) -> socket.socket:
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(backlog)
    return lst


def _transport_args(transport: str, connections: int):
    """Sockets to close after the children start, the transport argv of
    peer and SUT, and the local ports of the cell's connections (how the
    stall watch finds them). "connect": the peer accepts on an inherited
    listening socket and the SUT connects to it itself (the connection
    already waits in the backlog when the peer accepts, so there is no
    race)."""
    if transport == "connect":
        lst = _listener(connections)
        port = lst.getsockname()[1]
        return [lst], [lst.fileno()], [], ["--listen-fd", str(lst.fileno())], \
            ["--connect", f"127.0.0.1:{port}"], {port}
    pairs = [tcp_pair() for _ in range(connections)]
    peer_fds = [p[0].fileno() for p in pairs]
    sut_fds = [p[1].fileno() for p in pairs]
    socks = [s for p in pairs for s in p]
    return socks, peer_fds, sut_fds, ["--fd", ",".join(map(str, peer_fds))], \
        ["--fd", ",".join(map(str, sut_fds))], {s.getsockname()[1] for s in socks}


def run_cell(peer_cmd: Sequence[str], sut_cmd: Sequence[str], peer_script: object,
             sut_script: object, connections: int = 1, deadline_ms: int = 10000,
             env: dict | None = None, sut_env: dict | None = None,
             transport: str = "fd", cancel_fd: int | None = None) -> CellRun:
    """Runs peer and SUT against each other and returns both outputs.

    peer_cmd / sut_cmd are the argv prefixes WITHOUT transport, script,
    marker and deadline arguments; this function appends them. sut_env, if
    given, replaces env for the SUT only; transport is "fd" (both inherit
    connected sockets) or "connect" (the SUT connects to the peer itself).
    cancel_fd: a descriptor that becomes readable when the caller wants
    the cell stopped now (both children are then killed and reaped).
    """
    start = time.monotonic()
    socks, peer_fds, sut_fds, peer_transport, sut_transport, ports = \
        _transport_args(transport, connections)
    to_peer_r, to_peer_w = os.pipe()
    to_sut_r, to_sut_w = os.pipe()
    stall_r, stall_w = os.pipe()
    os.set_blocking(stall_w, False)
    with tempfile.TemporaryDirectory(prefix="tlsclose-cell-") as tmp:
        peer_script_path = os.path.join(tmp, "peer.json")
        sut_script_path = os.path.join(tmp, "steps.json")
        with open(peer_script_path, "w") as f:
            json.dump(peer_script, f)
        with open(sut_script_path, "w") as f:
            json.dump(sut_script, f)
        common = ["--deadline-ms", str(deadline_ms)]
        peer_argv = [*peer_cmd, *peer_transport,
                     "--script", peer_script_path, "--marker-in", str(to_peer_r),
                     "--marker-out", str(to_sut_w), "--stall-fd", str(stall_r), *common]
        sut_argv = [*sut_cmd, *sut_transport,
                    "--script", sut_script_path, "--marker-in", str(to_sut_r),
                    "--marker-out", str(to_peer_w), *common]
        procs = []
        try:
            procs.append(subprocess.Popen(peer_argv, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE,
                                          pass_fds=(*peer_fds, to_peer_r, to_sut_w, stall_r),
                                          env=env))
            # The peer's ends go at once, before the SUT can make the peer
            # act: a FIN or close of the peer must not wait for our copy.
            for sock in [s for s in socks if s.fileno() in peer_fds]:
                sock.close()
            procs.append(subprocess.Popen(sut_argv, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE,
                                          pass_fds=(*sut_fds, to_sut_r, to_peer_w),
                                          env=env if sut_env is None else sut_env))
        finally:
            # Our copies must go: a socket end still open here would keep the
            # connection alive after the child closes it (no FIN would reach
            # the other side), and an open pipe end would hide a dead writer.
            for sock in socks:
                sock.close()
            for fd in (to_peer_r, to_peer_w, to_sut_r, to_sut_w, stall_r):
                os.close(fd)
            if len(procs) < 2:
                os.close(stall_w)
                for p in procs:
                    p.kill()
                    p.wait()
        hard_deadline = start + deadline_ms / 1000.0 + GRACE_S
        pids = [p.pid for p in procs]
        watch = stall.Watch(lambda: pids, lambda: ports, stall.notifier(stall_w),
                            stall.Deadlines(sut_script, deadline_ms, start))
        try:
            peer, sut = _collect_all(procs, [peer_argv, sut_argv], hard_deadline, cancel_fd,
                                     watch)
        finally:
            os.close(stall_w)
    return CellRun(peer, sut, (time.monotonic() - start) * 1000.0)
