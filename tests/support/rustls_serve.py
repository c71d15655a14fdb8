"""Driving a shim's persistent mode (`SHIM --serve`) the way the harness will
(docs/shim-protocol.md, draft "persistent mode"), for the rustls shim's tests:
one server process, one request line per cell, markers relayed in-band.

Per cell: a listening socket of our own (127.0.0.1, port 0, backlog 2 for a
`resume`), the mock peer started on it with --listen-fd and marker pipes, the
request written to the server's stdin with `--connect 127.0.0.1:PORT`. Until
the cell's end line arrives, the server's {"marker": NAME} lines go to the
peer's marker pipe and the peer's marker lines come back as {"marker": NAME}
on the server's stdin. Every wait has a deadline; the peer is reaped per
cell, the server when the session ends.

Needs: the programs (support.cells.Programs). Never: sleeps, retries, or
leaves a process running.
"""
from __future__ import annotations

import dataclasses
import json
import os
import selectors
import socket
import subprocess
import tempfile
import time

from harness.run.processes import parse_lines
from .cells import OTHER_ROLE, Programs
from .serve import ServedLines

GRACE_S = 1.0


@dataclasses.dataclass
class ServeCell(ServedLines):
    """One cell run through the server: its lines and the peer's."""
    lines: list[dict]      # the server's lines for this cell, markers left out
    markers: list[str]     # the markers the shim signalled, in order
    peer: list[dict]       # the peer's transcript
    peer_rc: int | None


class Server:
    """One `SHIM --serve` process; use as a context manager."""

    def __init__(self, progs: Programs):
        self.progs = progs
        self.proc = subprocess.Popen([str(progs.shim), "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.out = bytearray()
        self.stderr = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, obj: dict) -> None:
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def close(self, timeout_s: float = 5.0) -> int | None:
        """EOF on stdin: the server ends by itself (0); killed if it does not."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return self.proc.returncode

    def _lines(self) -> list[dict]:
        """Complete lines received so far, consumed."""
        *done, rest = self.out.split(b"\n")
        self.out = bytearray(rest)
        good, bad = parse_lines(b"\n".join(done).decode())
        assert not bad, f"non-JSON lines from the server: {bad}"
        return good

    def request_line(self, role: str, tls: str, io: str, port: int, script: list,
                     deadline_ms: int, cell: str, extra: tuple = ()) -> dict:
        args = ["--role", role, "--tls", tls, "--io", io, "--connect", f"127.0.0.1:{port}",
                "--cert", str(self.progs.cert), "--key", str(self.progs.key),
                "--deadline-ms", str(deadline_ms), *extra]
        return {"cell": cell, "args": args, "script": script}

    def run(self, role: str, tls: str, io: str, sut_script: list, peer_script: dict,
            deadline_ms: int = 8000, cell: str = "cell", extra: tuple = (),
            request: dict | None = None, close_stdin: bool = False) -> ServeCell:
        """One cell. request replaces the request line (a bad one); close_stdin
        closes the server's stdin right after the request."""
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind(("127.0.0.1", 0))
        lst.listen(2)
        port = lst.getsockname()[1]
        to_peer_r, to_peer_w = os.pipe()
        from_peer_r, from_peer_w = os.pipe()
        with tempfile.TemporaryDirectory(prefix="tlsclose-serve-") as tmp:
            script_path = os.path.join(tmp, "peer.json")
            with open(script_path, "w") as f:
                json.dump(peer_script, f)
            peer_argv = [str(self.progs.peer), "--role", OTHER_ROLE[role], "--tls", tls,
                         "--cert", str(self.progs.cert), "--key", str(self.progs.key),
                         "--listen-fd", str(lst.fileno()), "--script", script_path,
                         "--marker-in", str(to_peer_r), "--marker-out", str(from_peer_w),
                         "--deadline-ms", str(deadline_ms)]
            peer = subprocess.Popen(peer_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    pass_fds=(lst.fileno(), to_peer_r, from_peer_w))
            lst.close()
            os.close(to_peer_r)
            os.close(from_peer_w)
            try:
                self.send(request or self.request_line(role, tls, io, port, sut_script,
                                                       deadline_ms, cell, extra))
                if close_stdin:
                    self.proc.stdin.close()
                lines, markers = self._relay(peer, to_peer_w, from_peer_r, cell,
                                             time.monotonic() + deadline_ms / 1000 + GRACE_S)
                peer_out = self._finish_peer(peer, time.monotonic() + deadline_ms / 1000 + GRACE_S)
            finally:
                os.close(to_peer_w)
                os.close(from_peer_r)
                if peer.poll() is None:
                    peer.kill()
                peer.wait()
                peer.stdout.close()
                peer.stderr.close()
        good, _ = parse_lines(peer_out.decode("utf-8", "replace"))
        return ServeCell(lines, markers, good, peer.returncode)

    def _relay(self, peer, to_peer_w: int, from_peer_r: int, cell: str,
               deadline: float) -> tuple[list[dict], list[str]]:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "err")
        sel.register(from_peer_r, selectors.EVENT_READ, "marker")
        lines, markers, pending = [], [], b""
        try:
            while True:
                left = deadline - time.monotonic()
                assert left > 0, f"no end line for {cell} by its deadline: {lines}"
                for key, _ in sel.select(timeout=left):
                    if key.data == "marker":
                        chunk = os.read(from_peer_r, 4096)
                        if not chunk:
                            sel.unregister(from_peer_r)
                            continue
                        pending += chunk
                        *names, pending = pending.split(b"\n")
                        for name in names:
                            if not self.proc.stdin.closed:
                                self.send({"marker": name.decode()})
                        continue
                    chunk = os.read(key.fileobj.fileno(), 65536)
                    assert chunk or key.data == "err", f"the server died during {cell}: {lines}"
                    if key.data == "err":
                        self.stderr += chunk
                        if not chunk:
                            sel.unregister(key.fileobj)
                        continue
                    self.out += chunk
                    for line in self._lines():
                        if "marker" in line and len(line) == 1:
                            markers.append(line["marker"])
                            os.write(to_peer_w, (line["marker"] + "\n").encode())
                            continue
                        lines.append(line)
                        if "end" in line:
                            return lines, markers
        finally:
            sel.close()

    @staticmethod
    def _finish_peer(peer, deadline: float) -> bytes:
        out = bytearray()
        sel = selectors.DefaultSelector()
        for stream in (peer.stdout, peer.stderr):
            os.set_blocking(stream.fileno(), False)
            sel.register(stream, selectors.EVENT_READ, stream is peer.stdout)
        try:
            open_streams = 2
            while open_streams and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    chunk = os.read(key.fileobj.fileno(), 65536)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        open_streams -= 1
                    elif key.data:
                        out += chunk
        finally:
            sel.close()
        return bytes(out)
