"""Running cells: command lines, a pool of workers, progress.

Contract: `run_cells(cells, env, jobs, progress)` runs every cell that is not
a skip (each through harness.run.processes.run_cell, which bounds it by the case's
deadline and reaps both children on every path) and returns one result dict
per cell, in the cells' order, in the shape of results.json "cells"
(docs/results-format.md). A cell whose processes cannot even start is an
ERROR result, never an exception. On KeyboardInterrupt the cells not started
are dropped, the running ones finish (their children are bounded by their
deadlines) and `RunOutcome.interrupted` is set. SIGTERM and SIGHUP are
turned into the same interruption while cells run (when called from the
main thread). `deadline_s` bounds the whole run: when it passes, running
cells are cut short (TIMEOUT naming the step they were in), cells not
started are TIMEOUT "not started", and `RunOutcome.deadline_passed` is set.
Either way every child is killed and reaped before run_cells returns.
`mode` "persistent" (the default) runs the cells of stacks whose shim
supports it through per-worker servers (harness.run.servers); "per-process"
starts a peer and a shim for every cell. `pool`: servers to use and keep
(the daemon's, shared by its requests); by default the run has its own and
reaps them at its end. `limiter` bounds the cells in flight across runs.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import shlex
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from harness.run import processes as cellrun
from harness.run import servers
from harness.run.evaluate import Judgement, judge, sut_position, tail
from harness.run.matrix import Cell
from harness.run.detect import StackInfo

PEER_PROGRAM = "tlsclose-peer"


@dataclasses.dataclass
class Environment:
    """Where the built programs and credentials are."""
    root: Path
    build_dir: Path

    @property
    def bin_dir(self) -> Path:
        return self.build_dir / "bin"

    @property
    def peer(self) -> Path:
        return self.bin_dir / PEER_PROGRAM

    @property
    def cert(self) -> Path:
        return self.build_dir / "credentials" / "cert.pem"

    @property
    def key(self) -> Path:
        return self.build_dir / "credentials" / "key.pem"

    def setup_problem(self) -> str | None:
        """Why no cell can run at all, or None."""
        if not os.access(self.peer, os.X_OK):
            return f"mock peer not built: {self.peer} (build target {PEER_PROGRAM})"
        for path in (self.cert, self.key):
            if not path.is_file():
                return f"test credentials missing: {path} (build target credentials)"
        return None


@dataclasses.dataclass
class RunOutcome:
    results: list[dict]
    interrupted: bool = False
    deadline_passed: bool = False

    @property
    def incomplete(self) -> bool:
        return self.interrupted or self.deadline_passed


OPPOSITE = {"client": "server", "server": "client"}


# Cells in parallel per core. A cell is a relay between its two processes and
# the harness: most of the time one of them runs while the others wait for it,
# so one cell keeps about one core half busy. Two cells per core keep the cores
# busy (docs/performance.md: the default matrix 5.9-6.2 s with one per core,
# 4.6-5.1 s with two, the same verdicts); a step's deadline is seconds, far
# beyond what sharing a core adds to a cell.
CELLS_PER_CORE = 2


def default_jobs() -> int:
    """Cells run in parallel by default: CELLS_PER_CORE per core."""
    return CELLS_PER_CORE * (os.cpu_count() or 1)


def peer_argv(cell: Cell, env: Environment) -> list[str]:
    argv = [str(env.peer), "--role", OPPOSITE[cell.role], "--tls", cell.tls,
            "--cert", str(env.cert), "--key", str(env.key)]
    if cell.tls in cell.case.cipher:
        argv += ["--cipher", cell.case.cipher[cell.tls]]
    return argv


def sut_argv(cell: Cell, env: Environment) -> list[str]:
    return cell.stack.argv(env.bin_dir, env.root) + [
        "--role", cell.role, "--tls", cell.tls, "--io", cell.io,
        "--cert", str(env.cert), "--key", str(env.key)]


def reproduce_command(cell: Cell) -> str:
    """The front-door command that runs exactly this cell again."""
    stack = ["--stack", cell.stack.name] if cell.stack.source == "name" \
        else ["--stack-file", cell.stack.file]
    return shlex.join(["./tlsclose", "run", *stack, "--case", cell.case.id, "--tls", cell.tls,
                       "--io", cell.io, "--role", cell.role])


def base_result(cell: Cell) -> dict:
    return {"id": cell.id, "case": cell.case.id, "stack": cell.stack.name, "tls": cell.tls,
            "io": cell.io, "role": cell.role, "verdict": None, "reason": "",
            "peer": cell.case.peer, "ops": [], "wire": [], "checks": [], "notes": [],
            "duration_ms": 0.0, "command": reproduce_command(cell),
            "stderr": {"peer": "", "sut": ""}, "argv": None}


def _with(result: dict, j: Judgement) -> dict:
    result.update(verdict=j.verdict, reason=j.reason, checks=j.checks, notes=j.notes)
    return result


@dataclasses.dataclass
class Stop:
    """Set on Ctrl-C: cells not started yet are not started, running ones
    are cut short through the cancel pipe run_cell watches. `pool` holds the
    servers of persistent mode (None: every cell starts two processes)."""
    event: threading.Event
    cancel_fd: int | None = None
    deadline_s: float | None = None   # set when the run's --deadline ended it
    pool: servers.Pool | None = None


MODES = ("persistent", "per-process")


def _served(cell: Cell, env: Environment, stop: Stop, base_env: dict) -> cellrun.CellRun:
    """The cell through the worker's servers (docs/shim-protocol.md §8):
    the same programs and arguments, minus the per-process transport."""
    shim_argv = cell.stack.argv(env.bin_dir, env.root)
    slot = stop.pool.lease()
    try:
        peer, shim = stop.pool.servers(slot, [str(env.peer)],
                                       cell.stack.name + repr(cell.stack.env), shim_argv,
                                       base_env, {**base_env, **cell.stack.env})
        common = ["--deadline-ms", str(cell.case.deadline_ms)]
        return servers.run_served(
            peer, shim, cell.id, peer_argv(cell, env)[1:] + common, cell.case.peer,
            sut_argv(cell, env)[len(shim_argv):] + common, cell.case.sut_script(),
            cell.case.deadline_ms, stop.cancel_fd, cell.case.connections())
    finally:
        stop.pool.give_back(slot)


def _execute(cell: Cell, env: Environment, stop: Stop, info: StackInfo | None) -> cellrun.CellRun:
    base_env = dict(os.environ)
    if stop.pool is not None and info is not None and info.serve:
        return _served(cell, env, stop, base_env)
    return cellrun.run_cell(peer_argv(cell, env), sut_argv(cell, env), cell.case.peer,
                            cell.case.sut_script(), cell.case.connections(),
                            cell.case.deadline_ms, env=base_env,
                            sut_env={**base_env, **cell.stack.env},
                            transport=cell.stack.transport, cancel_fd=stop.cancel_fd)


def run_one(cell: Cell, env: Environment, info: StackInfo | None,
            setup_problem: str | None, stop: Stop) -> dict:
    result = base_result(cell)
    if cell.skip:
        return _with(result, Judgement("SKIP", cell.skip))
    if stop.event.is_set():
        return _with(result, Judgement("ERROR", "interrupted before it started"))
    problem = setup_problem or (info.error if info else None)
    if problem:
        return _with(result, Judgement("ERROR", problem))
    try:
        run = _execute(cell, env, stop, info)
    except OSError as exc:
        return _with(result, Judgement("ERROR", f"cannot start the cell: {exc}"))
    result.update(ops=run.sut.lines, wire=run.peer.lines, duration_ms=round(run.duration_ms, 1),
                  stderr={"peer": tail(run.peer.stderr), "sut": tail(run.sut.stderr)},
                  argv={"peer": run.peer.argv, "sut": run.sut.argv})
    if stop.event.is_set() and stop.deadline_s is not None and (run.sut.killed or
                                                                 run.peer.killed):
        return _with(result, Judgement("TIMEOUT", f"the run's deadline ({stop.deadline_s:g} s) "
                                                  f"passed; the shim was in "
                                                  f"{sut_position(cell, run.sut)}"))
    if stop.event.is_set() and stop.deadline_s is None:
        # Ctrl-C reached the children too: what they did is not the stack's.
        return _with(result, Judgement("ERROR", "interrupted"))
    library = _hello_library(run.sut.lines) or (info.library if info else None)
    return _with(result, judge(cell, run, library))


def _hello_library(lines: list[dict]) -> str | None:
    hello = next((line for line in lines if "shim" in line and "library" in line), None)
    return hello.get("library") if hello and isinstance(hello.get("library"), str) else None


class Progress:
    """One updating line on a terminal; silent otherwise."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.total, self.done, self.failed = total, 0, 0
        self.start = time.monotonic()
        self.lock = threading.Lock()

    def update(self, result: dict) -> None:
        with self.lock:
            self.done += 1
            if result["verdict"] not in ("PASS", "SKIP", "KNOWN"):
                self.failed += 1
            if self.enabled:
                self.stream.write(f"\r{self.done}/{self.total} cells  "
                                  f"{time.monotonic() - self.start:6.1f}s  "
                                  f"{self.failed} not passing ")
                self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _guarded(cell: Cell, *args) -> dict:
    try:
        return run_one(cell, *args)
    except Exception:  # a harness bug must not take the other cells down
        return _with(base_result(cell), Judgement("ERROR", "harness error: " +
                                                  traceback.format_exc(limit=3)))


def _limited(limiter: threading.Semaphore | None, cell: Cell, *args) -> dict:
    """A cell within a bound shared by several runs (the daemon's)."""
    if limiter is None:
        return _guarded(cell, *args)
    with limiter:
        return _guarded(cell, *args)


@contextlib.contextmanager
def _signals_interrupt():
    """SIGTERM and SIGHUP end the run as Ctrl-C does (children killed and
    reaped, partial results written) instead of killing the harness and
    orphaning them. Only the main thread may set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    # SIGINT keeps its handler but is saved too: _stop_all ignores it.
    old = {signal.SIGINT: signal.getsignal(signal.SIGINT)}
    old.update({s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)})
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


def _stop_all(stop: Stop, cancel_w: int, pool, futures: dict, results: dict) -> None:
    """Cuts every running cell short and waits for their children to be
    reaped; a second signal meanwhile must not abandon them."""
    stop.event.set()
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
    # Queued cells go first, so a worker freed by the cut below finds none.
    pool.shutdown(wait=False, cancel_futures=True)
    os.write(cancel_w, b"x")
    pool.shutdown(wait=True)
    for future, i in futures.items():
        if future.done() and not future.cancelled():
            results[i] = future.result()


def _not_started(cells: list[Cell], results: dict, deadline_s: float) -> None:
    for i, cell in enumerate(cells):
        if i not in results:
            results[i] = _with(base_result(cell), Judgement(
                "TIMEOUT", f"not started: the run's deadline ({deadline_s:g} s) passed"))


def run_cells(cells: list[Cell], env: Environment, infos: dict[str, StackInfo], jobs: int,
              progress: Progress | None = None, deadline_s: float | None = None,
              mode: str = "persistent", pool: servers.Pool | None = None,
              limiter: threading.Semaphore | None = None) -> RunOutcome:
    setup = env.setup_problem() if any(not c.skip for c in cells) else None
    cancel_r, cancel_w = os.pipe()
    own_pool = pool is None and mode == "persistent"
    stop = Stop(threading.Event(), cancel_r,
                pool=(servers.Pool() if own_pool else pool) if mode == "persistent" else None)
    results: dict[int, dict] = {}
    end = time.monotonic() + deadline_s if deadline_s is not None else None
    outcome = RunOutcome([])
    with _signals_interrupt():
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
        futures: dict = {}
        try:
            for i, cell in enumerate(cells):
                futures[pool.submit(_limited, limiter, cell, env, infos.get(cell.stack.name),
                                    setup, stop)] = i
            left = None if end is None else max(0.0, end - time.monotonic())
            for future in concurrent.futures.as_completed(futures, timeout=left):
                results[futures[future]] = future.result()
                if progress:
                    progress.update(results[futures[future]])
        except KeyboardInterrupt:
            _stop_all(stop, cancel_w, pool, futures, results)
            outcome.interrupted = True
        except concurrent.futures.TimeoutError:
            stop.deadline_s = deadline_s
            _stop_all(stop, cancel_w, pool, futures, results)
            _not_started(cells, results, deadline_s)
            outcome.deadline_passed = True
        finally:
            pool.shutdown(wait=True)
            if own_pool:
                stop.pool.close()
            os.close(cancel_r)
            os.close(cancel_w)
            if progress:
                progress.finish()
    outcome.results = [results[i] for i in sorted(results)]
    return outcome
