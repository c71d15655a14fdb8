"""Starting a server endpoint and its backend, and stopping them
(docs/endpoints.md, "Servers").

Contract:
- `start(endpoint, env, children, pipes, workdir, deadline)` writes the
  endpoint's files into workdir (its generated config, `server.pem` with the
  certificate and the key, `index.txt` with the mock peer's body text),
  starts the backend when the endpoint has one and then the server, and
  returns a `Running` server with the port to connect to, or raises
  `StartError` naming what went wrong with the server's last output. The
  socket comes from the tool whenever the server takes one: an inherited
  descriptor ({listen_fd}), systemd socket activation (descriptor 3,
  LISTEN_FDS=1, LISTEN_PID = the server's pid), so connections wait in the
  backlog and no readiness wait is needed. A server that binds its own port
  is waited for by the line it prints (`ready`), never by sleeping; its port
  is a free one the tool picked, the `port` group of that line, or read from
  its own listening sockets (/proc).
- `stop(running, children, pipes, deadline)` stops the server (SIGTERM to its
  process group, then SIGKILL), then ends the backend (standard input
  closed: it finishes the connections in progress and exits) and returns
  the backend's request events, every one of them: a request the server
  passed on late is still seen. Every process is reaped by `children` on
  every path.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
from pathlib import Path

from harness.run.endpoint_io import Children, Pipes, Proc
from harness.run.runner import Environment
from harness.spec.endpoint import Endpoint

BODY_TEXT_BYTES = 20000
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
PYTHON = "/usr/bin/python3"
# Puts the inherited socket on descriptor 3 and names this very process in
# LISTEN_PID (the pid survives exec), as systemd's socket activation does.
SYSTEMD_EXEC = ("import os, sys\n"
                "fd = int(sys.argv[1])\n"
                "if fd != 3:\n    os.dup2(fd, 3)\n    os.close(fd)\n"
                "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))\n"
                "os.environ.pop('LISTEN_FDNAMES', None)\n"
                "os.execvp(sys.argv[2], sys.argv[2:])\n")


class StartError(Exception):
    """The server (or its backend) could not be started; the message says why."""


@dataclasses.dataclass
class Running:
    proc: Proc
    port: int
    workdir: Path
    backend: Proc | None = None
    holders: list = dataclasses.field(default_factory=list)   # what keeps stdin open


def body_text(n: int) -> bytes:
    """The mock peer's body text (peers/http.h): numbered 64-byte lines."""
    lines = (n + 63) // 64
    return "".join(f"{k:010d} {LETTERS}\n" for k in range(lines)).encode()[:n]


def _listener() -> socket.socket:
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    lst.set_inheritable(False)
    return lst


def _free_port() -> int:
    """A port nobody listens on now. Only for a server that cannot take a
    socket (apache2 without systemd support): it binds this port itself and
    says so before the first cell; a port taken in between makes it fail to
    start, which is reported, not retried."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_backend(env: Environment, children: Children, deadline: float) -> tuple[Proc, int]:
    lst = _listener()
    try:
        argv = [PYTHON, str(env.root / "endpoints" / "programs" / "backend.py"),
                "--fd", str(lst.fileno()), "--body-bytes", str(BODY_TEXT_BYTES)]
        proc = children.start("backend", argv, stdin=subprocess.PIPE, merge=False,
                              pass_fds=(lst.fileno(),))
        return proc, lst.getsockname()[1]
    finally:
        lst.close()               # the backend's copy is the only one now


def _write_files(endpoint: Endpoint, env: Environment, workdir: Path, values: dict) -> None:
    workdir.chmod(0o755)          # servers that drop privileges read their files here
    (workdir / "index.txt").write_bytes(body_text(BODY_TEXT_BYTES))
    pem = workdir / "server.pem"
    pem.write_bytes(env.cert.read_bytes() + env.key.read_bytes())
    pem.chmod(0o644)
    server = endpoint.server or {}
    if "config" in server:
        (workdir / server["config_file"]).write_text(endpoint.expand(server["config"], values))


def _proc_port(pid: int) -> int | None:
    """The port of an IPv4 socket the process listens on (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    with open(f"/proc/{pid}/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:      # 0A: LISTEN
                return int(parts[1].split(":")[1], 16)
    return None


def _server_argv(endpoint: Endpoint, values: dict, fd: int | None) -> list[str]:
    argv = [endpoint.expand(w, values) for w in endpoint.command]
    if (endpoint.server or {}).get("listen") == "systemd":
        return [PYTHON, "-c", SYSTEMD_EXEC, str(fd), *argv]
    return argv


def _wait_ready(endpoint: Endpoint, proc: Proc, pipes: Pipes, deadline: float) -> re.Match | None:
    pattern = (endpoint.server or {}).get("ready")
    if not pattern:
        return None
    m = pipes.until_match(proc, re.compile(pattern, re.M), deadline)
    if m is None:
        what = "exited" if proc.name in pipes.exited else "did not print it in time"
        raise StartError(f"{endpoint.name} never printed its ready line /{pattern}/ ({what}); "
                         f"its output: {_last(pipes, proc)}")
    return m


def _last(pipes: Pipes, proc: Proc, lines: int = 6) -> str:
    text = pipes.text(proc.name + ":out").strip().splitlines()[-lines:]
    return " | ".join(text)[-800:] or "nothing"


def start(endpoint: Endpoint, env: Environment, children: Children, pipes: Pipes,
          workdir: Path, deadline: float) -> Running:
    server = endpoint.server or {}
    values = {"dir": str(workdir), "bin": str(env.bin_dir), "root": str(env.root),
              "cert": str(env.cert), "key": str(env.key),
              "cert_and_key": str(workdir / "server.pem")}
    backend = None
    if server.get("backend"):
        backend, values["backend_port"] = _start_backend(env, children, deadline)
        values["backend_port"] = str(values["backend_port"])
    lst = _listener() if server["listen"] in ("fd", "systemd") else None
    try:
        if lst is not None:
            values.update(port=str(lst.getsockname()[1]), listen_fd=str(lst.fileno()))
        elif server.get("port") == "pick":
            values["port"] = str(_free_port())
        _write_files(endpoint, env, workdir, values)
        environ = dict(os.environ, **{k: endpoint.expand(v, values)
                                      for k, v in endpoint.env.items()})
        proc = children.start("server", _server_argv(endpoint, values, lst and lst.fileno()),
                              stdin=subprocess.PIPE, cwd=workdir, env=environ,
                              pass_fds=(lst.fileno(),) if lst else ())
    finally:
        if lst is not None:
            port = lst.getsockname()[1]
            lst.close()           # the server's copy is the only one: it alone accepts
    running = Running(proc, 0, workdir, backend)
    if endpoint.stdin:
        proc.popen.stdin.write(endpoint.stdin.encode())
        proc.popen.stdin.flush()
    if endpoint.stdin_eof:
        proc.popen.stdin.close()
    m = _wait_ready(endpoint, proc, pipes, deadline)
    if lst is not None:
        running.port = port
    elif server.get("port") == "pick":
        running.port = int(values["port"])
    elif server.get("port") == "ready":
        running.port = int(m.group("port"))
    else:
        found = _proc_port(proc.popen.pid)
        if found is None:
            raise StartError(f"{endpoint.name} printed its ready line but listens on no IPv4 "
                             f"TCP port; its output: {_last(pipes, proc)}")
        running.port = found
    if proc.name in pipes.exited or proc.popen.poll() is not None:
        raise StartError(f"{endpoint.name} exited at start ({proc.popen.returncode}); its "
                         f"output: {_last(pipes, proc)}")
    return running


def stop(running: Running, children: Children, pipes: Pipes, deadline: float) -> list[dict]:
    """Stops the server, then the backend; returns the backend's events."""
    children.stop(running.proc, deadline)
    if running.backend is None:
        return []
    backend = running.backend
    if backend.popen.stdin and not backend.popen.stdin.closed:
        backend.popen.stdin.close()
    if not pipes.until_exit([backend], deadline):
        children.kill(backend)
    pipes.drain()
    events = []
    for line in pipes.text("backend:out").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("ev") == "request":
            events.append(event)
    return events
