"""Crashes are verdicts and every cell is bounded: a shim or peer killed by
a signal gives CRASH with the signal name and its last output; a shim that
hangs gives TIMEOUT naming the step it hung on, within its deadline; the
run's --deadline cuts everything short. Real processes throughout: the mock
peer of the build against the small shims of shims/ (stack files in
stacks/)."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support.front_door import results, tlsclose
from support.harness_files import write_short_case
from support.procfs import pids_with_env

HERE = Path(__file__).resolve().parent
STACKS = HERE / "stacks"

ONE = ("--tls", "1.3", "--io", "blocking", "--role", "client")
RUN_S = 120           # every run here ends in seconds; this only bounds a bug


def tagged_env() -> tuple[str, dict]:
    tag = f"TLSCLOSE_RELIABILITY_TAG={uuid.uuid4().hex}"
    key, value = tag.split("=")
    return tag, {**os.environ, key: value}


@pytest.mark.parametrize("sig", ["SIGSEGV", "SIGABRT", "SIGBUS"])
def test_crashing_shim_is_crash_with_signal_and_last_output(build, tmp_path, sig):
    cases = write_short_case(tmp_path / "cases")
    env = {**os.environ, "CRASH_SIGNAL": sig}
    done = tlsclose("run", "--cases-dir", cases, "--stack-file", STACKS / "crash.toml",
                    *ONE, "--out", tmp_path / "out", build=build, env=env, timeout=RUN_S)
    assert done.returncode == 3, done.stdout + done.stderr
    (cell,) = results(tmp_path / "out")["cells"]
    assert cell["verdict"] == "CRASH"
    assert cell["reason"] == (f"shim killed by {sig} in step 1 (handshake); "
                              "last output: crash shim: giving up inside step 1")
    assert cell["stderr"]["sut"].strip() == "crash shim: giving up inside step 1"


def test_crashing_peer_is_crash_naming_the_peer(build, tmp_path):
    fake = tmp_path / "build"
    (fake / "bin").mkdir(parents=True)
    (fake / "credentials").symlink_to(build / "credentials")
    (fake / "bin" / "tlsclose-peer").symlink_to(HERE / "shims" / "crash_peer.py")
    (fake / "bin" / "tlsclose-shim-openssl").symlink_to(build / "bin" / "tlsclose-shim-openssl")
    cases = write_short_case(tmp_path / "cases")
    done = tlsclose("run", "--cases-dir", cases, "--stack", "openssl", *ONE,
                    "--out", tmp_path / "out", build=fake, timeout=RUN_S)
    assert done.returncode == 3, done.stdout + done.stderr
    (cell,) = results(tmp_path / "out")["cells"]
    assert cell["verdict"] == "CRASH", cell["reason"]
    assert cell["reason"] == ("peer killed by SIGABRT in before its first action (handshake); "
                              "last output: crash peer: aborting before the handshake")


def test_hanging_shim_times_out_naming_the_step(build, tmp_path):
    tag, env = tagged_env()
    cases = write_short_case(tmp_path / "cases", deadline=1500)
    start = time.monotonic()
    done = tlsclose("run", "--cases-dir", cases, "--stack-file", STACKS / "hang.toml",
                    *ONE, "--out", tmp_path / "out", build=build, env=env, timeout=RUN_S)
    took = time.monotonic() - start
    assert done.returncode == 3, done.stdout + done.stderr
    (cell,) = results(tmp_path / "out")["cells"]
    assert cell["verdict"] == "TIMEOUT"
    assert cell["reason"] == ("shim did not end by the deadline (1500 ms) and was killed in "
                              "step 1 (handshake)")
    # The deadline, the harness's grace second and start-up; never the shim's own whim.
    assert cell["duration_ms"] < 1500 + 1000 + 1500, cell["duration_ms"]
    assert took < 30
    assert not pids_with_env(tag.split("=")[1]), "a child of the run is still alive"


def test_run_deadline_cuts_running_cells_and_marks_unstarted_ones(build, tmp_path):
    tag, env = tagged_env()
    cases = write_short_case(tmp_path / "cases", deadline=60000, tls=TLS_VERSIONS)
    start = time.monotonic()
    done = tlsclose("run", "--cases-dir", cases, "--stack-file", STACKS / "hang.toml",
                    "--io", "blocking", "--role", "client", "-j", "1", "--deadline", "2",
                    "--out", tmp_path / "out", build=build, env=env, timeout=RUN_S)
    took = time.monotonic() - start
    assert done.returncode == 3, done.stdout + done.stderr
    assert took < 20, took
    doc = results(tmp_path / "out")
    assert doc["tool"]["incomplete"] is True
    reasons = sorted(c["reason"] for c in doc["cells"])
    assert [c["verdict"] for c in doc["cells"]] == ["TIMEOUT", "TIMEOUT"]
    assert reasons == ["not started: the run's deadline (2 s) passed",
                       "the run's deadline (2 s) passed; the shim was in step 1 (handshake)"]
    assert not pids_with_env(tag.split("=")[1]), "a child of the run is still alive"


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_bad_deadline_is_usage_error(build, tmp_path, value):
    done = tlsclose("run", "--deadline", value, "--out", tmp_path / "out", build=build,
                    timeout=RUN_S)
    assert done.returncode == 2 and "--deadline" in done.stderr
    assert not (tmp_path / "out").exists()
