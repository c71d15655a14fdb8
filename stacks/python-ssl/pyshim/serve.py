"""Persistent mode (`--serve`, docs/shim-protocol.md "Persistent mode").

Needs: the server's own options (what the stack file's command gives,
e.g. --suppress-ragged-eofs) and `run_cell(server_argv, args, script,
reader) -> exit code` (pyshim.main).
Gives: `serve(server_argv, run_cell) -> 0` at EOF on standard input. Each
request line {"cell": ID, "args": [...], "script": [...]} runs in a process
forked for it after the interpreter started and imported everything once
(that start is what a per-process run pays for every cell); the server
waits for it and prints the end line of a cell whose process died of a
signal or exited without one. A bad request gets an end line with exit 2
from the server; a stray marker line between cells is dropped.
Never: lets a cell's process outlive the server (PR_SET_PDEATHSIG), reads
standard input through a buffer a forked cell would not see (Lines).

The protocol is that of the C servers (common/serve.c); this is the same
loop in Python.
"""
from __future__ import annotations

import ctypes
import json
import mmap
import os
import select
import signal
import sys

from pyshim.protocol import EXIT_FAILURE, EXIT_USAGE, SERVE, emit, end_fields, left
from pyshim.protocol import StepDeadline

MAX_LINE = 16 * 1024 * 1024
PR_SET_PDEATHSIG = 1
REQUEST_KEYS = {"cell", "args", "script"}


class Lines:
    """Lines of a descriptor read with os.read: no buffer but this one,
    which fork copies, so a cell goes on with what the server read ahead
    and the server forgets it (forget)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""
        self.eof = False

    def next(self, deadline: float | None = None) -> str | None:
        """The next line without its newline; None at EOF. A deadline
        (time.monotonic seconds) raises StepDeadline when it passes."""
        while b"\n" not in self.buf and not self.eof:
            if deadline is not None:
                ready = select.select([self.fd], [], [], left(deadline))[0]
                if not ready:
                    raise StepDeadline("deadline passed waiting on standard input")
            chunk = os.read(self.fd, 65536)
            self.buf += chunk
            self.eof = not chunk
        if not self.buf:
            return None
        line, sep, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def forget(self) -> None:
        self.buf = b""


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"SIG{n}"


def _end(status: str, message: str | None, code: int | None,
         sig: str | None = None) -> None:
    """An end line the server prints on a cell's behalf."""
    line = {"end": status}
    if message:
        line["message"] = message
        print(f"shim: cell {SERVE.cell}: {message}", file=sys.stderr, flush=True)
    emit(end_fields(line, code, sig))


def _request(line: str) -> dict | None:
    """The request, None for a stray marker; ValueError names the problem."""
    try:
        req = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"request: not JSON: {exc}") from None
    if isinstance(req, dict) and set(req) == {"marker"}:
        return None
    if not isinstance(req, dict):
        raise ValueError("request: expected a JSON object")
    if isinstance(req.get("cell"), str):
        SERVE.cell = req["cell"]
    unknown = sorted(set(req) - REQUEST_KEYS)
    if unknown:
        raise ValueError(f"request: unknown field '{unknown[0]}'")
    if not isinstance(req.get("cell"), str):
        raise ValueError("request: field 'cell': a string is required")
    args = req.get("args")
    if not isinstance(args, list) or not all(isinstance(x, str) for x in args):
        raise ValueError("request: field 'args': an array of strings is required")
    if "script" not in req:
        raise ValueError("request: field 'script' is required")
    return req


class Server:
    def __init__(self, server_argv: list[str], run_cell):
        self.server_argv = server_argv
        self.run_cell = run_cell
        self.input = Lines(0)
        self.ended = mmap.mmap(-1, 1)  # shared with every forked cell
        self.libc = ctypes.CDLL(None, use_errno=True)

    def _child(self, req: dict, server: int) -> None:
        self.libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        code = EXIT_FAILURE
        try:
            if os.getppid() == server:
                code = self.run_cell(self.server_argv, req["args"], req["script"],
                                     self.input)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _report(self, status: int) -> None:
        if self.ended[0]:
            return
        if os.WIFSIGNALED(status):
            sig = _signal_name(os.WTERMSIG(status))
            print(f"shim: cell {SERVE.cell}: its process died of {sig}", file=sys.stderr,
                  flush=True)
            _end("crash", None, None, sig)
            return
        code = os.waitstatus_to_exitcode(status)
        _end("error", f"the cell's process exited with code {code} without an end line",
             code)

    def cell(self, req: dict) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.ended[0] = 0
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            self._child(req, server)
        self.input.forget()  # what was read ahead is the cell's
        _, status = os.waitpid(pid, 0)
        self._report(status)

    def line(self, line: str) -> None:
        SERVE.active, SERVE.cell, SERVE.ended = True, None, self.ended
        try:
            req = _request(line)
            if req is None:
                print(f"shim: a marker arrived between cells and was dropped: {line}",
                      file=sys.stderr, flush=True)
            else:
                self.cell(req)
        except ValueError as exc:
            _end("error", str(exc), EXIT_USAGE)
        finally:
            SERVE.active, SERVE.cell = False, None


def _own_process_group() -> None:
    """One kill of the group ends the server and its running cell; a shell
    with job control already gives a job its own group (and a group that
    is not the terminal's would be stopped reading it)."""
    if not os.isatty(0) and os.getpgrp() != os.getpid():
        os.setpgid(0, 0)


def serve(server_argv: list[str], run_cell) -> int:
    _own_process_group()
    server = Server(server_argv, run_cell)
    while (line := server.input.next()) is not None:
        if len(line) > MAX_LINE:
            SERVE.active = True
            _end("error", "request: the line is longer than 16 MiB", EXIT_USAGE)
            SERVE.active = False
        elif line.strip():
            server.line(line)
    return 0
