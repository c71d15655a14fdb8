"""Fixtures for the mbedTLS shim's tests: one cell = the mock peer and the
shim over loopback TCP (harness/cell.py).

Programs are looked up in $TLSCLOSE_BIN (ctest sets it to its build's bin
directory), else in build/bin of the repository. The credentials come from
$TLSCLOSE_CERT / $TLSCLOSE_KEY, else from the credentials directory beside
that bin directory. Without the shim (mbedTLS not installed) every test is
skipped: the stack is optional.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.cell import CellRun, run_cell  # noqa: E402

DEADLINE_MS = 8000
OTHER_ROLE = {"client": "server", "server": "client"}


@dataclasses.dataclass
class Programs:
    shim: pathlib.Path
    peer: pathlib.Path
    cert: pathlib.Path
    key: pathlib.Path


def _programs() -> Programs:
    bin_dir = pathlib.Path(os.environ.get("TLSCLOSE_BIN", ROOT / "build" / "bin"))
    cred = bin_dir.parent / "credentials"
    return Programs(bin_dir / "tlsclose-shim-mbedtls", bin_dir / "tlsclose-peer",
                    pathlib.Path(os.environ.get("TLSCLOSE_CERT", cred / "cert.pem")),
                    pathlib.Path(os.environ.get("TLSCLOSE_KEY", cred / "key.pem")))


@pytest.fixture(scope="session")
def programs() -> Programs:
    p = _programs()
    missing = [str(f) for f in (p.shim, p.peer, p.cert, p.key) if not f.exists()]
    if missing:
        pytest.skip("not built: " + ", ".join(missing))
    return p


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

    def native(self, step: int) -> dict:
        """The native fields of a 1-based step."""
        return self.steps[step - 1]["native"]

    def wire(self, **match) -> list[dict]:
        """The peer's transcript events whose fields equal all of match."""
        return [e for e in self.run.peer.lines
                if all(e.get(k) == v for k, v in match.items())]

    def sut_records(self, **match) -> list[dict]:
        return self.wire(ev="record", dir="recv", by="sut", **match)

    def sut_alerts(self, alert: str) -> list[dict]:
        return self.sut_records(type="alert", alert=alert)

    def describe(self) -> str:
        """Everything both processes said, for a failing assertion."""
        def dump(name, p):
            lines = "\n".join(json.dumps(x) for x in p.lines)
            return (f"--- {name}: rc={p.returncode} signal={p.signal} killed={p.killed}\n"
                    f"argv: {' '.join(p.argv)}\nstdout:\n{lines}\n"
                    f"bad lines: {p.bad_lines}\nstderr:\n{p.stderr}")
        return dump("sut", self.run.sut) + "\n" + dump("peer", self.run.peer)


@pytest.fixture
def cell(programs):
    """cell(role, io, sut_script, peer_script, connections=1, tls="1.2",
    sut_args=(), peer_args=()) -> Cell. role is the SUT's; the peer takes
    the other one."""
    def run(role: str, io: str, sut_script: list, peer_script: dict, connections: int = 1,
            tls: str = "1.2", sut_args=(), peer_args=()) -> Cell:
        common = ["--tls", tls, "--cert", str(programs.cert), "--key", str(programs.key)]
        peer_cmd = [str(programs.peer), "--role", OTHER_ROLE[role], *common, *peer_args]
        sut_cmd = [str(programs.shim), "--role", role, "--io", io, *common, *sut_args]
        return Cell(run_cell(peer_cmd, sut_cmd, peer_script, sut_script,
                             connections=connections, deadline_ms=DEADLINE_MS))
    return run
