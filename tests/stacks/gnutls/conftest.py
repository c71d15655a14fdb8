"""Fixtures for the GnuTLS shim's tests (stacks/gnutls). GnuTLS is a default
stack, always built: a missing program fails the tests.

runner: tlsclose-shim-gnutls against the mock peer (support/cells.py).
cell(role, tls, io, sut_script, peer_script, connections=1, sut_args=()):
one cell, role the SUT's (Runner.cell).
"""
from __future__ import annotations

import pytest

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-gnutls")


@pytest.fixture
def cell(runner):
    return runner.cell
