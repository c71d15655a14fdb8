"""The one place that makes the project importable for its tests.

Every test imports the project's packages (harness, reports) from the
repository root and its shared helpers from the `support` package in this
directory (tests/support). pytest loads this file before any test module
below tests/, so both directories are on sys.path by the time a test is
imported; nothing else in tests/ touches sys.path.

Fixtures live in the conftest.py of the folder whose tests use them; no test
imports a conftest by name.
"""
from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
for _path in (str(TESTS), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
