"""The matrix and the assertion shared by the GnuTLS shim's test files."""
from __future__ import annotations

ROLES = ("client", "server")
TLS = ("1.2", "1.3")
IOS = ("blocking", "nonblocking", "memory")
EVENT_IOS = ("nonblocking", "memory")  # the modes where a want can be seen

ALL_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in IOS]
EVENT_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in EVENT_IOS]


def ids(cells):
    return ["-".join(c) for c in cells]


def assert_ran(c, expected_outcomes):
    """The script ran to its end and every step's outcome is as expected."""
    assert c.run.sut.returncode == 0 and c.end.get("end") == "ok", c.describe()
    assert c.outcomes() == expected_outcomes, c.describe()
