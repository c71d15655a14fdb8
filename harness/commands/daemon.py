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
  line {"exit": N, "output": "what `tlsclose run` would print"}. A line
  that is not such a request is answered with exit 2 and runs nothing. Requests
  run concurrently; their cells share the daemon's persistent servers
  (harness.run.servers.Pool) and a `-j N` bound on cells in flight.
- `stop --socket PATH`: asks the daemon to end and returns once it has: its
  servers reaped, what it cost written to PATH.stats.json
  (harness.base.paths.daemon_stats: it is no child of whoever ran ctest),
  its socket removed (bounded by STOP_WAIT_S). A missing daemon is not an
  error; a stale socket (nobody listens) is removed.
- A daemon that ends (stop, its watched process gone, idle) ends the cells
  still running in it: its requests in flight get no answer.
- `start` on a path that exists and is not a socket, or where no socket can
  be bound, is a usage error naming the path; a stale socket there is
  replaced. A daemon that ends removes its socket only if it is still its
  own (a newer daemon may have taken the path meanwhile).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import selectors
import signal
import socket
import stat
import sys
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
STOP_WAIT_S = 60       # `stop` waits this long for the daemon to have ended
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
    def __init__(self, listener: socket.socket, jobs: int, path: Path):
        self.listener = listener
        self.pool = servers.Pool()
        self.slots = threading.BoundedSemaphore(jobs)
        self.jobs = jobs
        self.stopping = threading.Event()
        self.path = path
        self.inode = os.stat(path).st_ino
        self.stoppers: list = []          # stop requests, answered once the daemon ended
        self.lock = threading.Lock()

    def handle(self, conn: socket.socket) -> None:
        f = conn.makefile("rwb")
        try:
            try:
                request = json.loads(f.readline() or b"{}")
            except ValueError:
                request = {}
            request = request if isinstance(request, dict) else {}
            if request.get("stop"):
                with self.lock:
                    self.stoppers.append((conn, f))
                self.stopping.set()
                os.write(self.wake_w, b"x")
                return                    # serve() answers after its cleanup
            argv = request.get("argv")
            if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
                answer = self.run(argv)
            else:                         # never the default matrix for a garbled line
                answer = {"exit": 2, "output": "tlsclose daemon: a request is one line "
                                               "{\"argv\": [run arguments...]}\n"}
            f.write((json.dumps(answer) + "\n").encode())
            f.flush()
        except OSError:
            pass                          # the client went away
        f.close()
        conn.close()

    def _finish(self) -> None:
        """Servers reaped, the cost written, socket removed (if it is still
        ours), then the stop requests answered: `stop` returns when the
        daemon is done, and whoever stopped it can read what it cost."""
        self.pool.close()
        _write_stats(daemon_stats(self.path))
        self.listener.close()
        try:
            if os.stat(self.path).st_ino == self.inode:
                self.path.unlink()
        except OSError:
            pass
        with self.lock:
            stoppers, self.stoppers = self.stoppers, []
        for conn, f in stoppers:
            try:
                f.write(b'{"exit": 0, "output": "stopped\\n"}\n')
                f.flush()
            except OSError:
                pass
            f.close()
            conn.close()

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
        try:
            if watch_pid:
                try:
                    sel.register(os.pidfd_open(watch_pid), selectors.EVENT_READ, "watched")
                except OSError:
                    return           # the watched process is already gone
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
            self._finish()


def _start(args) -> int:
    path = args.socket
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(path):
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise UsageError(f"--socket {path}: exists and is not a socket")
        _stop(args)                   # a daemon there ends first; a stale socket goes
        path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
    except OSError as exc:
        listener.close()
        raise UsageError(f"--socket {path}: cannot listen there: {exc.strerror or exc}")
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
        _end_own_group()


def _end_own_group() -> None:
    """The daemon leads its process group (setsid); the processes of cells
    still running (a request in flight when the watched process ended or a
    stop came) are in it. They end with the daemon instead of running on as
    orphans; their clients get no answer, which they report as an error."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.killpg(os.getpgid(0), signal.SIGTERM)
    except OSError:
        pass
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
    path = args.socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(STOP_WAIT_S)
            sock.connect(str(path))
            sock.sendall(b'{"stop": true}\n')
            sock.recv(4096)           # after the daemon's cleanup, or its end
    except FileNotFoundError:
        pass                          # no daemon there: nothing to stop
    except ConnectionRefusedError:
        if os.path.lexists(path) and stat.S_ISSOCK(path.lstat().st_mode):
            path.unlink(missing_ok=True)          # stale: its daemon ended without it
    except TimeoutError:
        print(f"tlsclose daemon: {path}: the daemon did not confirm its end within "
              f"{STOP_WAIT_S} s", file=sys.stderr)
        return EXIT_BROKEN
    except OSError:
        pass                          # it ended while we asked
    return 0


def run(args, argv: list[str]) -> int:
    if args.action == "start":
        return _start(args)
    return _stop(args)

