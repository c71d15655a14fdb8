"""Fixtures for the wolfSSL and BoringSSL shims' tests (wb_cells.py runs the
cells). Both stacks are optional: without a shim (its library not installed)
that shim's tests are skipped; a missing peer or credentials fail them."""
from __future__ import annotations

import pytest

from wb_cells import Runner, programs_for, require


@pytest.fixture(scope="module")
def wolfssl() -> Runner:
    return Runner(require(programs_for("tlsclose-shim-wolfssl")))


@pytest.fixture(scope="module")
def boringssl() -> Runner:
    return Runner(require(programs_for("tlsclose-shim-boringssl")))
