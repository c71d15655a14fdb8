"""Fixtures for the Python ssl and Go crypto/tls shims' tests: one cell = the
mock peer and a shim over loopback TCP (harness/cell.py).

Programs are looked up in $TLSCLOSE_BIN (ctest sets it to its build's bin
directory), else in build/bin of the repository; the credentials come from
$TLSCLOSE_CERT / $TLSCLOSE_KEY, else from the credentials directory beside
that bin directory. The Python shim runs from the source tree with
/usr/bin/python3, as the stack files run it.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.cell import run_cell  # noqa: E402
from pygo_cells import Cell, python_shim_cmd  # noqa: E402

DEADLINE_MS = 8000
OTHER_ROLE = {"client": "server", "server": "client"}


@dataclasses.dataclass
class Programs:
    peer: pathlib.Path
    go_shim: pathlib.Path
    cert: pathlib.Path
    key: pathlib.Path


def _programs() -> Programs:
    bin_dir = pathlib.Path(os.environ.get("TLSCLOSE_BIN", ROOT / "build" / "bin"))
    cred = bin_dir.parent / "credentials"
    return Programs(bin_dir / "tlsclose-peer", bin_dir / "tlsclose-shim-go",
                    pathlib.Path(os.environ.get("TLSCLOSE_CERT", cred / "cert.pem")),
                    pathlib.Path(os.environ.get("TLSCLOSE_KEY", cred / "key.pem")))


@pytest.fixture(scope="session")
def programs() -> Programs:
    p = _programs()
    missing = [str(f) for f in (p.peer, p.cert, p.key) if not f.exists()]
    if missing:
        pytest.skip("not built: " + ", ".join(missing))
    return p


def _runner(programs: Programs, shim_cmd: list[str]):
    def run(role: str, tls: str, io: str, sut_script: list, peer_script: dict,
            connections: int = 1, deadline_ms: int = DEADLINE_MS, transport: str = "fd",
            extra: tuple = (), peer_extra: tuple = ()) -> Cell:
        common = ["--tls", tls, "--cert", str(programs.cert), "--key", str(programs.key)]
        peer_cmd = [str(programs.peer), "--role", OTHER_ROLE[role], *common, *peer_extra]
        sut_cmd = [*shim_cmd, "--role", role, "--io", io, *common, *extra]
        return Cell(run_cell(peer_cmd, sut_cmd, peer_script, sut_script,
                             connections=connections, deadline_ms=deadline_ms,
                             transport=transport))
    return run


@pytest.fixture
def py_cell(programs):
    """py_cell(role, tls, io, sut_script, peer_script, connections=1,
    deadline_ms=8000, ragged=False) -> Cell; role is the SUT's."""
    def run(*args, ragged: bool = False, **kwargs) -> Cell:
        return _runner(programs, python_shim_cmd(ragged))(*args, **kwargs)
    return run


@pytest.fixture
def go_cell(programs):
    """go_cell(role, tls, sut_script, peer_script, ...) -> Cell (blocking)."""
    if not programs.go_shim.exists():
        pytest.skip(f"not built: {programs.go_shim} (needs golang-go)")

    def run(role: str, tls: str, *args, **kwargs) -> Cell:
        return _runner(programs, [str(programs.go_shim)])(role, tls, "blocking", *args, **kwargs)
    return run
