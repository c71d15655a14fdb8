"""Fixtures for the OpenSSL shim's tests (stacks/openssl): `runner` runs
tlsclose-shim-openssl against the mock peer (support/cells.py). OpenSSL is
a default stack, always built: a missing program fails the tests."""
from __future__ import annotations

from support.cells import Runner

runner = Runner.fixture("tlsclose-shim-openssl", quiet_types=("application_data",))
