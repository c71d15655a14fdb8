"""What the Python and Go shim tests share: a finished cell with accessors,
the run-to-the-end assertion, the matrices."""
from __future__ import annotations

import dataclasses
import json
import pathlib

from harness.cell import CellRun

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
PY_SHIM = ROOT / "stacks" / "python" / "shim_python.py"

ROLES = ("client", "server")
TLS = ("1.2", "1.3")
IOS = ("blocking", "nonblocking", "memory")
PY_CELLS = [(r, t, i) for r in ROLES for t in TLS for i in IOS]
GO_CELLS = [(r, t) for r in ROLES for t in TLS]


def python_shim_cmd(ragged: bool = False) -> list[str]:
    """The Python shim as the stack files run it."""
    return [PYTHON, str(PY_SHIM), "--suppress-ragged-eofs", "true" if ragged else "false"]


def ids(cells):
    return ["-".join(c) for c in cells]


@dataclasses.dataclass
class Cell:
    """One finished cell with accessors that make assertions read well."""
    run: CellRun

    @property
    def steps(self) -> list[dict]:
        return [line for line in self.run.sut.lines if "step" in line and "op" in line]

    @property
    def end(self) -> dict:
        ends = [line for line in self.run.sut.lines if "end" in line]
        return ends[-1] if ends else {}

    @property
    def hello(self) -> dict:
        return self.run.sut.lines[0] if self.run.sut.lines else {}

    def outcomes(self) -> list[str]:
        return [s["outcome"] for s in self.steps]

    def step(self, n: int) -> dict:
        return self.steps[n - 1]

    def wire(self, **match) -> list[dict]:
        """The peer's transcript events whose fields equal all of match."""
        return [e for e in self.run.peer.lines
                if all(e.get(k) == v for k, v in match.items())]

    def sut_alerts(self, alert: str) -> list[dict]:
        return self.wire(ev="record", dir="recv", by="sut", type="alert", alert=alert)

    def describe(self) -> str:
        """Everything both processes said, for a failing assertion."""
        def dump(name, p):
            lines = "\n".join(json.dumps(x) for x in p.lines)
            return (f"--- {name}: rc={p.returncode} signal={p.signal} killed={p.killed}\n"
                    f"argv: {' '.join(p.argv)}\nstdout:\n{lines}\n"
                    f"bad lines: {p.bad_lines}\nstderr:\n{p.stderr}")
        return dump("sut", self.run.sut) + "\n" + dump("peer", self.run.peer)


def assert_ran(c: Cell, expected_outcomes: list[str]) -> None:
    """The script ran to its end and every step's outcome is as expected."""
    assert c.run.sut.returncode == 0 and c.end.get("end") == "ok", c.describe()
    assert c.outcomes() == expected_outcomes, c.describe()
