"""`tlsclose daemon start|stop` (harness/commands/daemon.py) and the ctest
client that talks to it (tools/ctest_client.c), with the fake peer and shim:
a request through a started daemon, `stop` that returns once the daemon and
its servers are gone, a stale socket that is an error naming it, a missing
one that makes the client run the harness itself, and a daemon that ends
during a request: the client reports an error, it does not hang."""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import uuid

import pytest

from harness.output import results
from support.build import BIN, PYTHON, ROOT
from support.harness_files import VALID_CASE, write_case, write_stack
from support.procfs import pids_with_env, processes_with

CLIENT = BIN / "tlsclose-ctest-client"
WAIT_S = 60            # bounds every wait of this file; a pass takes a few seconds

pytestmark = pytest.mark.skipif(not CLIENT.exists(), reason=f"not built: {CLIENT}")


def daemon(action: str, sock, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, str(ROOT / "tlsclose"), "daemon", action, "--socket",
                           str(sock), *map(str, extra)], capture_output=True, text=True,
                          timeout=WAIT_S, cwd=ROOT)


def client(sock, *run_args, popen: bool = False):
    argv = [str(CLIENT), str(sock), PYTHON, str(ROOT / "tlsclose"), *map(str, run_args)]
    if popen:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT)
    return subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S, cwd=ROOT)


def wait_gone(pids) -> bool:
    """Whether every process of pids ended within WAIT_S (pidfds: no polling)."""
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            if not select.select([fd], [], [], WAIT_S)[0]:
                return False
        finally:
            os.close(fd)
    return True


def daemon_pids(sock) -> list[int]:
    return processes_with(f"daemon start --socket {sock}")


@pytest.fixture
def setup(tmp_path, fake_build):
    """A case, a stack tagged with a token every process it starts inherits,
    and the run arguments of one cell; the daemon is stopped at the end."""
    token = f"TLSCLOSE_TEST_TOKEN={uuid.uuid4().hex}"
    cases = write_case(tmp_path / "cases", VALID_CASE.replace(
        "[peer]", "deadline_ms = 20000\n\n[peer]")).parent
    sock = tmp_path / "d.sock"

    def stack(name: str, **env: str) -> list[str]:
        key, value = token.split("=")
        env_text = "{" + ", ".join(f'{k} = "{v}"' for k, v in {key: value, **env}.items()) + "}"
        path = write_stack(tmp_path / "stacks", name=name, env=env_text)
        return ["--no-build", "--cases-dir", cases, "--build-dir", fake_build,
                "--stack-file", path, "--tls", "1.3", "--io", "blocking", "--role", "client",
                "--no-report", "--out", tmp_path / f"out-{name}"]
    yield sock, stack, token
    daemon("stop", sock)
    gone = wait_gone(pids_with_env(token))
    for pid in pids_with_env(token):                      # never leave them behind
        os.kill(pid, signal.SIGKILL)
    assert gone, "processes of the test outlived it"


def test_start_one_request_stop(setup, tmp_path, fake_build):
    sock, stack, token = setup
    started = daemon("start", sock, "-j", "2")
    assert started.returncode == 0, started.stderr
    assert sock.is_socket()                       # bound before `start` returned
    (pid,) = daemon_pids(sock)
    done = client(sock, *stack("served", FAKE_SERVE="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith(f"1 cells; results: {tmp_path}/out-served/results.json\n")
    (cell,) = results.load(tmp_path / "out-served" / "results.json")["cells"]
    assert cell["verdict"] == "PASS"
    # The daemon's pool keeps the servers of the request for the next one.
    servers = pids_with_env(token)                # the shim servers (the stack's env)
    peer_server = f"{fake_build}/bin/tlsclose-peer --serve"
    assert servers and pid not in servers and processes_with(peer_server)
    failing = client(sock, *stack("failing", FAKE_SERVE="1", FAKE_OUTCOME_2="complete"))
    assert failing.returncode == 1 and "FAIL failing: [model S10]" in failing.stdout
    stopped = daemon("stop", sock)
    # `stop` returns once the daemon has ended: servers reaped, socket removed.
    assert stopped.returncode == 0, stopped.stderr
    assert not sock.exists()
    assert wait_gone([pid]) and not pids_with_env(token) and not processes_with(peer_server)


def test_a_stale_socket_is_an_error_naming_it(setup, tmp_path):
    sock, stack, _ = setup
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as left:
        left.bind(str(sock))                      # a daemon that died left its socket
    done = client(sock, *stack("fake"))
    assert done.returncode == 3
    assert f"tlsclose-ctest-client: {sock}: no daemon answers on this socket " \
           "(Connection refused)" in done.stderr
    assert not (tmp_path / "out-fake").exists()   # no run behind the error's back
    # `stop` removes a stale socket; without one the client runs the harness itself.
    assert daemon("stop", sock).returncode == 0 and not sock.exists()
    done = client(sock, *stack("fake"))
    assert done.returncode == 0, done.stderr
    assert results.load(tmp_path / "out-fake" / "results.json")["cells"][0]["verdict"] == "PASS"


def test_start_refuses_a_path_that_is_not_a_socket(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("mine\n")
    done = daemon("start", path)
    assert done.returncode == 2
    assert f"--socket {path}: exists and is not a socket" in done.stderr
    assert path.read_text() == "mine\n"


def test_start_replaces_a_stale_socket(setup):
    sock, stack, _ = setup
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as left:
        left.bind(str(sock))
    assert daemon("start", sock).returncode == 0
    assert client(sock, *stack("fake")).returncode == 0


def test_the_daemon_ending_during_a_request_is_an_error_not_a_hang(setup, tmp_path):
    """The daemon watches a process (ctest); when it ends, the daemon ends too,
    with a request in flight: its cell's processes end with it and the
    client says it got no answer."""
    sock, stack, token = setup
    watched = subprocess.Popen(["sleep", str(WAIT_S * 2)])
    try:
        assert daemon("start", sock, "--watch-pid", watched.pid).returncode == 0
        (pid,) = daemon_pids(sock)
        fifo = tmp_path / "ready"
        os.mkfifo(fifo)
        ready = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            # The cell would hang far longer than this file waits for anything.
            request = client(sock, *stack("hang", FAKE_MODE="hang", FAKE_READY=str(fifo),
                                          FAKE_HANG_S=str(WAIT_S * 10)), popen=True)
            # The fake shim writes to the FIFO once its cell hangs in step 2.
            assert select.select([ready], [], [], WAIT_S)[0], "the cell never started"
        finally:
            os.close(ready)
        watched.kill()
        watched.wait()
        out, err = request.communicate(timeout=WAIT_S)
    finally:
        watched.kill()
        watched.wait()
    assert request.returncode == 3, out + err
    assert f"tlsclose-ctest-client: no answer from the daemon at {sock}" in err
    assert wait_gone([pid]) and not sock.exists()
    assert wait_gone(pids_with_env(token))        # the hanging cell ended with the daemon


class OneShotServer:
    """A socket that accepts one request and answers with `answer` (None:
    closes without a word), standing in for a daemon that breaks."""

    def __init__(self, path, answer: bytes | None):
        self.lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lst.bind(str(path))
        self.lst.listen(1)
        self.answer, self.request = answer, None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.lst.accept()
        with conn, conn.makefile("rb") as f:
            self.request = json.loads(f.readline())
            if self.answer is not None:
                conn.sendall(self.answer)

    def close(self) -> None:
        self.thread.join(WAIT_S)
        self.lst.close()


@pytest.mark.parametrize("answer, message", [
    (None, "no answer from the daemon at {sock}"),
    (b"garbage\n", "the daemon's answer is not readable: garbage"),
    (b'{"exit": 1}\n', "the daemon's answer is not readable"),
])
def test_the_client_reports_a_broken_answer(tmp_path, answer, message):
    sock = tmp_path / "d.sock"
    server = OneShotServer(sock, answer)
    try:
        done = client(sock, "--case", "x", "--stack", "y")
    finally:
        server.close()
    assert server.request == {"argv": ["--case", "x", "--stack", "y"]}
    assert done.returncode == 3
    assert message.format(sock=sock) in done.stderr


def test_the_client_passes_output_and_exit_through(tmp_path):
    sock = tmp_path / "d.sock"
    server = OneShotServer(sock, b'{"exit": 1, "output": "a summary\\n"}\n')
    try:
        done = client(sock, "--case", "x")
    finally:
        server.close()
    assert (done.returncode, done.stdout) == (1, "a summary\n")


def test_stop_without_a_daemon_is_fine(tmp_path):
    done = daemon("stop", tmp_path / "none.sock")
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.parametrize("line", [b"garbage\n", b"[1, 2]\n", b'{"args": []}\n',
                                  b'{"argv": ["--case", 7]}\n'])
def test_a_request_that_is_not_one_runs_nothing(setup, line):
    """A line without an argv list is refused: `run` without arguments would
    be the whole default matrix."""
    sock, stack, _ = setup
    assert daemon("start", sock).returncode == 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(WAIT_S)
        s.connect(str(sock))
        s.sendall(line)
        answer = json.loads(s.makefile("rb").readline())
    assert answer == {"exit": 2, "output": 'tlsclose daemon: a request is one line '
                                           '{"argv": [run arguments...]}\n'}
    assert client(sock, *stack("fake")).returncode == 0          # and it still serves
