"""Helpers for the mock peer's own tests (tests/peers): the peer is under
test, the SUT is a double, tests/peers/sut_python.py (Python's ssl), or one
of the project's shims. A cell is run and read through support/cells.py;
here is what is particular to the peer's side.
"""
from __future__ import annotations

import sys
from pathlib import Path

from harness.base.vocabulary import CIPHERS, DEFAULT_DEADLINE_MS

from .build import ROOT
from .cells import OTHER_ROLE, Cell, Programs, programs_for, run_shim_cell

SUT_PYTHON = ROOT / "tests" / "peers" / "sut_python.py"
# (tls, suite) for every suite the peer can be restricted to (docs/peer.md).
SUITES = [(tls, suite) for tls, suites in CIPHERS.items() for suite in suites]


def peer_programs() -> Programs:
    """The peer and the credentials; shims are looked up by name (shim_path)."""
    return programs_for(None)


def shim_path(progs: Programs, name: str) -> Path:
    return progs.bin_dir / f"tlsclose-shim-{name}"


def peer_cmd(progs: Programs, role: str, tls: str, cipher: str | None = None) -> list[str]:
    cmd = [str(progs.peer), "--role", role, "--tls", tls, "--cert", str(progs.cert),
           "--key", str(progs.key)]
    return cmd + (["--cipher", cipher] if cipher else [])


def sut_cmd(progs: Programs, role: str, tls: str) -> list[str]:
    """The Python SUT double alone (its --io default: memory)."""
    return [sys.executable, str(SUT_PYTHON), "--role", role, "--tls", tls,
            "--cert", str(progs.cert), "--key", str(progs.key)]


def cell(progs: Programs, peer_script: dict, sut_steps: list, *, role: str = "server",
         tls: str = "1.3", cipher: str | None = None, shim: str | None = None,
         io: str = "blocking", connections: int = 1, deadline_ms: int = DEFAULT_DEADLINE_MS,
         transport: str = "fd", wrapper: list[str] | None = None) -> Cell:
    """Runs one cell; role is the PEER's TLS role. The SUT is the Python
    double (its own IO mode) unless shim names one of the project's shims.
    wrapper prefixes the peer's command (valgrind)."""
    sut = [str(shim_path(progs, shim))] if shim else [sys.executable, str(SUT_PYTHON)]
    return run_shim_cell(progs, OTHER_ROLE[role], tls, io if shim else None, sut_steps,
                         peer_script, connections=connections, deadline_ms=deadline_ms,
                         transport=transport, peer_args=["--cipher", cipher] if cipher else (),
                         shim_cmd=sut, peer_prefix=wrapper or ())


def pattern(n: int) -> str:
    """Hex of the first min(n,16) bytes of the i & 0xff pattern."""
    return bytes(i & 0xff for i in range(min(n, 16))).hex()


def wire(c: Cell, direction: str) -> list[tuple]:
    """What went one way on the wire, in order, as short tuples:
    ("data", len), ("alert", level_byte, name), ("handshake", name),
    ("partial", len, bytes_sent), ("tcp", what), ("bad", why).
    Records counted at the takeover (the library's) are left out."""
    out = []
    for e in c.events:
        if e.get("dir") != direction or e.get("takeover"):
            continue
        if e["ev"] == "record":
            if "partial" in e:
                out.append(("partial", e["len"], e["partial"]))
            elif e["type"] == "application_data":
                out.append(("data", e["len"]))
            elif e["type"] == "alert":
                out.append(("alert", e.get("level_byte"), e.get("alert")))
            else:
                out.append((e["type"], e.get("handshake")))
        elif e["ev"] == "tcp":
            out.append(("tcp", e["what"]))
        elif e["ev"] == "bad_record":
            out.append(("bad", e["why"]))
    return out
