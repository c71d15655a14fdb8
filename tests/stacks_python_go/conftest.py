"""Fixtures for the Python ssl and Go crypto/tls shims' tests: one cell = the
mock peer and a shim over loopback TCP (tests/stackcells.py, where programs
are looked up). The Python shim runs from the source tree with
/usr/bin/python3, as the stack files run it.
"""
from __future__ import annotations

import pytest

from pygo_cells import python_shim_cmd
from stackcells import DEADLINE_MS, Cell, Programs, programs_for, run_shim_cell


@pytest.fixture(scope="session")
def programs() -> Programs:
    """The Go shim (programs.shim) is optional: go_cell checks it."""
    p = programs_for("tlsclose-shim-go")
    missing = p.missing(with_shim=False)
    if missing:
        pytest.skip("not built: " + ", ".join(missing))
    return p


def _runner(programs: Programs, shim_cmd: list[str]):
    def run(role: str, tls: str, io: str, sut_script: list, peer_script: dict,
            connections: int = 1, deadline_ms: int = DEADLINE_MS, transport: str = "fd",
            extra: tuple = (), peer_extra: tuple = ()) -> Cell:
        return run_shim_cell(programs, role, tls, io, sut_script, peer_script,
                             connections=connections, deadline_ms=deadline_ms,
                             transport=transport, sut_args=extra, peer_args=peer_extra,
                             shim_cmd=shim_cmd)
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
    if not programs.shim.exists():
        pytest.skip(f"not built: {programs.shim} (needs golang-go)")

    def run(role: str, tls: str, *args, **kwargs) -> Cell:
        return _runner(programs, [str(programs.shim)])(role, tls, "blocking", *args, **kwargs)
    return run
