"""Helpers for the mock peer's tests: run one cell, read its transcript.

A cell is the peer (build/bin/tlsclose-peer) and a SUT (sut_python.py or a
shim) over loopback TCP, run by harness/cell.py.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.run.processes import CellRun, run_cell  # noqa: E402

SUT_PYTHON = HERE / "sut_python.py"
OTHER = {"client": "server", "server": "client"}
TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
TLS12_SUITES = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-CHACHA20-POLY1305"]
SUITES = [("1.3", s) for s in TLS13_SUITES] + [("1.2", s) for s in TLS12_SUITES]


@dataclasses.dataclass
class Programs:
    peer: pathlib.Path
    cert: pathlib.Path
    key: pathlib.Path
    bin_dir: pathlib.Path

    def shim(self, name: str) -> pathlib.Path:
        return self.bin_dir / f"tlsclose-shim-{name}"


def programs_from_env() -> Programs:
    bin_dir = pathlib.Path(os.environ.get("TLSCLOSE_BIN", ROOT / "build" / "bin"))
    cred = bin_dir.parent / "credentials"
    return Programs(bin_dir / "tlsclose-peer",
                    pathlib.Path(os.environ.get("TLSCLOSE_CERT", cred / "cert.pem")),
                    pathlib.Path(os.environ.get("TLSCLOSE_KEY", cred / "key.pem")),
                    bin_dir)


@dataclasses.dataclass
class Cell:
    run: CellRun

    @property
    def events(self) -> list[dict]:
        return self.run.peer.lines

    def ev(self, event: str, /, **match) -> list[dict]:
        return [e for e in self.events if e.get("ev") == event
                and all(e.get(k) == v for k, v in match.items())]

    def records(self, **match) -> list[dict]:
        return self.ev("record", **match)

    @property
    def steps(self) -> list[dict]:
        return [line for line in self.run.sut.lines if "step" in line and "op" in line]

    def step(self, n: int) -> dict:
        for s in self.steps:
            if s["step"] == n:
                return s
        raise AssertionError(f"SUT printed no line for step {n}: {self.run.sut.lines}\n{self.run.sut.stderr}")

    @property
    def end(self) -> dict:
        ends = self.ev("end")
        assert ends, f"peer printed no end event: {self.events}\n{self.run.peer.stderr}"
        return ends[-1]

    def expects(self, what: str) -> list[dict]:
        return self.ev("expect", what=what)

    def assert_clean(self) -> None:
        """Both processes ended by themselves with exit 0."""
        p, s = self.run.peer, self.run.sut
        assert p.returncode == 0, f"peer rc={p.returncode} {p.stderr}\n{self.events}"
        assert s.returncode == 0, f"SUT rc={s.returncode} {s.stderr}\n{s.lines}"
        assert self.end["status"] == "ok"

    def __str__(self) -> str:
        return "\n".join(["peer:", *map(str, self.events), self.run.peer.stderr, "sut:",
                          *map(str, self.run.sut.lines), self.run.sut.stderr])


def peer_cmd(progs: Programs, role: str, tls: str, cipher: str | None = None) -> list[str]:
    cmd = [str(progs.peer), "--role", role, "--tls", tls, "--cert", str(progs.cert),
           "--key", str(progs.key)]
    return cmd + (["--cipher", cipher] if cipher else [])


def sut_cmd(progs: Programs, role: str, tls: str, shim: str | None = None,
            io: str = "blocking") -> list[str]:
    common = ["--role", role, "--tls", tls, "--cert", str(progs.cert), "--key", str(progs.key)]
    if shim:
        return [str(progs.shim(shim)), *common, "--io", io]
    return [sys.executable, str(SUT_PYTHON), *common]


def cell(progs: Programs, peer_script: dict, sut_steps: list, *, role: str = "server",
         tls: str = "1.3", cipher: str | None = None, shim: str | None = None,
         io: str = "blocking", connections: int = 1, deadline_ms: int = 8000,
         transport: str = "fd", wrapper: list[str] | None = None) -> Cell:
    """Runs one cell; role is the PEER's TLS role. wrapper prefixes the
    peer's command (valgrind)."""
    run = run_cell([*(wrapper or []), *peer_cmd(progs, role, tls, cipher)],
                   sut_cmd(progs, OTHER[role], tls, shim, io),
                   peer_script, sut_steps, connections=connections, deadline_ms=deadline_ms,
                   transport=transport)
    return Cell(run)


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
