"""What the Python and Go shim tests share: the matrices and how the Python
shim is run; the cell, its accessors and the assertions come from
tests/stackcells.py."""
from __future__ import annotations

import pathlib
import sys

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from stackcells import assert_ran, ids  # noqa: E402,F401

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
PY_SHIM = ROOT / "stacks" / "python-ssl" / "shim_python.py"

ROLES = ("client", "server")
TLS = ("1.2", "1.3")
IOS = ("blocking", "nonblocking", "memory")
PY_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in IOS]
GO_CELLS = [(r, t) for r in ROLES for t in TLS]


def python_shim_cmd(ragged: bool = False) -> list[str]:
    """The Python shim as the stack files run it."""
    return [PYTHON, str(PY_SHIM), "--suppress-ragged-eofs", "true" if ragged else "false"]
