"""The runner's contract around the steps: command line, script validation,
skip and timeout endings (docs/shim-protocol.md §1, §2, §6)."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from harness.run.processes import tcp_pair
from support.cells import matrix


def lines_of(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def run_script(runner, tmp_path, steps, io="nonblocking", extra=(), fds=()):
    """The shim with a connected socket whose other end stays silent; the
    script is rejected before any IO, so nothing waits on it."""
    path = tmp_path / "steps.json"
    path.write_text(steps if isinstance(steps, str) else json.dumps(steps))
    a, b = tcp_pair()
    with a, b:
        args = ["--role", "client", "--tls", "1.3", "--io", io, "--fd", str(b.fileno()),
                "--cert", str(runner.progs.cert), "--key", str(runner.progs.key),
                "--script", str(path), "--deadline-ms", "3000", *extra]
        return subprocess.run([str(runner.progs.shim), *args], capture_output=True, text=True,
                              timeout=10, pass_fds=(b.fileno(), *fds))


def test_version_line(runner):
    runner.expect_version("openssl", "openssl", "OpenSSL 3.", serve=True)


@pytest.mark.parametrize("args,needle", [
    (["--role", "client"], "--tls is required"),
    (["--role", "cilent", "--tls", "1.3"], "--role"),
    (["--tls", "1.4"], "--tls"),
    (["--bogus", "1"], "unknown argument '--bogus'"),
    (["--role"], "--role needs a value"),
])
def test_bad_command_line_exit_2(runner, args, needle):
    rc, lines, stderr = runner.alone(args)
    assert rc == 2, (lines, stderr)
    end = lines[-1]
    assert end["end"] == "error" and needle in end["message"], end
    assert needle in stderr, stderr


@pytest.mark.parametrize("steps,needle", [
    ('[{"op": "handshake"', "JSON ends too early"),
    ({"op": "handshake"}, "expected a JSON array"),
    ([], "no steps"),
    ([{"op": "handshake"}, {"op": "handshaek"}], "step 2: unknown op 'handshaek'"),
    ([{"op": "write", "bytes": 10, "nowiat": True}], "step 1 (write): unknown field 'nowiat'"),
    ([{"nowait": True}], "step 1: field 'op' is required"),
    ([{"op": "write"}], "step 1 (write): field 'bytes' is required"),
    ([{"op": "write", "bytes": -1}], "step 1 (write): field 'bytes'"),
    ([{"op": "write", "bytes": "10"}], "step 1 (write): field 'bytes': expected an integer"),
    ([{"op": "read", "until": "eof"}], "step 1 (read): field 'until'"),
    ([{"op": "read", "bytes": 5, "until": "close"}], "'bytes' and 'until' exclude each other"),
    ([{"op": "write", "bytes": 5, "until_blocked": True, "nowait": True}], "exclude each other"),
    ([{"op": "handshake", "timeout_ms": 0}], "step 1 (handshake): field 'timeout_ms'"),
    ([{"op": "signal_peer"}], "step 1 (signal_peer): field 'marker'"),
    ([{"op": "plaintext_read", "text": ""}], "step 1 (plaintext_read): field 'text'"),
    ([{"op": "get_error_after"}], "step 1 (get_error_after): the previous step must call"),
    ([{"op": "free_without_shutdown"}, {"op": "read"}], "step 2 (read): the TLS object was freed"),
    ([{"op": "close_transport"}, {"op": "plaintext_write", "text": "x"}],
     "step 2 (plaintext_write): the transport was closed"),
    ([{"op": "handshake"}, {"op": "resume"}], "step 2 (resume): no --fd left"),
])
def test_bad_script_exit_2(runner, tmp_path, steps, needle):
    proc = run_script(runner, tmp_path, steps)
    assert proc.returncode == 2, proc
    end = lines_of(proc)[-1]
    assert end["end"] == "error" and needle in end["message"], (needle, end)


def test_marker_steps_need_their_pipes(runner, tmp_path):
    proc = run_script(runner, tmp_path, [{"op": "wait_peer", "marker": "go"}])
    assert proc.returncode == 2, proc
    assert "needs --marker-in" in lines_of(proc)[-1]["message"], proc.stdout


@pytest.mark.parametrize("steps,io,needle", [
    ([{"op": "handshake"}, {"op": "shutdown_full"}], "nonblocking",
     "step 2 (shutdown_full): openssl has no one-call bidirectional shutdown"),
    ([{"op": "handshake"}, {"op": "write", "bytes": 10, "until_blocked": True}], "blocking",
     "step 2 (write): until_blocked needs --io nonblocking or memory"),
])
def test_unsupported_skip_77(runner, tmp_path, steps, io, needle):
    proc = run_script(runner, tmp_path, steps, io=io)
    assert proc.returncode == 77, proc
    lines = lines_of(proc)
    assert lines[0]["io"] == io, lines
    end = lines[-1]
    assert end["end"] == "skip" and end["step"] == 2 and needle in end["message"], end
    assert not [line for line in lines if "op" in line], "no step may run before a skip"


@pytest.mark.parametrize("io", matrix(roles=None, versions=None))
def test_silent_peer_read_times_out_exit_3(runner, io):
    """A read from a peer that stays silent ends at the step deadline on the
    shim's own, long before the harness would kill it."""
    peer = {"actions": [{"do": "expect_silence", "timeout_ms": 4000}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "read", "timeout_ms": 300}]
    t0 = time.monotonic()
    cell = runner.cell("client", "1.3", io, steps, peer, deadline_ms=6000)
    cell.expect_exit(3)
    assert not cell.sut.killed, cell.describe()
    end = cell.end
    assert end["end"] == "timeout" and end["step"] == 2, cell.describe()
    assert "step 2 (read)" in end["message"], end
    line = cell.expect_step(2, outcome="error:timeout")
    assert 250 <= line["ms"] < 1500, cell.describe()
    # The SUT's FIN ends the peer's wait as well: the whole cell is quick.
    assert time.monotonic() - t0 < 3.0, cell.describe()


def test_run_deadline_bounds_every_step(runner, tmp_path):
    """A step timeout beyond the run's deadline is cut to the run deadline.
    The other ends of the socket and of the marker pipe stay open and
    silent, so only the deadline can end the wait."""
    r, w = os.pipe()
    try:
        t0 = time.monotonic()
        proc = run_script(runner, tmp_path,
                          [{"op": "wait_peer", "marker": "never", "timeout_ms": 60000}],
                          extra=["--marker-in", str(r), "--deadline-ms", "700"], fds=(r,))
        elapsed = time.monotonic() - t0
    finally:
        os.close(r)
        os.close(w)
    assert proc.returncode == 3, proc
    step, end = lines_of(proc)[-2:]
    assert step["outcome"] == "error:timeout" and step["native"] is None, step
    assert end["step"] == 1 and "run deadline passed" in end["message"], end
    assert 0.6 < elapsed < 2.0, elapsed
