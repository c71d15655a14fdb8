"""The matrix and the assertion shared by the mbedTLS shim's test files.
mbedTLS 2.28 speaks TLS 1.2 only, so the matrix is role x IO mode."""
from __future__ import annotations

ROLES = ("client", "server")
IOS = ("blocking", "nonblocking", "memory")
EVENT_IOS = ("nonblocking", "memory")  # the modes where a want can be seen

ALL_CELLS = [(r, i) for r in ROLES for i in IOS]
EVENT_CELLS = [(r, i) for r in ROLES for i in EVENT_IOS]


def ids(cells):
    return ["-".join(c) for c in cells]


def assert_ran(c, expected_outcomes):
    """The script ran to its end and every step's outcome is as expected."""
    assert c.run.sut.returncode == 0 and c.end.get("end") == "ok", c.describe()
    assert c.outcomes() == expected_outcomes, c.describe()
