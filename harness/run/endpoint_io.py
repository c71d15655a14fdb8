"""Processes of an endpoint run (`tlsclose endpoints`): starting them, reading
their output, waiting with deadlines, stopping and reaping them.

Contract:
- `Children(pipes)` is a context: every process started through it runs in
  its own session (so a terminal's Ctrl-C reaches only the harness) with its
  output on pipes that `pipes` reads; leaving the context, or `stop(p)`,
  sends SIGTERM to the process group, waits at most STOP_GRACE_S for the
  leader, then SIGKILLs the whole group and reaps the leader. Nothing started
  here outlives the context, on any path.
- `Pipes(interrupt)` reads every registered pipe into a buffer as data
  arrives, so that no child blocks on a full pipe whatever we wait for. Its
  waits (`until_exit`, `until_match`) end at their deadline; a SIGINT,
  SIGTERM or SIGHUP noted by the Interrupt ends them with
  KeyboardInterrupt, at a point where every child is known.
- No sleeps: a wait returns when a process exits (pidfd), a pipe has data or
  ends, or the deadline passes.
"""
from __future__ import annotations

import dataclasses
import os
import re
import selectors
import signal
import subprocess
import time


STOP_GRACE_S = 3.0


@dataclasses.dataclass
class Proc:
    """A started process and the names of its output buffers."""
    popen: subprocess.Popen
    name: str
    pidfd: int
    killed: bool = False           # we killed it at a deadline
    stopped: bool = False          # we stopped it (SIGTERM/SIGKILL) because we were done

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def signal_name(self) -> str | None:
        rc = self.popen.returncode
        if rc is None or rc >= 0:
            return None
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"


class Pipes:
    def __init__(self, interrupt):
        self.sel = selectors.DefaultSelector()
        self.bufs: dict[str, bytearray] = {}
        self.open: set[str] = set()
        self.exited: set[str] = set()
        self.interrupt = interrupt
        self.sel.register(interrupt.r, selectors.EVENT_READ, ("interrupt", None))

    def add(self, name: str, stream) -> None:
        os.set_blocking(stream.fileno(), False)
        self.sel.register(stream, selectors.EVENT_READ, ("pipe", name))
        self.bufs[name] = bytearray()
        self.open.add(name)

    def watch_exit(self, proc: Proc) -> None:
        self.exited.discard(proc.name)          # names are reused cell after cell
        self.sel.register(proc.pidfd, selectors.EVENT_READ, ("exit", proc.name))

    def forget(self, proc: Proc) -> None:
        for key in list(self.sel.get_map().values()):
            kind, name = key.data
            if name is not None and (name == proc.name or name.startswith(proc.name + ":")):
                self.sel.unregister(key.fileobj)
                self.open.discard(name)

    def pump(self, deadline: float, interruptible: bool = True) -> None:
        """One round: reads what is ready and notes exits; returns at the
        deadline at the latest."""
        if interruptible:
            self.interrupt.check()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        for key, _ in self.sel.select(timeout=min(left, 3600)):
            kind, name = key.data
            if kind == "interrupt":
                if interruptible:
                    self.interrupt.check()
            elif kind == "exit":
                self.sel.unregister(key.fileobj)
                self.exited.add(name)
            else:
                chunk = os.read(key.fileobj.fileno(), 65536)
                if chunk:
                    self.bufs[name].extend(chunk)
                else:
                    self.sel.unregister(key.fileobj)
                    self.open.discard(name)

    def drain(self) -> None:
        self.pump(time.monotonic() + 0.001, interruptible=False)

    def text(self, name: str, start: int = 0, end: int | None = None) -> str:
        return bytes(self.bufs.get(name, b""))[start:end].decode("utf-8", "replace")

    def size(self, name: str) -> int:
        return len(self.bufs.get(name, b""))

    def until_exit(self, procs: list[Proc], deadline: float) -> bool:
        """Waits until every process exited and its pipes ended; False at the
        deadline (nothing is killed here)."""
        def done() -> bool:
            return all(p.name in self.exited and not any(
                n.startswith(p.name + ":") for n in self.open) for p in procs)
        while not done():
            if time.monotonic() >= deadline:
                return False
            self.pump(deadline)
        for p in procs:
            p.popen.wait()
        return True

    def until_match(self, proc: Proc, pattern: re.Pattern, deadline: float,
                    start: int = 0) -> re.Match | None:
        """The first match of pattern in the process's output from `start`;
        None when it exits or the deadline passes without one."""
        while True:
            text = self.text(proc.name + ":out", start)
            m = pattern.search(text)
            if m:
                return m
            if proc.name in self.exited or time.monotonic() >= deadline:
                return None
            self.pump(deadline)

    def close(self) -> None:
        self.sel.close()


class Children:
    def __init__(self, pipes: Pipes):
        self.pipes = pipes
        self.procs: list[Proc] = []

    def __enter__(self) -> "Children":
        return self

    def start(self, name: str, argv: list[str], stdin=subprocess.DEVNULL, merge: bool = True,
              **kw) -> Proc:
        """Starts argv with stdout (and stderr, unless merge is False: then
        "NAME:err") read into "NAME:out"."""
        popen = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                                 start_new_session=True, **kw)
        try:
            pidfd = os.pidfd_open(popen.pid)
        except OSError:
            self._kill_group(popen)
            raise
        proc = Proc(popen, name, pidfd)
        self.procs.append(proc)
        self.pipes.add(name + ":out", popen.stdout)
        if not merge:
            self.pipes.add(name + ":err", popen.stderr)
        self.pipes.watch_exit(proc)
        return proc

    @staticmethod
    def _kill_group(popen: subprocess.Popen) -> None:
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        popen.wait()

    def stop(self, proc: Proc, deadline: float | None = None) -> None:
        """SIGTERM to its group, then SIGKILL once the grace (or deadline)
        is over; reaps it and closes its pipes."""
        if proc.popen.poll() is None:
            proc.stopped = True
            try:
                os.killpg(proc.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(timeout=max(0.0, min(STOP_GRACE_S, (deadline or 1e18)
                                                     - time.monotonic())))
            except subprocess.TimeoutExpired:
                pass
        self._kill_group(proc.popen)       # what it started dies with it
        self.pipes.drain()
        self.pipes.forget(proc)
        self._close(proc)

    def kill(self, proc: Proc) -> None:
        """At a deadline: SIGKILL the group at once."""
        if proc.popen.poll() is None:
            proc.killed = True
        self._kill_group(proc.popen)

    def _close(self, proc: Proc) -> None:
        for stream in (proc.popen.stdin, proc.popen.stdout, proc.popen.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        if proc.pidfd >= 0:
            os.close(proc.pidfd)
            proc.pidfd = -1
        if proc in self.procs:
            self.procs.remove(proc)

    def release(self, proc: Proc) -> None:
        """A process that exited and was read to its end: closes what is left."""
        self._kill_group(proc.popen)
        self.pipes.forget(proc)
        self._close(proc)

    def __exit__(self, *exc) -> None:
        for proc in list(self.procs):
            self._kill_group(proc.popen)
            self.pipes.forget(proc)
            self._close(proc)
