"""Fixtures for the mbedTLS shim's tests: one cell = the mock peer and the
shim over loopback TCP (tests/stackcells.py, where programs are looked up).
Without the shim (mbedTLS not installed) every test is skipped: the stack is
optional.
"""
from __future__ import annotations

import pytest

import mbedtls_cells  # noqa: F401  (puts tests/ on sys.path)
from stackcells import Cell, Programs, built_or_skip, run_shim_cell


@pytest.fixture(scope="session")
def programs() -> Programs:
    return built_or_skip("tlsclose-shim-mbedtls")


@pytest.fixture
def cell(programs):
    """cell(role, io, sut_script, peer_script, connections=1, tls="1.2",
    sut_args=(), peer_args=()) -> Cell. role is the SUT's; the peer takes
    the other one."""
    def run(role: str, io: str, sut_script: list, peer_script: dict, connections: int = 1,
            tls: str = "1.2", sut_args=(), peer_args=()) -> Cell:
        return run_shim_cell(programs, role, tls, io, sut_script, peer_script,
                             connections=connections, sut_args=sut_args, peer_args=peer_args)
    return run
