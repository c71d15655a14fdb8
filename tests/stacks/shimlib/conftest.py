"""Fixtures for the shared shim runner's tests (stacks/shimlib). The runner
is exercised through the OpenSSL driver, a default stack that is always
built: `runner` runs tlsclose-shim-openssl against the mock peer
(support/cells.py), and a missing program fails the tests."""
from __future__ import annotations

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-openssl", quiet_types=("application_data",))
