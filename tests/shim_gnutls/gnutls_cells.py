"""The matrix shared by the GnuTLS shim's test files; the cell runner and
the assertions come from tests/stackcells.py."""
from __future__ import annotations

import pathlib
import sys

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from stackcells import assert_ran, ids  # noqa: E402,F401

ROLES = ("client", "server")
TLS = ("1.2", "1.3")
IOS = ("blocking", "nonblocking", "memory")
EVENT_IOS = ("nonblocking", "memory")  # the modes where a want can be seen

ALL_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in IOS]
EVENT_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in EVENT_IOS]
