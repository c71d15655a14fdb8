"""Fixtures for the shim runner's and the OpenSSL shim's tests (tests/shim).

The shim runs against the mock peer (tlsclose-peer) over loopback TCP, as
the harness runs a cell. Both programs must be built: a missing one fails
the tests rather than skipping them, so a broken build never looks green.
"""
from __future__ import annotations

import pytest

from shimcell import Runner, programs_for


@pytest.fixture(scope="session")
def runner() -> Runner:
    progs = programs_for("tlsclose-shim-openssl")
    missing = progs.missing()
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    return Runner(progs)
