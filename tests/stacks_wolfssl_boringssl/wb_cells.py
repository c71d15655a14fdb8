"""Running the wolfSSL and BoringSSL shims against the mock peer, and reading
the result: one cell is the mock peer and one shim over loopback TCP
(harness/cell.py). (A module of its own, not conftest, so that test files of
other directories importing their own helpers never pick this one up.)

Programs come from $TLSCLOSE_BIN (ctest sets it to its build's bin
directory), else from build/bin of the repository; the credentials from
$TLSCLOSE_CERT / $TLSCLOSE_KEY, else from the credentials directory beside
that bin directory. Both stacks are optional: without a shim (its library not
installed) that shim's tests are skipped; a missing peer or credentials fail.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.cell import CellRun, run_cell  # noqa: E402

DEADLINE_MS = 8000
OTHER_ROLE = {"client": "server", "server": "client"}
VERSIONS = ("1.2", "1.3")
IO_MODES = ("blocking", "nonblocking", "memory")
EVENT_IO = ("nonblocking", "memory")
ROLES = ("client", "server")


def matrix(versions=VERSIONS, ios=IO_MODES, roles=ROLES):
    return [pytest.param(t, i, r, id=f"tls{t}-{i}-{r}")
            for t in versions for i in ios for r in roles]


@dataclasses.dataclass(frozen=True)
class Programs:
    shim: pathlib.Path
    peer: pathlib.Path
    cert: pathlib.Path
    key: pathlib.Path


def programs_for(shim_name: str) -> Programs:
    bin_dir = pathlib.Path(os.environ.get("TLSCLOSE_BIN", ROOT / "build" / "bin"))
    creds = bin_dir.parent / "credentials"
    return Programs(bin_dir / shim_name, bin_dir / "tlsclose-peer",
                    pathlib.Path(os.environ.get("TLSCLOSE_CERT", creds / "cert.pem")),
                    pathlib.Path(os.environ.get("TLSCLOSE_KEY", creds / "key.pem")))


def require(progs: Programs) -> Programs:
    if not progs.shim.exists():
        pytest.skip(f"optional stack not built: {progs.shim}")
    missing = [str(p) for p in (progs.peer, progs.cert, progs.key) if not p.exists()]
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    return progs


@dataclasses.dataclass
class Cell:
    """One finished cell, with accessors that make assertions read well."""
    run: CellRun

    @property
    def steps(self) -> list[dict]:
        return [line for line in self.run.sut.lines if "step" in line and "op" in line]

    @property
    def end(self) -> dict:
        ends = [line for line in self.run.sut.lines if "end" in line]
        return ends[-1] if ends else {}

    def step(self, n: int) -> dict:
        for line in self.steps:
            if line["step"] == n:
                return line
        raise AssertionError(f"no line for step {n}\n{self.describe()}")

    def outcomes(self) -> list[str]:
        return [s["outcome"] for s in self.steps]

    def native(self, n: int) -> dict:
        return self.step(n).get("native") or {}

    def flags(self, n: int) -> tuple | None:
        f = self.step(n).get("flags")
        return None if f is None else (f["sent"], f["received"])

    def wire(self, **match) -> list[dict]:
        """The peer's transcript events whose fields equal all of match."""
        return [e for e in self.run.peer.lines if all(e.get(k) == v for k, v in match.items())]

    def from_sut(self, **match) -> list[dict]:
        """Records the peer received (the SUT sent)."""
        return self.wire(ev="record", dir="recv", **match)

    def expects(self) -> list[dict]:
        return self.wire(ev="expect")

    def describe(self) -> str:
        """Everything both processes said, for a failing assertion."""
        def dump(name, p):
            lines = "\n".join(json.dumps(x) for x in p.lines
                              if x.get("type") != "application_data")
            return (f"--- {name}: rc={p.returncode} signal={p.signal} killed={p.killed}\n"
                    f"argv: {' '.join(p.argv)}\n{lines}\nbad lines: {p.bad_lines}\n"
                    f"stderr:\n{p.stderr}")
        return dump("sut", self.run.sut) + "\n" + dump("peer", self.run.peer)

    def assert_ran(self, outcomes: list[str] | None = None) -> None:
        """The script ran to its end (and the outcomes are these)."""
        assert self.run.sut.returncode == 0 and self.end.get("end") == "ok", self.describe()
        if outcomes is not None:
            assert self.outcomes() == outcomes, self.describe()


class Runner:
    def __init__(self, progs: Programs):
        self.progs = progs

    def cell(self, role: str, tls: str, io: str, steps: list, peer_script: dict,
             connections: int = 1, sut_args: tuple = (), deadline_ms: int = DEADLINE_MS) -> Cell:
        common = ["--tls", tls, "--cert", str(self.progs.cert), "--key", str(self.progs.key)]
        peer_cmd = [str(self.progs.peer), "--role", OTHER_ROLE[role], *common]
        sut_cmd = [str(self.progs.shim), "--role", role, "--io", io, *common, *sut_args]
        return Cell(run_cell(peer_cmd, sut_cmd, peer_script, steps,
                             connections=connections, deadline_ms=deadline_ms))

    def version(self) -> dict:
        done = subprocess.run([str(self.progs.shim), "--version"], capture_output=True,
                              text=True, timeout=10)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[0])
