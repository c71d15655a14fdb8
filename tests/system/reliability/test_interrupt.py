"""SIGINT or SIGTERM in the middle of a run: the harness stops, kills and
reaps every child, writes the partial results marked incomplete and exits
non-zero; afterwards no process of the run and no listening socket of it
is left (checked in /proc and with `ss -ltnp`)."""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support import front_door
from support.children import reaped
from support.front_door import results
from support.harness_files import write_short_case
from support.procfs import listening_inodes, pids_with_env, socket_inodes

STACKS = Path(__file__).resolve().parent / "stacks"

READY_WITHIN_S = 60
STOP_WITHIN_S = 20


def wait_ready(fifo_fd: int, proc: subprocess.Popen) -> int:
    """The hanging shim writes its pid into the FIFO once its cell runs."""
    end = time.monotonic() + READY_WITHIN_S
    data = b""
    while time.monotonic() < end and b"\n" not in data:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the cell started: {proc.communicate()}")
        readable, _, _ = select.select([fifo_fd], [], [], max(0.0, end - time.monotonic()))
        if readable:
            chunk = os.read(fifo_fd, 64)
            data += chunk
    assert b"\n" in data, "the cell never started"
    return int(data.split(b"\n")[0])


def ss_pids() -> set[int]:
    """Pids that `ss -ltnp` shows owning a listening TCP socket."""
    if not shutil.which("ss"):
        return set()
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, timeout=30).stdout
    pids = set()
    for part in out.split("pid=")[1:]:
        digits = part.split(",")[0]
        if digits.isdigit():
            pids.add(int(digits))
    return pids


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing_behind(build, tmp_path, sig):
    tag = uuid.uuid4().hex
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    fifo_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    out = tmp_path / "out"
    cases = write_short_case(tmp_path / "cases", deadline=60000, tls=TLS_VERSIONS)
    env = {**os.environ, "TLSCLOSE_RELIABILITY_TAG": tag, "TLSCLOSE_TEST_READY": str(fifo)}
    argv = front_door.argv("run", "--cases-dir", cases, "--stack-file", STACKS / "hang.toml",
                           "--io", "blocking", "--role", "client", "-j", "1", "--out", out,
                           build=build)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True, start_new_session=True)
    with reaped(proc, group=True):
        try:
            shim_pid = wait_ready(fifo_fd, proc)
            children = pids_with_env(tag) - {proc.pid}
            assert shim_pid in children and len(children) >= 2, children   # shim and peer
            listening = listening_inodes()
            held = {i for pid in children for i in socket_inodes(pid)} & listening
            assert held, "the peer should be waiting on a listening socket"
            started = time.monotonic()
            proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=STOP_WITHIN_S)
            took = time.monotonic() - started
        finally:
            os.close(fifo_fd)
    assert proc.returncode == 130, (stdout, stderr)
    assert took < 10, took
    assert not pids_with_env(tag), "a child of the interrupted run is still alive"
    assert not held & listening_inodes(), "a listening socket of the run is still open"
    assert not (children | {proc.pid}) & ss_pids()
    doc = results(out)
    assert doc["tool"]["incomplete"] is True
    assert "interrupted" in stdout
    # The cell that was running is reported; the one never started is not.
    assert [c["verdict"] for c in doc["cells"]] == ["ERROR"]
    assert doc["cells"][0]["reason"] == "interrupted"
    json.dumps(doc)  # well-formed to the end
