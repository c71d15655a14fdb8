"""`tlsclose daemon start|stop`: one warm harness for many short runs.

The conformance matrix in ctest is one entry per case x stack; starting the
Python harness for each of them costs more than its cells. The ctest
fixture starts one daemon instead (`daemon start`), every entry is a thin
client (tools/ctest_client.c) that hands its `run` arguments to the daemon
and prints what it answers, and the fixture's cleanup stops it.

- `start --socket PATH [--watch-pid PID] [-j N]`: binds PATH (a Unix socket)
  BEFORE it returns, so a client started afterwards always finds it (no
  waiting for readiness), then leaves a daemon process in the background and
  exits 0. The daemon serves requests until `stop`, until process PID ends
  (ctest: the fixture's parent, watched through a pidfd, an event), or, as a
  last resort, after IDLE_S without a request.
- A request is one JSON line {"argv": [run arguments]}; the answer one JSON
  line {"exit": N, "output": "what `tlsclose run` would print"}. Requests
  run concurrently; their cells share the daemon's persistent servers
  (harness.run.servers.Pool) and a `-j N` bound on cells in flight.
- `stop --socket PATH`: asks the daemon to end (its servers are reaped) and
  removes the socket. A missing daemon is not an error.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import selectors
import socket
import threading
from pathlib import Path

from harness.base.paths import daemon_stats
from harness.base.problems import InvalidInput, ResultsError, UsageError
from harness.commands import run as run_command
from harness.run import runner, servers

NAME = "daemon"
HELP = "a warm harness for the ctest entries: daemon start|stop --socket PATH"
NEEDS_BUILD = False
IDLE_S = 900           # a daemon nobody stopped and nobody watches ends by itself
EXIT_BROKEN = 3


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("action", choices=("start", "stop"))
    p.add_argument("--socket", type=Path, required=True)
    p.add_argument("--watch-pid", type=int, default=None,
                   help="end when this process ends (default: the parent of `start`)")
    p.add_argument("-j", "--jobs", type=int, default=runner.default_jobs())
    p.add_argument("--log", type=Path, help="where the daemon writes its own messages")
    return p


class Daemon:
    def __init__(self, listener: socket.socket, jobs: int, socket_path: Path):
        self.listener = listener
        self.socket_path = socket_path
        self.pool = servers.Pool()
        self.slots = threading.BoundedSemaphore(jobs)
        self.jobs = jobs
        self.stopping = threading.Event()

    def handle(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as f:
            try:
                request = json.loads(f.readline() or b"{}")
            except ValueError:
                request = {}
            if request.get("stop"):
                # Answered only once the servers are gone and the cost is
                # written: whoever stopped the daemon can then read it.
                self.stopping.set()
                self.pool.close()
                _write_stats(daemon_stats(self.socket_path))
                answer = {"exit": 0, "output": "stopping\n"}
            else:
                answer = self.run(request.get("argv") or [])
            f.write((json.dumps(answer) + "\n").encode())
            f.flush()
        if self.stopping.is_set():
            os.write(self.wake_w, b"x")

    def run(self, argv: list[str]) -> dict:
        out = io.StringIO()
        parser = argparse.ArgumentParser(prog="tlsclose", add_help=False, exit_on_error=False)
        sub = parser.add_subparsers(dest="command", required=True)
        run_command.add_parser(sub).add_argument("--no-build", action="store_true")
        try:
            args = parser.parse_args(["run", *argv])
            args.jobs = min(args.jobs, self.jobs)
            code = run_command.execute(args, ["run", *argv], out, self.pool, self.slots)
        except (argparse.ArgumentError, SystemExit) as exc:
            return {"exit": 2, "output": f"tlsclose: {exc}\n"}
        except InvalidInput as exc:
            return {"exit": 2, "output": "\n".join(map(str, exc.problems)) + "\n"}
        except (UsageError, ResultsError) as exc:
            return {"exit": 2, "output": f"tlsclose: {exc}\n"}
        except Exception as exc:  # the daemon outlives one bad request
            return {"exit": EXIT_BROKEN, "output": f"tlsclose daemon: {type(exc).__name__}: "
                                                  f"{exc}\n"}
        return {"exit": code, "output": out.getvalue()}

    def serve(self, watch_pid: int | None) -> None:
        self.wake_r, self.wake_w = os.pipe()
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        if watch_pid:
            try:
                sel.register(os.pidfd_open(watch_pid), selectors.EVENT_READ, "watched")
            except OSError:
                return               # the watched process is already gone
        try:
            while not self.stopping.is_set():
                events = sel.select(timeout=IDLE_S)
                if not events:
                    break           # nobody asked for anything for IDLE_S
                for key, _ in events:
                    if key.data == "accept":
                        conn, _ = self.listener.accept()
                        threading.Thread(target=self.handle, args=(conn,), daemon=True).start()
                    elif key.data == "watched":
                        self.stopping.set()
        finally:
            sel.close()
            self.pool.close()


def _start(args) -> int:
    path = args.socket
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        _stop(args)
        path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    watch = args.watch_pid if args.watch_pid is not None else os.getppid()
    if os.fork() != 0:
        listener.close()
        return 0
    os.setsid()
    log = open(args.log or os.devnull, "ab", buffering=0)
    for fd in (0, 1, 2):
        os.dup2(log.fileno() if fd else os.open(os.devnull, os.O_RDONLY), fd)
    try:
        Daemon(listener, max(1, args.jobs), path).serve(watch)
    finally:
        listener.close()
        path.unlink(missing_ok=True)
        os._exit(0)


def _write_stats(path: Path) -> None:
    own, children = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    try:
        path.write_text(json.dumps({"cpu_s": round(cpu, 3), "pid": os.getpid()}) + "\n")
    except OSError:
        pass


def _stop(args) -> int:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(args.socket))
            sock.sendall(b'{"stop": true}\n')
            sock.recv(4096)
    except OSError:
        pass                         # no daemon there: nothing to stop
    return 0


def run(args, argv: list[str]) -> int:
    if args.action == "start":
        return _start(args)
    return _stop(args)

