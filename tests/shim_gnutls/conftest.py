"""Fixtures for the GnuTLS shim's tests: one cell = the mock peer and the
shim over loopback TCP (tests/stackcells.py, where programs are looked up).
A missing program skips the tests.
"""
from __future__ import annotations

import pytest

import gnutls_cells  # noqa: F401  (puts tests/ on sys.path)
from stackcells import Cell, Programs, built_or_skip, run_shim_cell


@pytest.fixture(scope="session")
def programs() -> Programs:
    return built_or_skip("tlsclose-shim-gnutls")


@pytest.fixture
def cell(programs):
    """cell(role, tls, io, sut_script, peer_script, connections=1, extra=()) -> Cell.

    role is the SUT's role; the peer takes the other one. extra: more
    arguments for the shim.
    """
    def run(role: str, tls: str, io: str, sut_script: list, peer_script: dict,
            connections: int = 1, extra: tuple = ()) -> Cell:
        return run_shim_cell(programs, role, tls, io, sut_script, peer_script,
                             connections=connections, sut_args=extra)
    return run
