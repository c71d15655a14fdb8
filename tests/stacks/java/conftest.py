"""Fixtures for the Java JSSE shim's tests (stacks/java). The stack is
optional: without the shim (no JDK 17 when the build was configured) the
tests that run it are skipped; a missing peer or credentials fail them.

runner: tlsclose-shim-java (support/cells.py).
cell(role, tls, io, sut_script, peer_script, **Runner.cell options) -> Cell:
one cell against the mock peer, run as stacks/java/java.toml runs the shim:
Java cannot adopt an inherited descriptor, so the shim opens its
connections itself (transport = "connect").
"""
from __future__ import annotations

import pytest

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-java", optional=True)


@pytest.fixture
def cell(runner):
    def run(role: str, tls: str, io: str, sut_script: list, peer_script: dict, **kw):
        return runner.cell(role, tls, io, sut_script, peer_script, transport="connect", **kw)
    return run
