"""Fixtures for the rustls shim's tests (stacks/rustls). The stack is
optional: without the shim (cargo or the crates not installed) the tests
that run it are skipped; a missing peer or credentials fail them.

runner: tlsclose-shim-rustls against the mock peer (support/cells.py);
progs its programs (for the serve-mode driver, support/rustls_serve.py); cell(role,
tls, io, sut_script, peer_script, **Runner.cell options) -> Cell.
"""
from __future__ import annotations

import pytest

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-rustls", optional=True)


@pytest.fixture
def progs(runner):
    return runner.progs


@pytest.fixture
def cell(runner):
    return runner.cell
