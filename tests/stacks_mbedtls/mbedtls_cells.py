"""The matrix shared by the mbedTLS shim's test files; the cell runner and
the assertions come from tests/stackcells.py.
mbedTLS 2.28 speaks TLS 1.2 only, so the matrix is role x IO mode."""
from __future__ import annotations

import pathlib
import sys

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from stackcells import assert_ran, ids  # noqa: E402,F401

ROLES = ("client", "server")
IOS = ("blocking", "nonblocking", "memory")
EVENT_IOS = ("nonblocking", "memory")  # the modes where a want can be seen

ALL_CELLS = [(r, i) for r in ROLES for i in IOS]
EVENT_CELLS = [(r, i) for r in ROLES for i in EVENT_IOS]
