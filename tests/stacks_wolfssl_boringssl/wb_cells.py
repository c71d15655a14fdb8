"""The wolfSSL and BoringSSL shims' matrix and runner; the cell, its
accessors, the program lookup and require() come from tests/stackcells.py.
(A module of its own, not conftest, so that test files of other directories
importing their own helpers never pick this one up.)
Both stacks are optional: without a shim (its library not installed) that
shim's tests are skipped; a missing peer or credentials fail.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

# programs_for and require are the conftest's, through this module.
from stackcells import DEADLINE_MS, Cell, Programs, run_shim_cell  # noqa: E402
from stackcells import programs_for, require  # noqa: E402,F401

VERSIONS = ("1.2", "1.3")
IO_MODES = ("blocking", "nonblocking", "memory")
EVENT_IO = ("nonblocking", "memory")
ROLES = ("client", "server")


def matrix(versions=VERSIONS, ios=IO_MODES, roles=ROLES):
    return [pytest.param(t, i, r, id=f"tls{t}-{i}-{r}")
            for t in versions for i in ios for r in roles]


class WbCell(Cell):
    QUIET_TYPES = ("application_data",)


class Runner:
    def __init__(self, progs: Programs):
        self.progs = progs

    def cell(self, role: str, tls: str, io: str, steps: list, peer_script: dict,
             connections: int = 1, sut_args: tuple = (), deadline_ms: int = DEADLINE_MS) -> Cell:
        return run_shim_cell(self.progs, role, tls, io, steps, peer_script,
                             connections=connections, deadline_ms=deadline_ms,
                             sut_args=sut_args, cell_type=WbCell)

    def version(self) -> dict:
        done = subprocess.run([str(self.progs.shim), "--version"], capture_output=True,
                              text=True, timeout=10)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[0])


def check_exchange_then_close_first(runner: Runner, tls: str, io: str, role: str) -> None:
    """Both stacks keep the SSL_shutdown(3) contract here: data both ways, then
    the SUT closes first (0 with SENT only), the peer's answer read as a
    clean close (SSL_ERROR_ZERO_RETURN), and every record authenticates."""
    peer = {"actions": [{"do": "expect_data", "bytes": 1000}, {"do": "send_data", "bytes": 500},
                        {"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "read", "bytes": 500},
             {"op": "shutdown"}, {"op": "read", "until": "close"}, {"op": "get_shutdown"}]
    c = runner.cell(role, tls, io, steps, peer)
    c.assert_ran(["ok", "ok:1000", "data:500", "sent", "closed", "sent+received"])
    assert c.native(4)["ret"] == 0 and c.flags(4) == (True, False), c.describe()
    assert c.native(5)["error"] == "SSL_ERROR_ZERO_RETURN", c.describe()
    assert all(e.get("ok") for e in c.expects()), c.describe()
    assert not c.wire(ev="bad_record"), c.describe()
