"""One cell for the stack suites (tests/stacks/*) and the peer's: the mock
peer and a SUT over loopback TCP, as the harness runs a cell
(harness/run/processes.py run_cell), and the matrices the suites run over.

Matrices come from the vocabulary (harness/base/vocabulary.py): a suite
narrows an axis by naming the values it keeps, never by restating the list.

Programs are looked up as support/build.py says. built() decides what a
missing one means: the peer and the credentials fail the test (a broken
build must never look green); the shim fails too, unless its stack is
optional (its library is not installed), which skips.
Never: skips or fails a test by itself, except in built() and in the
assertions (Cell.assert_ran, Cell.step, Cell.expect_*) whose job that is.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from harness.base.vocabulary import DEFAULT_DEADLINE_MS, IO_MODES, ROLES, TLS_VERSIONS
from harness.run.processes import CellRun, ProcessResult, run_cell
from harness.spec.stack import load_stack

from .build import BIN, CERT, KEY, PEER, ROOT, require_built

OTHER_ROLE = {"client": "server", "server": "client"}
# Over a blocking socket the library waits by itself; only these modes can
# show a want to the application.
EVENT_IO_MODES = tuple(io for io in IO_MODES if io != "blocking")
# The library reads and writes the socket itself (in memory mode the runner
# moves the bytes): only these modes show a socket error such as a reset.
SOCKET_IO_MODES = tuple(io for io in IO_MODES if io != "memory")


def matrix(roles=ROLES, versions=TLS_VERSIONS, ios=IO_MODES) -> list:
    """pytest params, one per role x TLS version x IO mode, always in that
    order, with ids such as client-tls1.3-io_memory (so `-k io_memory`
    picks one mode). An axis given as None is left out of the params and
    the id; parametrize with the names that are left, e.g. "role,io"."""
    axes = [(values, fmt) for values, fmt in ((roles, "{}"), (versions, "tls{}"),
                                              (ios, "io_{}")) if values is not None]
    grid = [()]
    for values, _ in axes:
        grid = [(*head, v) for head in grid for v in values]
    return [pytest.param(*p, id="-".join(fmt.format(v) for (_, fmt), v in zip(axes, p)))
            for p in grid]


@dataclasses.dataclass(frozen=True)
class Programs:
    shim: Path | None             # None: the stack file runs a script, not a program
    peer: Path
    cert: Path
    key: Path

    @property
    def bin_dir(self) -> Path:
        return self.peer.parent


def programs_for(shim_name: str | None) -> Programs:
    return Programs(BIN / shim_name if shim_name else None, PEER, CERT, KEY)


def built(shim_name: str | None, *, optional: bool = False) -> Programs:
    """The programs of a suite, or the test skipped or failed as the module
    docstring says."""
    progs = programs_for(shim_name)
    if optional and progs.shim and not progs.shim.exists():
        pytest.skip(f"optional stack not built: {progs.shim}")
    require_built(*(p for p in (progs.shim, progs.peer, progs.cert, progs.key) if p))
    return progs


def stack_command(stack_file: str) -> list[str]:
    """The shim command line a stack file (path relative to the repository)
    runs, for shims that are not one program of the build."""
    return load_stack(ROOT / stack_file, ROOT).argv(BIN, ROOT)


@dataclasses.dataclass
class Cell:
    """One finished cell with accessors that make assertions read well: the
    SUT's JSON lines (steps, end) and the peer's transcript (wire, ev)."""
    run: CellRun
    # Record types describe() leaves out: bulk data would bury the story.
    quiet_types: tuple = ()

    @property
    def sut(self) -> ProcessResult:
        return self.run.sut

    @property
    def peer(self) -> ProcessResult:
        return self.run.peer

    # -- the SUT's side (docs/shim-protocol.md) ----------------------------------

    @property
    def hello(self) -> dict:
        return self.sut.lines[0] if self.sut.lines else {}

    @property
    def steps(self) -> list[dict]:
        return [line for line in self.sut.lines if "step" in line and "op" in line]

    @property
    def end(self) -> dict:
        """The SUT's end line; {} when it printed none (it crashed or was
        killed). More than one breaks the protocol and fails the test."""
        ends = [line for line in self.sut.lines if "end" in line]
        assert len(ends) <= 1, f"more than one end line: {ends}\n{self.describe()}"
        return ends[0] if ends else {}

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

    # -- the peer's transcript (docs/peer.md) --------------------------------------

    @property
    def events(self) -> list[dict]:
        return self.peer.lines

    def wire(self, **match) -> list[dict]:
        """The peer's transcript events whose fields equal all of match."""
        return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]

    def ev(self, event: str, /, **match) -> list[dict]:
        return self.wire(ev=event, **match)

    def records(self, **match) -> list[dict]:
        return self.wire(ev="record", **match)

    def from_sut(self, **match) -> list[dict]:
        """Records the peer received."""
        return self.records(dir="recv", **match)

    def sut_records(self, **match) -> list[dict]:
        """Records the peer received and attributes to the SUT."""
        return self.records(dir="recv", by="sut", **match)

    def sut_alerts(self, alert: str) -> list[dict]:
        return self.sut_records(type="alert", alert=alert)

    def alerts_received(self) -> list[str]:
        """The alert names the peer received, in order."""
        return [e.get("alert") for e in self.from_sut(type="alert")]

    def bytes_received(self) -> int:
        """Application bytes the peer received."""
        return sum(e.get("len", 0) for e in self.from_sut(type="application_data"))

    def expects(self, what: str | None = None) -> list[dict]:
        """The peer's expect events (of one kind: data, close_notify ...)."""
        return self.ev("expect") if what is None else self.ev("expect", what=what)

    @property
    def peer_end(self) -> dict:
        ends = self.ev("end")
        assert ends, f"the peer printed no end event\n{self.describe()}"
        return ends[-1]

    # -- assertions ----------------------------------------------------------------

    def describe(self) -> str:
        """Everything both processes said, for a failing assertion."""
        def dump(name, p):
            lines = "\n".join(json.dumps(x) for x in p.lines
                              if x.get("type") not in self.quiet_types)
            return (f"--- {name}: rc={p.returncode} signal={p.signal} killed={p.killed}\n"
                    f"argv: {' '.join(p.argv)}\nstdout:\n{lines}\n"
                    f"bad lines: {p.bad_lines}\nstderr:\n{p.stderr}")
        return dump("sut", self.sut) + "\n" + dump("peer", self.peer)

    __str__ = describe

    def assert_ran(self, outcomes: list[str] | None = None) -> None:
        """The script ran to its end (and the outcomes are these)."""
        assert self.sut.returncode == 0 and self.end.get("end") == "ok", self.describe()
        if outcomes is not None:
            assert self.outcomes() == outcomes, self.describe()

    def assert_clean(self) -> None:
        """Both processes ended by themselves with exit 0, the peer's run ok."""
        assert self.peer.returncode == 0 and self.sut.returncode == 0, self.describe()
        assert self.peer_end["status"] == "ok", self.describe()

    def expect_exit(self, code: int) -> None:
        assert self.sut.returncode == code, \
            f"shim exit: expected {code}, got {self.sut.returncode}\n{self.describe()}"

    def expect_step(self, n: int, **want) -> dict:
        """Checks fields of step n: outcome, error, ret, bytes, flags (a
        (sent, received) pair), queue (a substring of one queue entry),
        wants_include (one of the wants)."""
        line = self.step(n)
        native = line.get("native") or {}
        got = {"outcome": line.get("outcome"), "error": native.get("error"),
               "ret": native.get("ret"), "bytes": line.get("bytes"), "flags": self.flags(n)}
        for key, value in want.items():
            if key == "queue":
                ok, actual = any(value in q for q in native.get("queue", [])), native.get("queue")
            elif key == "wants_include":
                ok, actual = value in line.get("wants", []), line.get("wants")
            else:
                ok, actual = got[key] == value, got[key]
            assert ok, (f"step {n} ({line.get('op')}): {key} expected {value!r}, "
                        f"got {actual!r}\n{self.describe()}")
        return line


def run_shim_cell(progs: Programs, role: str, tls: str, io: str | None, sut_script: list,
                  peer_script: dict, connections: int = 1,
                  deadline_ms: int = DEFAULT_DEADLINE_MS, transport: str = "fd",
                  sut_args=(), peer_args=(), shim_cmd=None, peer_prefix=(),
                  quiet_types: tuple = (), cell_type: type = None) -> Cell:
    """One cell; role is the SUT's and the peer takes the other one.
    shim_cmd replaces [progs.shim] for a shim that is not one program; io
    None leaves --io to the SUT's default; peer_prefix goes before the
    peer's command (valgrind); cell_type, a Cell subclass with a stack's own
    accessors."""
    common = ["--tls", tls, "--cert", str(progs.cert), "--key", str(progs.key)]
    peer_cmd = [*peer_prefix, str(progs.peer), "--role", OTHER_ROLE[role], *common, *peer_args]
    shim = shim_cmd if shim_cmd is not None else [str(progs.shim)]
    sut_cmd = [*shim, "--role", role, *(["--io", io] if io else []), *common, *sut_args]
    return (cell_type or Cell)(run_cell(peer_cmd, sut_cmd, peer_script, sut_script,
                                        connections=connections, deadline_ms=deadline_ms,
                                        transport=transport), quiet_types)


def shim_alone(shim_cmd: list[str], args: list[str], script=None, tmp_path: Path | None = None,
               timeout: float = 30) -> tuple[int, list[dict], str]:
    """A shim run without any peer, for what it decides before any IO (its
    command line, its script, skips): its exit status, its JSON lines and
    its standard error. A script is written into tmp_path and given with
    --script; standard input is /dev/null."""
    argv = [*shim_cmd, *args]
    if script is not None:
        path = tmp_path / "steps.json"
        path.write_text(json.dumps(script))
        argv += ["--script", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return (done.returncode, [json.loads(x) for x in done.stdout.splitlines() if x.strip()],
            done.stderr)


class Runner:
    """The cells of one shim, the form every stack suite's fixtures take:
    cell() against the mock peer, alone() without it, version() its
    --version line. shim_cmd: the command when the shim is not one program
    of the build (a script its stack file runs)."""

    def __init__(self, progs: Programs, shim_cmd: list[str] | None = None,
                 quiet_types: tuple = (), cell_type: type = None):
        self.progs = progs
        self.shim_cmd = shim_cmd if shim_cmd is not None else [str(progs.shim)]
        self.quiet_types = quiet_types
        self.cell_type = cell_type

    @classmethod
    def fixture(cls, shim_name: str | None, *, optional: bool = False,
                stack_file: str | None = None, quiet_types: tuple = (),
                cell_type: type = None):
        """A session fixture for a suite's conftest, named as the attribute
        it is assigned to: `runner = Runner.fixture("tlsclose-shim-x")`.
        stack_file: run the command that stack file runs instead of a
        program of the build; cell_type: a Cell subclass for the cells."""
        @pytest.fixture(scope="session")
        def runner() -> Runner:
            progs = built(shim_name, optional=optional)
            return cls(progs, stack_command(stack_file) if stack_file else None, quiet_types,
                       cell_type)
        return runner

    def cell(self, role: str, tls: str, io: str, steps: list, peer_script: dict,
             connections: int = 1, deadline_ms: int = DEFAULT_DEADLINE_MS,
             transport: str = "fd", sut_args=(), peer_args=()) -> Cell:
        return run_shim_cell(self.progs, role, tls, io, steps, peer_script,
                             connections=connections, deadline_ms=deadline_ms,
                             transport=transport, sut_args=sut_args, peer_args=peer_args,
                             shim_cmd=self.shim_cmd, quiet_types=self.quiet_types,
                             cell_type=self.cell_type)

    def alone(self, args: list[str], script=None, tmp_path: Path | None = None,
              timeout: float = 30) -> tuple[int, list[dict], str]:
        """The shim without a peer: shim_alone with this shim's command."""
        return shim_alone(self.shim_cmd, args, script, tmp_path, timeout)

    def version(self) -> dict:
        """The one line of --version (shim protocol §1)."""
        rc, lines, stderr = self.alone(["--version"])
        assert rc == 0, stderr
        (line,) = lines
        return line

    def expect_version(self, shim: str, api: str, library_prefix: str, serve: bool) -> dict:
        """The --version line is exactly {shim, library, api}, plus
        "serve": true when the shim has persistent mode (shim protocol §1,
        §10), with these values and a library name starting so."""
        line = self.version()
        want = {"shim": shim, "library": line.get("library"), "api": api}
        assert line == ({**want, "serve": True} if serve else want), line
        assert line["library"].startswith(library_prefix), line
        return line
