"""Running one shim against the mock peer and reading the result, for the
stack test suites (tests/shim_gnutls, tests/stacks_*): one cell is the mock
peer and a shim over loopback TCP (harness/cell.py run_cell).

A plain module, not a conftest: tests/harness and others import their own
`conftest` by name, and a second one collected in the same session would
shadow it. A suite puts this directory on sys.path (see each suite's *_cells
module) and imports from here.

Needs: the programs built. They are looked up in $TLSCLOSE_BIN (ctest sets
it to its build's bin directory), else in build/bin of the repository; the
credentials come from $TLSCLOSE_CERT / $TLSCLOSE_KEY, else from the
credentials directory beside that bin directory.
Never: skips or fails a test by itself, except in built_or_skip(),
require() and the assertions (assert_ran, step) whose job that is.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.run.processes import CellRun, run_cell  # noqa: E402

DEADLINE_MS = 8000
OTHER_ROLE = {"client": "server", "server": "client"}


@dataclasses.dataclass(frozen=True)
class Programs:
    shim: pathlib.Path
    peer: pathlib.Path
    cert: pathlib.Path
    key: pathlib.Path

    def missing(self, with_shim: bool = True) -> list[str]:
        """The paths that do not exist; with_shim=False leaves the shim out,
        for suites that check an optional shim on their own."""
        need = (self.shim, self.peer, self.cert, self.key) if with_shim \
            else (self.peer, self.cert, self.key)
        return [str(p) for p in need if not p.exists()]


def programs_for(shim_name: str) -> Programs:
    bin_dir = pathlib.Path(os.environ.get("TLSCLOSE_BIN", ROOT / "build" / "bin"))
    creds = bin_dir.parent / "credentials"
    return Programs(bin_dir / shim_name, bin_dir / "tlsclose-peer",
                    pathlib.Path(os.environ.get("TLSCLOSE_CERT", creds / "cert.pem")),
                    pathlib.Path(os.environ.get("TLSCLOSE_KEY", creds / "key.pem")))


def built_or_skip(shim_name: str) -> Programs:
    """For a suite whose every test needs all four files: any missing skips."""
    progs = programs_for(shim_name)
    missing = progs.missing()
    if missing:
        pytest.skip("not built: " + ", ".join(missing))
    return progs


def require(progs: Programs) -> Programs:
    """For an optional stack: no shim skips (its library is not installed),
    but a missing peer or credentials fail, so a broken build never looks
    green."""
    if not progs.shim.exists():
        pytest.skip(f"optional stack not built: {progs.shim}")
    missing = progs.missing(with_shim=False)
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    return progs


def ids(cells):
    return ["-".join(c) for c in cells]


@dataclasses.dataclass
class Cell:
    """One finished cell with accessors that make assertions read well."""
    run: CellRun
    # Record types left out of describe(): bulk data would bury the story.
    QUIET_TYPES = ()

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
        """The line of step n (1-based, its index in the script)."""
        for line in self.steps:
            if line["step"] == n:
                return line
        raise AssertionError(f"no line for step {n}\n{self.describe()}")

    def native(self, n: int) -> dict:
        return self.step(n).get("native") or {}

    def flags(self, n: int) -> tuple | None:
        f = self.step(n).get("flags")
        return None if f is None else (f["sent"], f["received"])

    def wire(self, **match) -> list[dict]:
        """The peer's transcript events whose fields equal all of match."""
        return [e for e in self.run.peer.lines if all(e.get(k) == v for k, v in match.items())]

    def from_sut(self, **match) -> list[dict]:
        """Records the peer received."""
        return self.wire(ev="record", dir="recv", **match)

    def sut_records(self, **match) -> list[dict]:
        """Records the peer received and attributes to the SUT."""
        return self.wire(ev="record", dir="recv", by="sut", **match)

    def sut_alerts(self, alert: str) -> list[dict]:
        return self.sut_records(type="alert", alert=alert)

    def expects(self) -> list[dict]:
        return self.wire(ev="expect")

    def describe(self) -> str:
        """Everything both processes said, for a failing assertion."""
        def dump(name, p):
            lines = "\n".join(json.dumps(x) for x in p.lines
                              if x.get("type") not in self.QUIET_TYPES)
            return (f"--- {name}: rc={p.returncode} signal={p.signal} killed={p.killed}\n"
                    f"argv: {' '.join(p.argv)}\nstdout:\n{lines}\n"
                    f"bad lines: {p.bad_lines}\nstderr:\n{p.stderr}")
        return dump("sut", self.run.sut) + "\n" + dump("peer", self.run.peer)

    def assert_ran(self, outcomes: list[str] | None = None) -> None:
        """The script ran to its end (and the outcomes are these)."""
        assert self.run.sut.returncode == 0 and self.end.get("end") == "ok", self.describe()
        if outcomes is not None:
            assert self.outcomes() == outcomes, self.describe()


def assert_ran(c: Cell, expected_outcomes: list[str]) -> None:
    """The script ran to its end and every step's outcome is as expected."""
    assert c.run.sut.returncode == 0 and c.end.get("end") == "ok", c.describe()
    assert c.outcomes() == expected_outcomes, c.describe()


def run_shim_cell(progs: Programs, role: str, tls: str, io: str, sut_script: list,
                  peer_script: dict, connections: int = 1, deadline_ms: int = DEADLINE_MS,
                  transport: str = "fd", sut_args=(), peer_args=(), shim_cmd=None,
                  cell_type: type = Cell) -> Cell:
    """One cell; role is the SUT's and the peer takes the other one.
    shim_cmd replaces [progs.shim] for a shim that is not one program."""
    common = ["--tls", tls, "--cert", str(progs.cert), "--key", str(progs.key)]
    peer_cmd = [str(progs.peer), "--role", OTHER_ROLE[role], *common, *peer_args]
    shim = shim_cmd if shim_cmd is not None else [str(progs.shim)]
    sut_cmd = [*shim, "--role", role, "--io", io, *common, *sut_args]
    return cell_type(run_cell(peer_cmd, sut_cmd, peer_script, sut_script,
                              connections=connections, deadline_ms=deadline_ms,
                              transport=transport))
