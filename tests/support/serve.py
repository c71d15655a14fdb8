"""Driving shims and the mock peer in persistent mode (`--serve`) directly,
for tests/system/serve (its tests and the CPU measurement, measure_cpu.py).

A cell in persistent mode (docs/shim-protocol.md "Persistent mode"):
  1. the peer server gets the cell's request with `--listen 127.0.0.1:0`
     and answers with {"ev": "listen", "port": P} first;
  2. the shim server gets its request with `--connect 127.0.0.1:P`;
  3. markers travel in-band: a shim line {"marker": NAME} goes to the
     peer's standard input as is; a peer event {"ev": "marker", "dir":
     "sent", "name": NAME} goes to the shim's as {"marker": NAME};
  4. the cell is over when both end lines arrived. A cell that does not end
     by its deadline plus a grace period kills both servers' process groups.

Needs: the programs built (support/cells.py finds them).
Never: leaves a server running: Server.close() ends and reaps it on every
path (its process group is killed when it does not end by itself).
"""
from __future__ import annotations

import dataclasses
import json
import os
import selectors
import signal
import subprocess
import time

GRACE_S = 2.0


class ServeError(AssertionError):
    """A server broke the protocol or missed a deadline."""


class Server:
    """One `PROGRAM --serve`, in its own process group, read line by line."""

    def __init__(self, argv: list[str], env: dict | None = None):
        self.argv = [*argv, "--serve"]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, process_group=0, env=env)
        for stream in (self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
        self._out = bytearray()
        self.stderr = bytearray()
        self.open_streams = [self.proc.stdout, self.proc.stderr]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, obj: object) -> None:
        self.send_raw(json.dumps(obj) + "\n")

    def send_raw(self, text: str) -> None:
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def request(self, cell: str, args: list[str], script: object) -> None:
        self.send({"cell": cell, "args": args, "script": script})

    @property
    def eof(self) -> bool:
        return self.proc.stdout not in self.open_streams

    def _pump(self, fileobj) -> None:
        try:
            chunk = os.read(fileobj.fileno(), 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.open_streams.remove(fileobj)
        elif fileobj is self.proc.stderr:
            self.stderr.extend(chunk)
        else:
            self._out.extend(chunk)

    def take_line(self) -> dict | None:
        """The next complete stdout line, parsed, or None."""
        nl = self._out.find(b"\n")
        if nl < 0:
            return None
        # Decoded as the harness decodes (harness/cell.py): a shim's "got"
        # may hold bytes that are not UTF-8.
        raw = bytes(self._out[:nl]).decode("utf-8", "replace")
        del self._out[:nl + 1]
        try:
            obj = json.loads(raw)
        except ValueError:
            raise ServeError(f"{self.argv[0]}: a line that is not JSON: {raw!r}") from None
        if not isinstance(obj, dict):
            raise ServeError(f"{self.argv[0]}: a line that is not an object: {raw!r}")
        return obj

    def close(self, timeout: float = 10.0) -> int | None:
        """Closes standard input and reaps the server: its exit status, or
        None when it had to be killed."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                wait_any([self], deadline)
            rc = self.proc.poll()
            if rc is None:
                self.kill()
            return rc
        finally:
            self.kill()

    def kill(self) -> None:
        """Kills the whole process group (the server and its running cell)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in list(self.open_streams):
            self._pump(stream)


def wait_any(servers: list[Server], deadline: float) -> None:
    """Reads whatever any server printed, waiting at most until deadline."""
    sel = selectors.DefaultSelector()
    try:
        for s in servers:
            for stream in s.open_streams:
                sel.register(stream, selectors.EVENT_READ, s)
        left = max(0.0, deadline - time.monotonic())
        for key, _ in sel.select(timeout=min(left, 1.0)):
            key.data._pump(key.fileobj)
    finally:
        sel.close()


def read_until(server: Server, pred, deadline: float, what: str) -> list[dict]:
    """Lines until one satisfies pred (that one included)."""
    lines = []
    while True:
        line = server.take_line()
        if line is not None:
            lines.append(line)
            if pred(line):
                return lines
            continue
        if time.monotonic() >= deadline or (server.eof and server.proc.poll() is not None):
            raise ServeError(f"no {what} from {server.argv[0]} (got {lines}, "
                             f"stderr {server.stderr.decode(errors='replace')!r})")
        wait_any([server], deadline)


class ServedLines:
    """What a shim server printed for one cell (self.lines), read as a
    per-process run's lines are (steps, end line, outcomes)."""
    lines: list[dict]

    @property
    def steps(self) -> list[dict]:
        return [x for x in self.lines if "step" in x and "op" in x]

    @property
    def end(self) -> dict:
        return self.lines[-1] if self.lines and "end" in self.lines[-1] else {}

    def outcomes(self) -> list[str]:
        return [s["outcome"] for s in self.steps]


@dataclasses.dataclass
class ServeCell:
    """What one cell printed through the servers."""
    sut: list[dict]       # the shim's lines, marker lines included
    peer: list[dict]      # the peer's transcript
    forwarded: list[tuple[str, str]]  # ("to_peer"|"to_sut", NAME), in order

    @property
    def sut_end(self) -> dict:
        return next((x for x in self.sut if "end" in x), {})

    @property
    def peer_end(self) -> dict:
        return next((x for x in self.peer if x.get("ev") == "end"), {})


def is_shim_end(line: dict) -> bool:
    return "end" in line


def is_peer_end(line: dict) -> bool:
    return line.get("ev") == "end"


def run_cell(shim: Server, peer: Server, cell: str, sut_args: list[str], peer_args: list[str],
             sut_script: object, peer_script: object, deadline_ms: int) -> ServeCell:
    """One cell through both servers (see the module's docstring)."""
    deadline = time.monotonic() + deadline_ms / 1000.0 + GRACE_S
    dl = ["--deadline-ms", str(deadline_ms)]
    peer.request(cell, [*peer_args, "--listen", "127.0.0.1:0", *dl], peer_script)
    peer_lines = read_until(peer, lambda x: x.get("ev") in ("listen", "end"), deadline,
                            "listen event")
    if peer_lines[-1].get("ev") == "end":
        return ServeCell([], peer_lines, [])
    port = peer_lines[-1]["port"]
    shim.request(cell, [*sut_args, "--connect", f"127.0.0.1:{port}", *dl], sut_script)
    sut_lines, forwarded = [], []
    sut_done = peer_done = False
    while not (sut_done and peer_done):
        progressed = False
        while not sut_done and (line := shim.take_line()) is not None:
            progressed = True
            sut_lines.append(line)
            if set(line) == {"marker"}:
                peer.send(line)
                forwarded.append(("to_peer", line["marker"]))
            sut_done = is_shim_end(line)
        while not peer_done and (line := peer.take_line()) is not None:
            progressed = True
            peer_lines.append(line)
            if line.get("ev") == "marker" and line.get("dir") == "sent":
                shim.send({"marker": line["name"]})
                forwarded.append(("to_sut", line["name"]))
            peer_done = is_peer_end(line)
        if progressed:
            continue
        if time.monotonic() >= deadline:
            shim.kill()
            peer.kill()
            raise ServeError(f"cell {cell}: no end line by the deadline\nsut: {sut_lines}\n"
                             f"peer: {peer_lines}")
        wait_any([shim, peer], deadline)
    return ServeCell(sut_lines, peer_lines, forwarded)


def shim_request_line(shim: Server, cell: str, args: list[str], script: object,
                      timeout_s: float = 10.0) -> list[dict]:
    """A shim request that needs no peer (it ends before connecting): the
    lines up to its end line."""
    shim.request(cell, args, script)
    return read_until(shim, is_shim_end, time.monotonic() + timeout_s, "end line")
