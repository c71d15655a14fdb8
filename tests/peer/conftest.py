"""Fixtures for the mock peer's tests (tests/peer).

Programs come from $TLSCLOSE_BIN (ctest sets it to its build's bin
directory), else from build/bin of the repository; the credentials from
$TLSCLOSE_CERT / $TLSCLOSE_KEY, else from the credentials directory beside
that bin directory. The SUT is sut_python.py (Python's ssl, i.e. OpenSSL)
unless a test asks for a shim.
"""
from __future__ import annotations

import pytest

from peerlib import Programs, programs_from_env


@pytest.fixture(scope="session")
def progs() -> Programs:
    p = programs_from_env()
    missing = [str(f) for f in (p.peer, p.cert, p.key) if not f.exists()]
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    return p
