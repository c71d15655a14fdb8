"""Helpers for the probe tests: paths, black-box endpoints that are always
killed and reaped, `tlsclose probe` runs, process and socket checks.

There is deliberately no conftest.py here (see tests/reports/reports_testlib.py):
test modules import what they use from this module.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build").resolve()
PYTHON = "/usr/bin/python3"
READY_S = 20          # an endpoint says it listens within this, or the test fails
RUN_S = 300           # a whole probe run

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def require_build() -> None:
    missing = [p for p in (BUILD / "bin" / "tlsclose-peer", BUILD / "credentials" / "cert.pem",
                           BUILD / "credentials" / "key.pem") if not p.exists()]
    if missing:
        pytest.fail("not built: " + ", ".join(map(str, missing)))


def credentials() -> tuple[str, str]:
    return str(BUILD / "credentials" / "cert.pem"), str(BUILD / "credentials" / "key.pem")


def listening_ports(pid: int) -> list[int]:
    """The IPv4 TCP ports process pid listens on (from /proc, no guessing)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:            # 0A: LISTEN
            ports.append(int(f[1].split(":")[1], 16))
    return ports


def port_listened(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def processes_with(token: str) -> list[int]:
    """Live processes whose command line contains token."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmd and state != "Z":
            found.append(int(entry))
    return found


class Endpoint:
    """A server started for one test: its output is read all the time (a
    full pipe would stall it), and leaving the block kills its process group
    and reaps it, whatever happened in between."""

    def __init__(self, argv: list[str], ready: str):
        self.argv, self.ready = argv, re.compile(ready)
        self.lines: list[str] = []
        self.match: re.Match | None = None
        self.seen = threading.Event()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.match is None and (m := self.ready.search(line)):
                self.match = m
                self.seen.set()
        self.seen.set()                                  # ended: stop waiting

    def __enter__(self) -> "Endpoint":
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace",
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            if not self.seen.wait(READY_S) or self.match is None:
                pytest.fail(f"{self.argv[0]} did not start listening: {''.join(self.lines)}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stdin.close()
        self.reader.join(READY_S)
        self.proc.stdout.close()


def s_server() -> Endpoint:
    cert, key = credentials()
    # -accept 127.0.0.1:0 binds a free port and prints it: no port to guess.
    return Endpoint(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert,
                     "-key", key], r"^ACCEPT 127\.0\.0\.1:(\d+)")


def gnutls_serv() -> Endpoint:
    cert, key = credentials()
    # -p 0 binds free ports but prints "port 0": the port comes from /proc.
    return Endpoint(["gnutls-serv", "-p", "0", "--echo", "--x509certfile", cert,
                     "--x509keyfile", key], r"listening on IPv4 .*done")


def probe(out: Path, *args: str, cases_dir: Path | None = None) -> tuple[int, dict | None, str]:
    """Runs `tlsclose probe`; returns the exit status, results.json (None if
    not written) and the combined output."""
    argv = [PYTHON, str(ROOT / "tlsclose"), "probe", "--no-build", "--build-dir", str(BUILD),
            "--out", str(out), *args]
    if cases_dir is not None:
        argv += ["--cases-dir", str(cases_dir)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_S)
    path = out / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else None
    return done.returncode, doc, done.stdout + done.stderr


def verdicts(doc: dict) -> dict[tuple[str, str], str]:
    return {(c["case"], c["tls"]): c["verdict"] for c in doc["cells"]}


def probe_cases(role: str) -> list[tuple[str, str]]:
    """(case, tls) of every cell a probe of the corpus has for an endpoint of this role."""
    from harness.spec import corpus
    cases = corpus.load_cases(corpus.case_files(ROOT / "cases"), ROOT)
    return sorted((c.id, t) for c in cases if c.probe and role in c.probe["roles"]
                  for t in c.probe["tls"])
