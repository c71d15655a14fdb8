"""Running one cell of an endpoint run: one scenario, one TLS version, the
mock peer against a real client or a running server.

Contract:
- `Plan` names a cell: `id` is SCENARIO/ENDPOINT/tlsV/endpoint/ROLE, so the
  endpoint, never a throwaway port, names every result.
- `run_client(plan, env, children, pipes)` listens on 127.0.0.1 port 0, hands
  the socket to the peer (a TLS server, --listen-fd: the client's connection
  waits in the backlog, so no readiness wait), starts the endpoint's command
  with {port}, {url}, {body} and {dir} filled in, writes its standard input,
  waits (bounded by the scenario's deadline) for both to end, kills what is
  left, and returns a `Raw` record: the peer's result, the client's exit
  status and whole output, and the body it saved.
- `run_server(plan, env, children, pipes, port)` runs the peer (a TLS
  client, --connect) against a running server; the request target is the
  endpoint's path for the method, tagged `cell=N` when a backend records
  what reached it.
- Both kill and reap everything they started before they return, on every
  path (Children); neither judges anything.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.run.endpoint_io import Children, Pipes, Proc
from harness.run.processes import GRACE_S, ProcessResult, parse_lines
from harness.run.runner import Environment
from harness.spec.endpoint import Endpoint
from harness.spec.scenario import Scenario

OPPOSITE = {"client": "server", "server": "client"}
IO = "endpoint"
OUTPUT_KEEP = 20000            # characters of an endpoint's output kept in a result


@dataclasses.dataclass
class Plan:
    scenario: Scenario
    endpoint: Endpoint
    tls: str
    tag: int                       # unique within the endpoint's run (backend requests)

    @property
    def id(self) -> str:
        return f"{self.scenario.id}/{self.endpoint.name}/tls{self.tls}/{IO}/{self.endpoint.role}"


@dataclasses.dataclass
class Raw:
    """What one run of a cell left behind, before any judgement."""
    peer: ProcessResult | None
    setup_error: str | None = None
    client_rc: int | None = None
    client_signal: str | None = None
    client_killed: bool = False
    client_output: str = ""        # standard error, then standard output
    client_stderr: str = ""
    client_stdout: bytes = b""
    body: bytes | None = None      # the file the client saved, if it did
    client_argv: list[str] | None = None
    duration_ms: float = 0.0


def _peer_result(proc: Proc, argv: list[str], pipes: Pipes) -> ProcessResult:
    good, bad = parse_lines(pipes.text(proc.name + ":out"))
    return ProcessResult(argv, None if proc.killed else proc.returncode, proc.signal_name(),
                         good, bad, pipes.text(proc.name + ":err"), proc.killed)


def script_for(plan: Plan) -> dict:
    """The scenario's script with the endpoint's request targets."""
    paths = plan.endpoint.paths()
    tagged = bool((plan.endpoint.server or {}).get("backend"))
    actions = []
    for action in plan.scenario.peer["actions"]:
        if action.get("do") == "http_send_request":
            target = paths[action.get("method", "GET")]
            if tagged:
                target += ("&" if "?" in target else "?") + f"cell={plan.tag}"
            action = {**action, "target": target}
        actions.append(action)
    return {**plan.scenario.peer, "actions": actions}


def _peer_argv(plan: Plan, env: Environment, script: Path, transport: list[str]) -> list[str]:
    return [str(env.peer), "--role", OPPOSITE[plan.endpoint.role], "--tls", plan.tls,
            "--cert", str(env.cert), "--key", str(env.key), "--script", str(script),
            *transport, "--deadline-ms", str(plan.scenario.deadline_ms)]


def _wait_all(procs: list[Proc], children: Children, pipes: Pipes, deadline: float) -> None:
    """Both end by themselves by the deadline (plus a grace), or are killed."""
    if not pipes.until_exit(procs, deadline + GRACE_S):
        for p in procs:
            if p.popen.poll() is None or p.name not in pipes.exited:
                children.kill(p)
        pipes.drain()


def client_values(plan: Plan, env: Environment, port: int, workdir: Path) -> dict[str, str]:
    return {"port": str(port), "url": f"https://127.0.0.1:{port}/", "body": str(workdir / "body"),
            "dir": str(workdir), "bin": str(env.bin_dir), "root": str(env.root),
            "cert": str(env.cert), "key": str(env.key)}


def run_client(plan: Plan, env: Environment, children: Children, pipes: Pipes) -> Raw:
    start = time.monotonic()
    deadline = start + plan.scenario.deadline_ms / 1000.0
    ep = plan.endpoint
    with tempfile.TemporaryDirectory(prefix="tlsclose-endpoint-") as tmp:
        workdir = Path(tmp)
        (workdir / "peer.json").write_text(json.dumps(script_for(plan)))
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            lst.bind(("127.0.0.1", 0))
            lst.listen(4)
            port = lst.getsockname()[1]
            peer_argv = _peer_argv(plan, env, workdir / "peer.json",
                                   ["--listen-fd", str(lst.fileno())])
            peer = children.start("peer", peer_argv, merge=False, pass_fds=(lst.fileno(),))
        finally:
            lst.close()                # the peer's copy is the only one now
        values = client_values(plan, env, port, workdir)
        argv = [ep.expand(w, values) for w in ep.command]
        environ = dict(os.environ, **{k: ep.expand(v, values) for k, v in ep.env.items()})
        try:
            client = children.start("client", argv, stdin=subprocess.PIPE, merge=False,
                                    cwd=workdir, env=environ)
        except OSError as exc:
            children.stop(peer)
            return Raw(None, setup_error=f"cannot start {argv[0]}: {exc.strerror or exc}")
        _feed_stdin(client, ep.stdin.encode() if ep.stdin else b"", ep.stdin_eof)
        _wait_all([peer, client], children, pipes, deadline)
        body = (workdir / "body").read_bytes() if (workdir / "body").is_file() else None
        raw = Raw(_peer_result(peer, peer_argv, pipes), client_rc=client.returncode,
                  client_signal=client.signal_name(), client_killed=client.killed,
                  client_output=(pipes.text("client:err") + pipes.text("client:out"))
                  [-OUTPUT_KEEP:],
                  client_stderr=pipes.text("client:err")[-OUTPUT_KEEP:],
                  client_stdout=bytes(pipes.bufs.get("client:out", b"")), body=body,
                  client_argv=argv)
        for p in (client, peer):
            children.release(p)
    raw.duration_ms = round((time.monotonic() - start) * 1000.0, 1)
    return raw


def _feed_stdin(proc: Proc, data: bytes, close: bool) -> None:
    """Writes the endpoint's input; a client that does not read it (or has
    exited) is not our problem here, its exit status will tell."""
    try:
        if data:
            proc.popen.stdin.write(data)
            proc.popen.stdin.flush()
        if close:
            proc.popen.stdin.close()
    except (BrokenPipeError, OSError):
        pass


def run_server(plan: Plan, env: Environment, children: Children, pipes: Pipes,
               port: int) -> Raw:
    start = time.monotonic()
    deadline = start + plan.scenario.deadline_ms / 1000.0
    with tempfile.TemporaryDirectory(prefix="tlsclose-endpoint-") as tmp:
        script = Path(tmp) / "peer.json"
        script.write_text(json.dumps(script_for(plan)))
        argv = _peer_argv(plan, env, script, ["--connect", f"127.0.0.1:{port}"])
        peer = children.start("peer", argv, merge=False)
        _wait_all([peer], children, pipes, deadline)
        raw = Raw(_peer_result(peer, argv, pipes))
        children.release(peer)
    raw.duration_ms = round((time.monotonic() - start) * 1000.0, 1)
    return raw
