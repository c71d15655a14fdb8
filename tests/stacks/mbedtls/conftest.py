"""Fixtures for the mbedTLS shim's tests (stacks/mbedtls). The stack is
optional: without the shim (mbedTLS not installed) the tests that run it
are skipped; a missing peer or credentials fail them.

runner: tlsclose-shim-mbedtls against the mock peer (support/cells.py).
cell(role, io, sut_script, peer_script, connections=1, tls="1.2",
sut_args=(), peer_args=()): one cell, role the SUT's. mbedTLS 2.28 speaks
TLS 1.2 only, so the version comes last and defaults to 1.2.
"""
from __future__ import annotations

import pytest

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-mbedtls", optional=True)


@pytest.fixture
def cell(runner):
    def run(role: str, io: str, sut_script: list, peer_script: dict, tls: str = "1.2",
            **kw):
        return runner.cell(role, tls, io, sut_script, peer_script, **kw)
    return run
