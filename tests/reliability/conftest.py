"""Shared helpers of the reliability tests: the build to use, the front door
run as a real subprocess (signals, process trees and exit codes are what is
under test), a small case directory, and /proc inspection."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STACKS = HERE / "stacks"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = "/usr/bin/python3"

# A minimal valid case; {deadline} and {applies} are filled in by tests.
CASE = """\
id = "{id}"
title = "A reliability probe"
cites = ["S1"]
refs = ["SSL_shutdown(3) DESCRIPTION"]
why = "Used by the reliability tests only: what matters is how the processes end."
deadline_ms = {deadline}

[applies]
tls = {tls}
io = ["blocking"]
roles = ["client"]

[peer]
personality = "well-behaved"

[[steps]]
op = "handshake"

[[steps]]
op = "shutdown"
label = "close"

[expect.rfc.outcomes]
close = "sent"
"""


def build_dir() -> Path:
    return Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build").resolve()


@pytest.fixture(scope="session")
def build() -> Path:
    b = build_dir()
    for need in (b / "bin" / "tlsclose-peer", b / "credentials" / "cert.pem"):
        if not need.exists():
            pytest.fail(f"{need} is missing: build the project first (TLSCLOSE_BUILD_DIR={b})")
    return b


def write_case(directory: Path, case_id: str = "reliability-probe", deadline: int = 1500,
               tls: tuple[str, ...] = ("1.3",)) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{case_id}.toml"
    path.write_text(CASE.format(id=case_id, deadline=deadline, tls=json.dumps(list(tls))))
    return directory


def tlsclose(*args, build: Path) -> list[str]:
    """The argv of a front-door run with this build (no install, no build)."""
    return [PYTHON, str(ROOT / "tlsclose"), args[0], "--no-build", "--build-dir", str(build),
            *map(str, args[1:])]


def run_tlsclose(*args, build: Path, env: dict | None = None, timeout: float = 120):
    return subprocess.run(tlsclose(*args, build=build), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


# -- /proc: processes and listening sockets ----------------------------------------

def pids_with_env(tag: str) -> set[int]:
    """Processes whose environment holds TAG (every child of a tagged run
    inherits it)."""
    found = set()
    needle = tag.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    found.add(int(entry))
        except OSError:
            continue
    return found


def socket_inodes(pid: int) -> set[int]:
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(int(target[8:-1]))
    except OSError:
        pass
    return out


def listening_inodes() -> set[int]:
    """Inodes of every TCP socket in LISTEN state (state 0A)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A":
                out.add(int(cols[9]))
    return out
