"""Fixtures for the Go crypto/tls shim's tests (stacks/go). The stack is
optional: without the shim (golang-go not installed) the tests that run it
are skipped; a missing peer or credentials fail them.

runner: tlsclose-shim-go (support/cells.py).
go_cell(role, tls, sut_script, peer_script, ...) -> Cell: blocking, the only
mode the shim has; role is the SUT's.
"""
from __future__ import annotations

import pytest

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-go", optional=True)


@pytest.fixture
def go_cell(runner):
    def run(role: str, tls: str, *args, **kwargs):
        return runner.cell(role, tls, "blocking", *args, **kwargs)
    return run
