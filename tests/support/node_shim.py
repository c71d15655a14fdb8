"""Running the Node.js tls shim for its tests: per-process cells through
support/cells.py, and serve mode (`shim.js --serve`) driven here, since
the harness does not speak it yet.

Serve mode, one cell: the test makes a listening socket, starts the mock
peer on it (`--listen-fd`), writes the request with `--connect
127.0.0.1:PORT` to the server's stdin, and forwards markers both ways: a
`{"marker": NAME}` line of the server to the peer's marker pipe, a line of
the peer's marker pipe to the server's stdin as `{"marker": NAME}`.

Needs: /usr/bin/node (or $NODE), the mock peer and the credentials built.
Never: waits without a deadline; leaves a process running.
"""
from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import tempfile
import time

from harness.base.vocabulary import DEFAULT_DEADLINE_MS as DEADLINE_MS
from harness.spec.stack import load_stack
from .build import ROOT
from .cells import OTHER_ROLE, Cell, Programs, built, run_shim_cell, shim_alone
from .serve import ServedLines

NODE = os.environ.get("NODE", "/usr/bin/node")
SHIM = ROOT / "stacks" / "node" / "shim.js"
SHIM_CMD = [NODE, str(SHIM)]
IOS = load_stack(ROOT / "stacks" / "node" / "node.toml", ROOT).io   # the modes Node has
GRACE_S = 3.0


def node_missing() -> bool:
    return not os.access(NODE, os.X_OK)


def programs() -> Programs:
    """The mock peer and credentials (the shim is a script, not a binary)."""
    return built(None)


def run_cell(progs: Programs, role: str, tls: str, io: str, sut_script: list,
             peer_script: dict, **kwargs) -> Cell:
    """One per-process cell; role is the SUT's."""
    return run_shim_cell(progs, role, tls, io, sut_script, peer_script, shim_cmd=SHIM_CMD,
                         **kwargs)


def run_alone(args: list[str], script=None, tmp_path=None) -> tuple[int, list[dict], str]:
    """The shim without a peer, for what it decides before any IO."""
    return shim_alone(SHIM_CMD, args, script, tmp_path)


class ServeCell(ServedLines):
    """What one serve-mode cell printed, and the peer's transcript."""

    def __init__(self, lines: list[dict], peer: list[dict], peer_rc: int | None):
        self.lines = lines
        self.peer = peer
        self.peer_rc = peer_rc

    @property
    def markers(self) -> list[str]:
        return [x["marker"] for x in self.lines if list(x) == ["marker"]]

    def describe(self) -> str:
        return "serve:\n" + "\n".join(json.dumps(x) for x in self.lines) + "\npeer:\n" + \
            "\n".join(json.dumps(x) for x in self.peer)


class Server:
    """One `shim.js --serve` process; cells run one after the other."""

    def __init__(self, progs: Programs):
        self.progs = progs
        self.proc = subprocess.Popen([*SHIM_CMD, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""

    def send(self, obj) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj)
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def _lines(self) -> list[dict]:
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                out.append(json.loads(line))
        return out

    def read_until_end(self, deadline: float, on_line=None, extra=None) -> list[dict]:
        """Lines up to the next end line. extra: (fd, callback) read too."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, "server")
        if extra is not None:
            sel.register(extra[0], selectors.EVENT_READ, "extra")
        got = []
        try:
            while True:
                for line in self._lines():
                    got.append(line)
                    if on_line:
                        on_line(line)
                    if "end" in line:
                        return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no end line by the deadline:\n"
                                         + "\n".join(map(json.dumps, got)))
                for key, _ in sel.select(timeout=left):
                    if key.data == "server":
                        chunk = os.read(self.proc.stdout.fileno(), 65536)
                        if not chunk:
                            raise AssertionError("server closed stdout:\n"
                                                 + self.proc.stderr.read().decode())
                        self.buf += chunk
                    else:
                        chunk = os.read(key.fileobj, 4096)
                        if chunk:
                            extra[1](chunk)
                        else:
                            sel.unregister(key.fileobj)
        finally:
            sel.close()

    def request(self, cell_id, args: list[str], script, deadline_s: float = 10.0) -> list[dict]:
        """A request without a peer (what is decided before any IO, deadlines)."""
        self.send({"cell": cell_id, "args": args, "script": script})
        return self.read_until_end(time.monotonic() + deadline_s)

    def cell(self, cell_id, role: str, tls: str, io: str, sut_script: list, peer_script: dict,
             connections: int = 1, deadline_ms: int = DEADLINE_MS) -> ServeCell:
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind(("127.0.0.1", 0))
        lst.listen(connections + 1)
        port = lst.getsockname()[1]
        to_peer_r, to_peer_w = os.pipe()
        from_peer_r, from_peer_w = os.pipe()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(peer_script, f)
        p = self.progs
        common = ["--tls", tls, "--cert", str(p.cert), "--key", str(p.key)]
        peer = subprocess.Popen(
            [str(p.peer), "--role", OTHER_ROLE[role], *common, "--listen-fd", str(lst.fileno()),
             "--script", f.name, "--marker-in", str(to_peer_r), "--marker-out", str(from_peer_w),
             "--deadline-ms", str(deadline_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(lst.fileno(), to_peer_r, from_peer_w))
        lst.close()
        os.close(to_peer_r)
        os.close(from_peer_w)
        pending = b""

        def from_peer(chunk: bytes) -> None:
            nonlocal pending
            pending += chunk
            while b"\n" in pending:
                name, pending = pending.split(b"\n", 1)
                self.send({"marker": name.decode()})

        def to_peer(line: dict) -> None:
            if list(line) == ["marker"]:
                try:
                    os.write(to_peer_w, line["marker"].encode() + b"\n")
                except BrokenPipeError:
                    pass

        try:
            self.send({"cell": cell_id, "script": sut_script,
                       "args": ["--role", role, "--io", io, *common,
                                "--connect", f"127.0.0.1:{port}",
                                "--deadline-ms", str(deadline_ms)]})
            lines = self.read_until_end(time.monotonic() + deadline_ms / 1000 + GRACE_S,
                                        on_line=to_peer, extra=(from_peer_r, from_peer))
        finally:
            os.close(to_peer_w)
            try:
                out, _ = peer.communicate(timeout=deadline_ms / 1000 + GRACE_S)
            except subprocess.TimeoutExpired:
                peer.kill()
                out, _ = peer.communicate()
            os.close(from_peer_r)
            os.unlink(f.name)
        transcript = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
        return ServeCell(lines, transcript, peer.returncode)

    def close(self) -> int:
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
