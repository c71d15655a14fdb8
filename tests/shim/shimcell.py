"""Running the OpenSSL shim against the mock peer, and reading the result.
Programs are looked up as tests/stackcells.py says; this Cell keeps its own
accessors (steps() and end() check more than the stack suites' ones do).
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import sys

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

# stackcells first: it puts the repository root on sys.path.
from stackcells import OTHER_ROLE, Programs, programs_for  # noqa: E402,F401
from harness.run.processes import CellRun, ProcessResult, run_cell, tcp_pair  # noqa: E402,F401

ROLES = ("client", "server")
VERSIONS = ("1.2", "1.3")
IO_MODES = ("blocking", "nonblocking", "memory")


@dataclasses.dataclass
class Cell:
    """One run of shim and peer, with the accessors the tests need."""
    run: CellRun

    @property
    def sut(self) -> ProcessResult:
        return self.run.sut

    @property
    def peer(self) -> ProcessResult:
        return self.run.peer

    def steps(self) -> list[dict]:
        return [line for line in self.sut.lines if "step" in line and "op" in line]

    def step(self, n: int) -> dict:
        for line in self.steps():
            if line["step"] == n:
                return line
        raise AssertionError(f"no line for step {n}\n{self.describe()}")

    def end(self) -> dict:
        ends = [line for line in self.sut.lines if "end" in line]
        assert len(ends) == 1, f"expected one end line, got {ends}\n{self.describe()}"
        return ends[0]

    def peer_records(self, direction: str, rtype: str | None = None) -> list[dict]:
        return [e for e in self.peer.lines if e.get("ev") == "record"
                and e.get("dir") == direction and (rtype is None or e.get("type") == rtype)]

    def peer_alerts_received(self) -> list[str]:
        return [e.get("alert") for e in self.peer_records("recv", "alert")]

    def peer_bytes_received(self) -> int:
        return sum(e.get("len", 0) for e in self.peer_records("recv", "application_data"))

    def describe(self) -> str:
        """Everything a reader needs when an assertion fails."""
        out = ["--- SUT argv: " + " ".join(self.sut.argv),
               f"--- SUT exit {self.sut.returncode} (killed: {self.sut.killed})"]
        out += [json.dumps(line) for line in self.sut.lines]
        out += ["--- SUT stderr", self.sut.stderr.strip(),
                f"--- peer exit {self.peer.returncode}"]
        out += [json.dumps(e) for e in self.peer.lines if e.get("type") != "application_data"]
        out += ["--- peer stderr", self.peer.stderr.strip()]
        return "\n".join(out)

    def expect_step(self, n: int, **want) -> dict:
        """Checks fields of step n: outcome, error, flags (a (sent, received)
        pair), queue (a substring of one queue entry), ret, bytes."""
        line = self.step(n)
        native = line.get("native") or {}
        got = {
            "outcome": line.get("outcome"),
            "error": native.get("error"),
            "ret": native.get("ret"),
            "bytes": line.get("bytes"),
            "flags": None if line.get("flags") is None
            else (line["flags"]["sent"], line["flags"]["received"]),
        }
        for key, value in want.items():
            if key == "queue":
                ok = any(value in q for q in native.get("queue", []))
                actual = native.get("queue")
            elif key == "wants_include":
                ok = value in line.get("wants", [])
                actual = line.get("wants")
            else:
                ok = got[key] == value
                actual = got[key]
            assert ok, (f"step {n} ({line.get('op')}): {key} expected {value!r}, "
                        f"got {actual!r}\n{self.describe()}")
        return line

    def expect_exit(self, code: int) -> None:
        assert self.sut.returncode == code, \
            f"shim exit: expected {code}, got {self.sut.returncode}\n{self.describe()}"


class Runner:
    def __init__(self, progs: Programs):
        self.progs = progs

    def shim_argv(self, role: str, tls: str, io: str) -> list[str]:
        return [str(self.progs.shim), "--role", role, "--tls", tls, "--io", io,
                "--cert", str(self.progs.cert), "--key", str(self.progs.key)]

    def peer_argv(self, sut_role: str, tls: str) -> list[str]:
        return [str(self.progs.peer), "--role", OTHER_ROLE[sut_role], "--tls", tls,
                "--cert", str(self.progs.cert), "--key", str(self.progs.key)]

    def cell(self, role: str, tls: str, io: str, steps: list, peer_script: dict,
             connections: int = 1, deadline_ms: int = 8000, sut_args: tuple = ()) -> Cell:
        return Cell(run_cell(self.peer_argv(role, tls), [*self.shim_argv(role, tls, io), *sut_args],
                             peer_script, steps, connections=connections,
                             deadline_ms=deadline_ms))

    def shim_alone(self, args: list[str], timeout: float = 10) -> subprocess.CompletedProcess:
        """The shim on its own (no peer), for command-line and script errors."""
        return subprocess.run([str(self.progs.shim), *args], capture_output=True, text=True,
                              timeout=timeout)
