"""Running the Java JSSE shim against the mock peer, per process and in
serve mode, for tests/stacks/java.

Per process: tests/stackcells.py (harness/cell.py run_cell) with transport
"connect", as stacks/java/java.toml runs the shim. Serve mode (the harness does
not speak it yet): one `tlsclose-shim-java --serve` process answers many
cells; for each cell this module starts the mock peer on a listening
socket it creates (--listen-fd), writes the request line to the server's
stdin with --connect 127.0.0.1:PORT, forwards markers both ways (the
server's {"marker": NAME} lines to the peer's marker pipe, the peer's
marker lines to the server's stdin as {"marker": NAME}) and collects the
lines until the cell's end line. Every wait has a deadline; the peer is
reaped on every path.

A plain module, not a conftest (see tests/stackcells.py).
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import selectors
import socket
import subprocess
import sys
import tempfile
import time

TESTS = pathlib.Path(__file__).resolve().parents[2]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from stackcells import (DEADLINE_MS, OTHER_ROLE, Cell, Programs, assert_ran,  # noqa: E402,F401
                        ids, programs_for, run_shim_cell)

SHIM = "tlsclose-shim-java"
ROLES = ("client", "server")
TLS = ("1.2", "1.3")
IOS = ("blocking", "nonblocking", "memory")
ALL_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in IOS]
ENGINE_CELLS = [(r, t, i) for r, t, i in ALL_CELLS if i != "blocking"]
BLOCKING_CELLS = [(r, t, i) for r, t, i in ALL_CELLS if i == "blocking"]
GRACE_S = 2.0


def run_cell(progs: Programs, role: str, tls: str, io: str, sut_script: list,
             peer_script: dict, connections: int = 1, deadline_ms: int = DEADLINE_MS,
             sut_args=()) -> Cell:
    """One per-process cell, the way stacks/java/java.toml runs the shim."""
    return run_shim_cell(progs, role, tls, io, sut_script, peer_script,
                         connections=connections, deadline_ms=deadline_ms,
                         transport="connect", sut_args=sut_args)


@dataclasses.dataclass
class ServeCell:
    """What one serve-mode cell printed, and the peer's transcript."""
    lines: list[dict]          # the server's lines of this cell, markers included
    peer: list[dict]
    peer_rc: int | None
    peer_stderr: str

    @property
    def steps(self) -> list[dict]:
        return [x for x in self.lines if "step" in x and "op" in x]

    @property
    def end(self) -> dict:
        return self.lines[-1] if self.lines and "end" in self.lines[-1] else {}

    def outcomes(self) -> list[str]:
        return [s["outcome"] for s in self.steps]

    def describe(self) -> str:
        return ("--- server lines:\n" + "\n".join(json.dumps(x) for x in self.lines)
                + f"\n--- peer rc={self.peer_rc}:\n"
                + "\n".join(json.dumps(x) for x in self.peer) + "\n" + self.peer_stderr)


class ServeShim:
    """One `SHIM --serve` process; cells run one after the other."""

    def __init__(self, progs: Programs):
        self.progs = progs
        self.proc = subprocess.Popen([str(progs.shim), "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.out = bytearray()
        self.err = bytearray()
        self.cells = 0

    def __enter__(self) -> "ServeShim":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, obj) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj)
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def close(self, timeout: float = 10.0) -> int | None:
        """EOF on stdin: the server must exit 0 by itself."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return self.proc.returncode

    def _take_lines(self) -> list[dict]:
        lines = []
        while b"\n" in self.out:
            raw, _, rest = self.out.partition(b"\n")
            self.out[:] = rest
            if raw.strip():
                lines.append(json.loads(raw))
        return lines

    def collect(self, cell_id, deadline: float, from_peer: int | None = None,
                to_peer: int | None = None) -> list[dict]:
        """The server's lines up to the end line of cell_id; markers are
        forwarded between the server and the peer's pipes as they come."""
        got = []
        peer_buf = bytearray()
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "err")
        if from_peer is not None:
            sel.register(from_peer, selectors.EVENT_READ, "peer")
        try:
            while True:
                for line in self._take_lines():
                    got.append(line)
                    if "marker" in line and to_peer is not None:
                        try:
                            os.write(to_peer, line["marker"].encode() + b"\n")
                        except BrokenPipeError:
                            pass        # the peer has ended; its transcript says so
                    if "end" in line and line.get("cell") == cell_id:
                        return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no end line for cell {cell_id}: {got}\n"
                                         f"{self.err.decode(errors='replace')}")
                for key, _ in sel.select(min(left, 1.0)):
                    chunk = os.read(key.fd, 65536)
                    if key.data == "peer":
                        if not chunk:
                            sel.unregister(key.fd)
                        peer_buf.extend(chunk)
                        while b"\n" in peer_buf:
                            name, _, rest = peer_buf.partition(b"\n")
                            peer_buf[:] = rest
                            self.send({"marker": name.decode()})
                    elif not chunk:
                        raise AssertionError(f"server ended: {got}\n"
                                             f"{self.err.decode(errors='replace')}")
                    else:
                        (self.out if key.data == "out" else self.err).extend(chunk)
        finally:
            sel.close()

    def request(self, args: list[str], script, cell_id=None,
                deadline_s: float = 15.0) -> list[dict]:
        """A cell without a peer (requests the server must refuse)."""
        self.cells += 1
        cell_id = cell_id if cell_id is not None else f"c{self.cells}"
        self.send({"cell": cell_id, "args": args, "script": script})
        return self.collect(cell_id, time.monotonic() + deadline_s)

    def run(self, role: str, tls: str, io: str, sut_script: list, peer_script: dict,
            connections: int = 1, deadline_ms: int = DEADLINE_MS,
            listener: socket.socket | None = None,
            peer_deadline_ms: int | None = None) -> ServeCell:
        """One cell against a fresh mock peer on listener (made here unless
        given); the peer's deadline is the cell's unless peer_deadline_ms."""
        peer_deadline_ms = peer_deadline_ms or deadline_ms
        self.cells += 1
        cell_id = f"cell-{self.cells}"
        own = listener is None
        lst = listener or socket.create_server(("127.0.0.1", 0), backlog=connections)
        port = lst.getsockname()[1]
        to_peer_r, to_peer_w = os.pipe()
        from_peer_r, from_peer_w = os.pipe()
        with tempfile.TemporaryDirectory(prefix="java-serve-") as tmp:
            script_path = pathlib.Path(tmp) / "peer.json"
            script_path.write_text(json.dumps(peer_script))
            common = ["--tls", tls, "--cert", str(self.progs.cert),
                      "--key", str(self.progs.key), "--deadline-ms", str(peer_deadline_ms)]
            peer_argv = [str(self.progs.peer), "--role", OTHER_ROLE[role], *common,
                         "--listen-fd", str(lst.fileno()), "--script", str(script_path),
                         "--marker-in", str(to_peer_r), "--marker-out", str(from_peer_w)]
            peer = subprocess.Popen(peer_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    pass_fds=(lst.fileno(), to_peer_r, from_peer_w))
            os.close(to_peer_r)
            os.close(from_peer_w)
            if own:
                lst.close()
            try:
                lines = self._serve_one(cell_id, role, tls, io, port, sut_script, deadline_ms,
                                        to_peer_w, from_peer_r)
                out, err = peer.communicate(timeout=peer_deadline_ms / 1000.0 + GRACE_S)
            finally:
                if peer.poll() is None:
                    peer.kill()
                    peer.communicate()
                for fd in (to_peer_w, from_peer_r):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        peer_lines = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
        return ServeCell(lines, peer_lines, peer.returncode, err.decode(errors="replace"))

    def _serve_one(self, cell_id, role, tls, io, port, sut_script, deadline_ms,
                   to_peer_w, from_peer_r) -> list[dict]:
        args = ["--role", role, "--tls", tls, "--io", io, "--connect", f"127.0.0.1:{port}",
                "--cert", str(self.progs.cert), "--key", str(self.progs.key),
                "--deadline-ms", str(deadline_ms)]
        self.send({"cell": cell_id, "args": args, "script": sut_script})
        return self.collect(cell_id, time.monotonic() + deadline_ms / 1000.0 + GRACE_S,
                            from_peer_r, to_peer_w)


def comparable(steps: list[dict]) -> list[tuple]:
    """What must not differ between a per-process and a serve-mode run of
    one cell: the op, its outcome, bytes, the last call and its answer.
    Timing (ms), call counts and the wants of a handshake depend on how
    bytes arrive and are left out."""
    out = []
    for s in steps:
        n = s.get("native") or {}
        out.append((s["step"], s["op"], s["outcome"], s["bytes"], n.get("call"),
                    n.get("error"), s.get("reused"), s.get("resumable"), s.get("got")))
    return out
