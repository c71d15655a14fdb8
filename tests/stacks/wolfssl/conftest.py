"""Fixtures for the wolfSSL shim's tests (stacks/wolfssl). The stack is optional:
without the shim (its library not installed) the tests that run it are
skipped; a missing peer or credentials fail them.

wolfssl: the Runner of tlsclose-shim-wolfssl against the mock peer
(support/cells.py); describe() leaves the bulk data records out.
"""
from __future__ import annotations

from support.cells import Runner

wolfssl = Runner.fixture("tlsclose-shim-wolfssl", optional=True, quiet_types=("application_data",))
