"""Fixtures for the mock peer's tests (tests/peers).

progs: the peer and the credentials as support/build.py finds them; a
missing one fails the tests. The SUT is sut_python.py (Python's ssl, i.e.
OpenSSL) unless a test asks for a shim (support/peers.py).
"""
from __future__ import annotations

import pytest

from support.cells import Programs, built


@pytest.fixture(scope="session")
def progs() -> Programs:
    return built(None)
