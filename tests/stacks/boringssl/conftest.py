"""Fixtures for the BoringSSL shim's tests (stacks/boringssl). The stack is optional:
without the shim (its library not installed) the tests that run it are
skipped; a missing peer or credentials fail them.

boringssl: the Runner of tlsclose-shim-boringssl against the mock peer
(support/cells.py); describe() leaves the bulk data records out.
"""
from __future__ import annotations

from support.cells import Runner

boringssl = Runner.fixture("tlsclose-shim-boringssl", optional=True, quiet_types=("application_data",))
