"""Black-box mode (`tlsclose probe`): the mock peer against a running endpoint.

The endpoint's own steps are unknown, so only cases with a [probe] table
apply (harness.spec.probe_spec), and only what the wire shows is judged: the
probe's `must` / `must_not` patterns (its own, else the case's [expect.rfc]
ones) and the peer's own `expect` events. Outcomes, byte counts and api
checks need the endpoint's steps and are never evaluated here.

Contract:
- `open_target(connect=..., listen=..., client_cmd=...)` returns a `Target`
  or raises UsageError. connect: a running TLS server at HOST:PORT; the peer
  (a TLS client) connects to it once per cell. listen: the harness listens on
  127.0.0.1:PORT (0: a free port, put where the command says {port}) and
  starts the client command once per cell; the peer (a TLS server) takes the
  first connection that arrives. `Target.close()` closes the listening socket.
- `probe_cells(cases, target, tls)` lists the cells in a stable order.
- `run_probe(cells, target, env, progress)` runs them one after the other
  (one endpoint, one port) and returns a runner.RunOutcome whose results have
  the results.json cell shape, with io "blackbox" and stack `probe:HOST:PORT`.
- Every process it starts (the peer; the client command, which runs in its
  own process group with everything it starts) is killed and reaped on every
  path, Ctrl-C, SIGTERM and SIGHUP included. Every wait has the cell's
  deadline.
- The endpoint's exit status is not judged (a client may exit 1 after a
  fatal alert); a client command that ends before connecting is an ERROR.
"""
from __future__ import annotations

import dataclasses
import json
import os
import selectors
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.spec.case import Case
from harness.run.interrupt import Interrupt
from harness.run.processes import GRACE_S, ProcessResult, parse_lines, signal_name
from harness.run.checks import group_checks
from harness.run.evaluate import (Judgement, end_message, last_output, peer_finish_error,
                                  peer_position, tail,
                                  verdict_from_checks)
from harness.base.problems import UsageError
from harness.run.runner import Environment, Progress, RunOutcome

IO = "blackbox"
OPPOSITE = {"client": "server", "server": "client"}
MIN_PEER_MS = 100            # the least run budget worth handing to the peer
CLIENT_TAIL = 4000


@dataclasses.dataclass
class Target:
    mode: str                          # "connect" or "listen"
    host: str
    port: int
    spec: str                          # as given: HOST:PORT, or the --listen port
    template: str = ""                 # listen: the client command as given
    listener: socket.socket | None = None

    @property
    def endpoint_role(self) -> str:
        return "server" if self.mode == "connect" else "client"

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def name(self) -> str:
        return f"probe:{self.address}"

    @property
    def command(self) -> str:
        return self.template.replace("{port}", str(self.port))

    def reproduce(self) -> list[str]:
        if self.mode == "connect":
            return ["--connect", self.spec]
        return ["--listen", self.spec, "--client-cmd", self.template]

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None


def _connect_target(spec: str) -> Target:
    host, sep, port = spec.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(f"--connect {spec}: expected HOST:PORT with a port 1..65535")
    return Target("connect", host, int(port), spec)


def _listen_target(port: int, command: str) -> Target:
    if not 0 <= port <= 65535:
        raise UsageError(f"--listen {port}: expected a port 0..65535")
    if not command.strip():
        raise UsageError("--listen needs --client-cmd: the command that connects to the port")
    if port == 0 and "{port}" not in command:
        raise UsageError("--listen 0 picks a free port: the --client-cmd must say where it goes "
                         "({port})")
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # A fixed port must be reusable right after an earlier run left TIME_WAIT behind.
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", port))
        lst.listen(8)
        lst.setblocking(False)
    except OSError as exc:
        lst.close()
        raise UsageError(f"--listen {port}: cannot listen on 127.0.0.1:{port}: {exc.strerror}")
    return Target("listen", "127.0.0.1", lst.getsockname()[1], str(port), command, lst)


def open_target(connect: str | None = None, listen: int | None = None,
                client_cmd: str | None = None) -> Target:
    if (connect is None) == (listen is None):
        raise UsageError("probe needs exactly one of --connect HOST:PORT and --listen PORT")
    if connect is not None:
        if client_cmd:
            raise UsageError("--client-cmd goes with --listen, not --connect")
        return _connect_target(connect)
    return _listen_target(listen, client_cmd or "")


# -- cells -------------------------------------------------------------------------

@dataclasses.dataclass
class ProbeCell:
    case: Case
    tls: str
    role: str                          # the endpoint's TLS role
    stack: str

    @property
    def id(self) -> str:
        return f"{self.case.id}/{self.stack}/tls{self.tls}/{IO}/{self.role}"


def probe_cells(cases: list[Case], target: Target, tls: tuple[str, ...]) -> list[ProbeCell]:
    cells = []
    for case in sorted(cases, key=lambda c: c.id):
        spec = case.probe
        if spec is None or target.endpoint_role not in spec["roles"]:
            continue
        cells += [ProbeCell(case, v, target.endpoint_role, target.name)
                  for v in spec["tls"] if v in tls]
    return cells


def stack_entry(target: Target) -> dict:
    what = "server" if target.mode == "connect" else "client"
    entry = {"title": f"black-box {what} at {target.address}", "api": "native", "file": "",
             "library": "", "available": True, "hint": "",
             "probe": {"mode": target.mode, "endpoint": target.address, "role": what}}
    if target.mode == "listen":
        entry["probe"]["client_cmd"] = target.command
    return entry


def _base_result(cell: ProbeCell, target: Target) -> dict:
    command = shlex.join(["./tlsclose", "probe", *target.reproduce(), "--case", cell.case.id,
                          "--tls", cell.tls])
    return {"id": cell.id, "case": cell.case.id, "stack": cell.stack, "tls": cell.tls,
            "io": IO, "role": cell.role, "verdict": None, "reason": "", "peer": cell.case.peer,
            "ops": [], "wire": [], "checks": [], "notes": [], "duration_ms": 0.0,
            "command": command, "stderr": {"peer": "", "sut": ""}, "argv": None}


# -- processes -----------------------------------------------------------------------

class _Children:
    """The processes of one cell. Leaving the block kills and reaps them all;
    the client command's whole process group goes with it."""

    def __init__(self):
        self.procs: list[tuple[subprocess.Popen, bool]] = []

    def __enter__(self):
        return self

    def start(self, argv: list[str], group: bool = False, **kw) -> subprocess.Popen:
        p = subprocess.Popen(argv, start_new_session=group, **kw)
        self.procs.append((p, group))
        return p

    def kill(self, p: subprocess.Popen, group: bool) -> None:
        try:
            if group:
                # The shell may be gone while what it started lives on.
                os.killpg(p.pid, signal.SIGKILL)
            elif p.poll() is None:
                p.kill()
        except ProcessLookupError:
            pass
        p.wait()

    def __exit__(self, *exc) -> None:
        for p, group in self.procs:
            self.kill(p, group)
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream is not None:
                    stream.close()


class _Streams:
    """Reads several pipes at once into buffers, so that no child ever
    blocks on a full pipe while we wait for something else. A signal noted
    by `interrupt` ends any wait with KeyboardInterrupt."""

    def __init__(self, interrupt: Interrupt):
        self.sel = selectors.DefaultSelector()
        self.bufs: dict[str, bytearray] = {}
        self.open: set[str] = set()
        self.interrupt = interrupt
        self.sel.register(interrupt.r, selectors.EVENT_READ, "interrupt")

    def add(self, name: str, stream) -> None:
        os.set_blocking(stream.fileno(), False)
        self.sel.register(stream, selectors.EVENT_READ, name)
        self.bufs[name] = bytearray()
        self.open.add(name)

    def watch(self, name: str, fileobj) -> None:
        """Something to wake up for that is not read here (a listening socket)."""
        self.sel.register(fileobj, selectors.EVENT_READ, name)

    def unwatch(self, fileobj) -> None:
        self.sel.unregister(fileobj)

    def pump(self, deadline: float, interruptible: bool = True) -> set[str]:
        """One round: reads what is ready; returns the names of watched
        objects that are ready and of streams that ended. Empty at the deadline."""
        events = set()
        if interruptible:
            self.interrupt.check()
        left = deadline - time.monotonic()
        if left <= 0:
            return events
        for key, _ in self.sel.select(timeout=min(left, 3600)):
            name = key.data
            if name == "interrupt":
                if interruptible:
                    self.interrupt.check()
                continue
            if name not in self.bufs:
                events.add(name)
                continue
            chunk = os.read(key.fileobj.fileno(), 65536)
            if chunk:
                self.bufs[name].extend(chunk)
            else:
                self.sel.unregister(key.fileobj)
                self.open.discard(name)
                events.add(name)
        return events

    def drain(self) -> None:
        """Reads what is already there, without waiting (also on the way out
        of an interrupted cell)."""
        self.pump(time.monotonic() + 0.001, interruptible=False)

    def text(self, name: str) -> str:
        return self.bufs.get(name, bytearray()).decode("utf-8", "replace")

    def close(self) -> None:
        self.sel.close()


@dataclasses.dataclass
class _Run:
    peer: ProcessResult | None = None
    client_argv: list[str] | None = None
    client_output: str = ""
    error: str | None = None           # why the peer never ran


def _peer_argv(cell: ProbeCell, env: Environment, transport: list[str], script: str,
               budget_ms: int) -> list[str]:
    argv = [str(env.peer), "--role", OPPOSITE[cell.role], "--tls", cell.tls,
            "--cert", str(env.cert), "--key", str(env.key)]
    if cell.tls in cell.case.cipher:
        argv += ["--cipher", cell.case.cipher[cell.tls]]
    return argv + transport + ["--script", script, "--deadline-ms", str(budget_ms)]


def _drain_backlog(lst: socket.socket) -> None:
    """Connections a previous cell's client left in the backlog belong to
    no cell: close them so this cell's peer gets this cell's client."""
    while True:
        try:
            conn, _ = lst.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.close()


def _accept(lst: socket.socket) -> socket.socket | None:
    try:
        conn, _ = lst.accept()
    except (BlockingIOError, InterruptedError):
        return None
    conn.setblocking(True)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _wait_for_client(target: Target, streams: _Streams, deadline: float) -> socket.socket | str:
    """The connection the client command opened, or why there is none."""
    streams.watch("listen", target.listener)
    try:
        while True:
            events = streams.pump(deadline)
            if not events and time.monotonic() >= deadline:
                return "the client command opened no connection before the deadline"
            if "listen" in events or "client" in events:
                # A client that connected and exited at once left its
                # connection in the backlog: take it before giving up.
                conn = _accept(target.listener)
                if conn is not None:
                    return conn
            if "client" in events:
                return "the client command ended before it connected"
    finally:
        streams.unwatch(target.listener)


def _collect_peer(peer: subprocess.Popen, argv: list[str], streams: _Streams,
                  deadline: float) -> ProcessResult:
    killed = False
    while {"peer_out", "peer_err"} & streams.open:
        if not streams.pump(deadline) and time.monotonic() >= deadline:
            if killed:
                break              # something still holds the pipe: stop reading
            if peer.poll() is None:
                peer.kill()
                killed = True
            deadline = time.monotonic() + GRACE_S
    peer.wait()
    good, bad = parse_lines(streams.text("peer_out"))
    return ProcessResult(argv, peer.returncode, signal_name(peer.returncode), good, bad,
                         streams.text("peer_err"), killed)


def _execute(cell: ProbeCell, env: Environment, target: Target, interrupt: Interrupt) -> _Run:
    start = time.monotonic()
    deadline = start + cell.case.deadline_ms / 1000.0
    run = _Run()
    with tempfile.TemporaryDirectory(prefix="tlsclose-probe-") as tmp, _Children() as kids:
        script = os.path.join(tmp, "peer.json")
        Path(script).write_text(json.dumps(cell.case.peer))
        streams = _Streams(interrupt)
        try:
            transport, conn = ["--connect", target.address], None
            if target.mode == "listen":
                _drain_backlog(target.listener)
                run.client_argv = ["/bin/sh", "-c", target.command]
                client = kids.start(run.client_argv, group=True, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                streams.add("client", client.stdout)
                got = _wait_for_client(target, streams, deadline)
                if isinstance(got, str):
                    run.error = got
                    return run
                conn, transport = got, ["--fd", str(got.fileno())]
            budget = max(MIN_PEER_MS, int((deadline - time.monotonic()) * 1000))
            argv = _peer_argv(cell, env, transport, script, budget)
            try:
                peer = kids.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  pass_fds=(conn.fileno(),) if conn else ())
            finally:
                if conn is not None:
                    conn.close()       # the peer's copy is the only one: its close is a FIN
            streams.add("peer_out", peer.stdout)
            streams.add("peer_err", peer.stderr)
            hard = time.monotonic() + budget / 1000.0 + GRACE_S
            run.peer = _collect_peer(peer, argv, streams, hard)
        finally:
            if "client" in streams.open:
                streams.drain()
            run.client_output = streams.text("client")
            streams.close()
    return run


# -- verdicts -----------------------------------------------------------------------

def _process_verdict(cell: ProbeCell, peer: ProcessResult) -> Judgement | None:
    where = peer_position(peer)
    if peer.signal and not peer.killed:
        return Judgement("CRASH", f"peer killed by {peer.signal} in {where}; "
                                  f"last output: {last_output(peer)}")
    if peer.killed:
        return Judgement("TIMEOUT", f"peer did not end by the deadline ({cell.case.deadline_ms}"
                                    f" ms) and was killed in {where}")
    if peer.returncode == 3:
        return Judgement("TIMEOUT", f"peer timed out in {where}: {end_message(peer)}")
    return peer_finish_error(peer)


def judge(cell: ProbeCell, peer: ProcessResult) -> Judgement:
    broken = _process_verdict(cell, peer)
    if broken:
        return broken
    checks = [c for g in cell.case.probe["rfc"]
              for c in group_checks("rfc", cell.case, g, cell.tls, {}, peer.lines)]
    return verdict_from_checks(checks, [])


def run_one(cell: ProbeCell, env: Environment, target: Target, setup: str | None,
            interrupt: Interrupt) -> dict:
    result = _base_result(cell, target)
    if setup:
        result.update(verdict="ERROR", reason=setup)
        return result
    start = time.monotonic()
    try:
        run = _execute(cell, env, target, interrupt)
    except OSError as exc:
        result.update(verdict="ERROR", reason=f"cannot start the cell: {exc}")
        return result
    client_tail = tail(run.client_output, chars=CLIENT_TAIL)
    result.update(duration_ms=round((time.monotonic() - start) * 1000.0, 1),
                  stderr={"peer": "", "sut": client_tail})
    if run.peer is None:
        last = client_tail.strip().splitlines()[-1:] or ["no output"]
        result.update(verdict="ERROR", reason=f"{run.error} (its last output: {last[0][:200]})",
                      argv={"peer": None, "sut": run.client_argv})
        return result
    j = judge(cell, run.peer)
    result.update(wire=run.peer.lines, verdict=j.verdict, reason=j.reason, checks=j.checks,
                  notes=j.notes, stderr={"peer": tail(run.peer.stderr), "sut": client_tail},
                  argv={"peer": run.peer.argv, "sut": run.client_argv})
    return result


def run_probe(cells: list[ProbeCell], target: Target, env: Environment,
              progress: Progress | None = None) -> RunOutcome:
    setup = env.setup_problem()
    out = []
    # SIGTERM and SIGHUP too: the client command runs in its own session and
    # would outlive a harness that died without killing it.
    with Interrupt() as interrupt:
        try:
            for cell in cells:
                interrupt.check()
                out.append(run_one(cell, env, target, setup, interrupt))
                if progress:
                    progress.update(out[-1])
        except KeyboardInterrupt:
            return RunOutcome(out, interrupted=True)
        finally:
            if progress:
                progress.finish()
    return RunOutcome(out)
